// @ts-check
// Migrations in flight (with progress bars) and recently finished, and the names of the VMs they move.
import { api } from './api.js';
import { $, bar, h, reconcile, setBar, setText } from './dom.js';
import { clock, duration } from './format.js';
import { hostName, state, vmName } from './state.js';

/** @param {any[]} migrations */
export function renderInFlight(migrations) {
  $('migs-count').textContent = migrations.length > 0 ? `(${migrations.length})` : '';
  reconcile(
    $('migs'),
    migrations,
    (m) => m.id,
    () =>
      h(
        'li',
        { class: 'mig' },
        h(
          'div',
          { class: 'mig-head' },
          h('strong', { class: 'vm' }),
          h('span', { class: 'route' }),
          h('span', { class: 'badge mig-state' }),
        ),
        bar('progressbar', 'Migration'),
        h('div', { class: 'mig-meta' }),
      ),
    (node, m) => {
      const name = vmName(m.vmId);
      setText(node, '.vm', name);
      setText(node, '.route', `${hostName(m.sourceHostId)} → ${hostName(m.targetHostId)}`);
      const badge = /** @type {HTMLElement} */ (node.querySelector('.mig-state'));
      badge.textContent = m.state;
      badge.className = `badge mig-state ${m.state}`;
      const percent = m.progress?.percent ?? 0;
      const progress = /** @type {Element} */ (node.querySelector('.bar'));
      progress.setAttribute('aria-label', `Migration of ${name}`);
      setBar(progress, percent, `${Math.round(percent)} %`);
      progress.classList.toggle('queued', m.state === 'queued');
      const meta = [`${Math.round(percent)} %`];
      if (m.state === 'running') {
        if (m.progress?.round !== null && m.progress?.round !== undefined) meta.push(`pre-copy round ${m.progress.round}`);
        if (m.progress?.etaSeconds !== null && m.progress?.etaSeconds !== undefined) meta.push(`ETA ${duration(m.progress.etaSeconds)}`);
      } else {
        meta.push('waiting for a slot');
      }
      if (m.attempts > 1) meta.push(`attempt ${m.attempts} of ${m.maxAttempts}`);
      meta.push(`${(m.memoryMib / 1024).toFixed(1)} GiB`, m.trigger);
      setText(node, '.mig-meta', meta.join(' · '));
    },
  );
  $('migs-empty').hidden = migrations.length > 0;
}

/** @param {any[]} finished */
export function renderFinished(finished) {
  reconcile(
    $('done'),
    finished,
    (m) => m.id,
    () =>
      h(
        'li',
        { class: 'done' },
        h('span', { class: 'badge mig-state' }),
        h('strong', { class: 'vm' }),
        h('span', { class: 'route' }),
        h('span', { class: 'done-meta' }),
      ),
    (node, m) => {
      const badge = /** @type {HTMLElement} */ (node.querySelector('.mig-state'));
      badge.textContent = m.state;
      badge.className = `badge mig-state ${m.state}`;
      setText(node, '.vm', vmName(m.vmId));
      setText(node, '.route', `${hostName(m.sourceHostId)} → ${hostName(m.targetHostId)}`);
      const when = m.finishedAt ? clock(Date.parse(m.finishedAt)) : '';
      const detail =
        m.state === 'succeeded'
          ? `in ${duration(m.durationSeconds)}${m.downtimeMs !== null ? `, ${Math.round(m.downtimeMs)} ms switch-over` : ''}`
          : (m.error ?? '');
      setText(node, '.done-meta', [when, detail].filter(Boolean).join(' · '));
    },
  );
  $('done-empty').hidden = finished.length > 0;
}

/** Fetches names of VMs that recommendations did not name (a migration carries only the VM's id). */
export async function learnVmNames(/** @type {string[]} */ ids, /** @type {AbortSignal} */ signal) {
  const unknown = [...new Set(ids)].filter((id) => !state.vmNames.has(id)).slice(0, 20);
  await Promise.all(
    unknown.map(async (id) => {
      try {
        const vm = await api(`vms/${encodeURIComponent(id)}`, { signal });
        state.vmNames.set(id, vm.name);
      } catch {
        // A VM removed meanwhile keeps its short id, and is not asked for again.
        if (!signal.aborted) state.vmNames.set(id, id.slice(0, 8));
      }
    }),
  );
}
