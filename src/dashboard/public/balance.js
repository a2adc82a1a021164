// @ts-check
// The imbalance card (gauge, figures, cluster score and contended VMs) and the hosts' utilization meters.
import { $, bar, h, reconcile, setBar, setText } from './dom.js';
import { pct } from './format.js';
import { state } from './state.js';

/** @param {any} balance */
export function renderBalance(balance) {
  for (const host of balance.hosts) state.hostNames.set(host.hostId, host.hostName);
  const imbalance = balance.imbalance ?? 0;
  const target = balance.target ?? 0;
  $('imbalance').textContent = imbalance.toFixed(3);
  $('target').textContent = target.toFixed(3);
  const badge = $('balanced');
  // Balanced although I is above the target: the rest is the demand estimates' sampling noise.
  const noise = balance.samplingNoise ?? 0;
  const withinNoise = balance.balancedWithinNoise === true;
  badge.textContent = balance.balanced ? (withinNoise ? 'Balanced within sampling noise' : 'Balanced') : 'Unbalanced';
  badge.title = withinNoise ? `${noise.toFixed(3)} of the imbalance is sampling noise of the demand estimates` : '';
  badge.className = `badge ${balance.balanced ? 'ok' : 'warn'}`;

  const scale = Math.max(0.05, imbalance, target) * 1.25;
  const gauge = $('gauge');
  gauge.setAttribute('aria-valuemax', scale.toFixed(3));
  gauge.setAttribute('aria-valuenow', imbalance.toFixed(3));
  gauge.setAttribute(
    'aria-valuetext',
    `imbalance ${imbalance.toFixed(3)}, target ${target.toFixed(3)}, ${balance.balanced ? 'balanced' : 'unbalanced'}`,
  );
  const fill = $('gauge-fill');
  fill.style.width = `${(imbalance / scale) * 100}%`;
  fill.classList.toggle('warn', !balance.balanced);
  $('gauge-target').style.left = `${(target / scale) * 100}%`;

  $('sigma-cpu').textContent = (balance.sigmaCpu ?? 0).toFixed(3);
  $('sigma-memory').textContent = (balance.sigmaMemory ?? 0).toFixed(3);
  $('gap').textContent =
    balance.maxMinGap === undefined || balance.maxMinGap === null
      ? '–'
      : `${pct(balance.maxMinGap)}${balance.gapLimit ? ` (limit ${pct(balance.gapLimit)})` : ''}`;
  $('connected').textContent = `${balance.connectedHosts ?? '–'} of ${balance.hosts.length}`;
  renderContention(balance.contention);
  /** @type {Map<string, number>} */
  const contendedOn = new Map((balance.contention?.hosts ?? []).map((/** @type {any} */ c) => [c.hostId, c.contendedVms]));

  const automation = balance.inputs?.policy?.automationLevel;
  const badgeAuto = $('automation');
  badgeAuto.hidden = !automation;
  badgeAuto.textContent = automation ? `Automation: ${automation}` : '';

  const hosts = [...balance.hosts].sort((a, b) => a.hostName.localeCompare(b.hostName, undefined, { numeric: true }));
  reconcile(
    $('hosts'),
    hosts,
    (host) => host.hostId,
    (host) =>
      h(
        'li',
        { class: 'host' },
        h(
          'div',
          { class: 'host-head' },
          h('span', { class: 'host-name' }),
          h('span', { class: 'badge host-state' }),
          h('span', { class: 'badge bad host-contended' }),
        ),
        h(
          'div',
          { class: 'meter-row' },
          h('span', { class: 'meter-label', text: 'CPU' }),
          bar('meter', `${host.hostName} CPU`),
          h('span', { class: 'pct cpu-pct' }),
        ),
        h(
          'div',
          { class: 'meter-row' },
          h('span', { class: 'meter-label', text: 'Memory' }),
          bar('meter', `${host.hostName} memory`),
          h('span', { class: 'pct mem-pct' }),
        ),
      ),
    (node, host) => {
      setText(node, '.host-name', host.hostName);
      const connected = host.state === 'connected';
      node.classList.toggle('out', !connected);
      const stateBadge = /** @type {HTMLElement} */ (node.querySelector('.host-state'));
      stateBadge.hidden = connected;
      stateBadge.textContent = host.state;
      stateBadge.className = `badge host-state ${host.state === 'disconnected' ? 'bad' : 'maint'}`;
      const short = contendedOn.get(host.hostId) ?? 0;
      const shortBadge = /** @type {HTMLElement} */ (node.querySelector('.host-contended'));
      shortBadge.hidden = short === 0;
      shortBadge.textContent = short === 1 ? '1 VM short' : `${short} VMs short`;
      const [cpuBar, memBar] = node.querySelectorAll('.bar');
      cpuBar.setAttribute('aria-label', `${host.hostName} CPU`);
      memBar.setAttribute('aria-label', `${host.hostName} memory`);
      setBar(cpuBar, host.cpu * 100);
      setBar(memBar, host.memory * 100);
      setText(node, '.cpu-pct', pct(host.cpu));
      setText(node, '.mem-pct', pct(host.memory));
    },
  );
  $('hosts-empty').hidden = hosts.length > 0;
}

/**
 * The cluster score and the contended VMs. A score just under 100 is not rounded up to 100: some VM is short then.
 * @param {any} contention absent from a server older than this page
 */
function renderContention(contention) {
  const score = $('score');
  const contended = $('contended');
  if (!contention) {
    score.textContent = '–';
    contended.textContent = '–';
    return;
  }
  score.textContent = contention.score >= 100 ? '100' : Math.min(99.9, Math.round(contention.score * 10) / 10).toFixed(1);
  contended.textContent = `${contention.contendedVms} of ${contention.poweredOnVms}`;
  contended.classList.toggle('short', contention.contendedVms > 0);
  score.classList.toggle('short', contention.contendedVms > 0);
}
