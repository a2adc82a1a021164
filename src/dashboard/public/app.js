// @ts-check
// The dashboard page: polls the JSON API of one cluster and renders it. Lists are updated in place
// (keyed by id), so a button under the pointer survives a refresh.
import { api, ApiError, serverNow, setBearerToken } from './api.js';
import { renderChart } from './chart.js';

const REFRESH_MS = 2500;
/** While a migration runs, refresh faster so that its progress bar moves. */
const REFRESH_IN_FLIGHT_MS = 1000;
const PASSES_IN_CHART = 100;
const MIGRATIONS_IN_CHART = 200;
const EVENTS_SHOWN = 30;
const FINISHED_SHOWN = 6;

/** @type {{ clusterId: string | null, clusters: { id: string, name: string }[], generation: number, timer: number | undefined,
 *   abort: AbortController | null, vmNames: Map<string, string>, hostNames: Map<string, string>, cycles: number, inFlight: number,
 *   waitingForToken: boolean }} */
const state = {
  clusterId: null,
  clusters: [],
  generation: 0,
  timer: undefined,
  abort: null,
  vmNames: new Map(),
  hostNames: new Map(),
  cycles: 0,
  inFlight: 0,
  waitingForToken: false,
};

const TOKEN_KEY = 'drs-api-token';

// ---------------------------------------------------------------- small DOM helpers

/** @param {string} id */
function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/**
 * @param {string} tag
 * @param {{ class?: string, text?: string, attrs?: Record<string, string> }} [props]
 * @param {(Node | string)[]} children
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

/**
 * Makes `list`'s children match `items` in order, reusing the element of each key.
 * @template T
 * @param {HTMLElement} list
 * @param {T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => HTMLElement} create
 * @param {(node: HTMLElement, item: T) => void} update
 */
function reconcile(list, items, keyOf, create, update) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(list.children))
    existing.set(/** @type {HTMLElement} */ (child).dataset.key ?? '', /** @type {HTMLElement} */ (child));
  /** @type {Element | null} */
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    let node = existing.get(key);
    if (node) existing.delete(key);
    else {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    /** @type {Element | null} */
    const expected = previous ? previous.nextElementSibling : list.firstElementChild;
    if (expected !== node) list.insertBefore(node, expected);
    previous = node;
  }
  for (const stale of existing.values()) stale.remove();
}

/** Sets the text of the first descendant matching `selector`. */
function setText(/** @type {Element} */ root, /** @type {string} */ selector, /** @type {string} */ text) {
  const node = root.querySelector(selector);
  if (node && node.textContent !== text) node.textContent = text;
}

const pct = (/** @type {number} */ fraction) => `${(fraction * 100).toFixed(1)} %`;
const clock = (/** @type {number} */ ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const hostName = (/** @type {string} */ id) => state.hostNames.get(id) ?? id.slice(0, 8);
const vmName = (/** @type {string} */ id) => state.vmNames.get(id) ?? id.slice(0, 8);

/** How long ago `ms` was on the service's clock, or the local date and time once it is more than a day. */
function ago(/** @type {number} */ ms) {
  const seconds = Math.max(0, (serverNow() - ms) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
}

/** @param {number | null | undefined} seconds */
function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** A meter bar: `role` meter for utilization, progressbar for migrations. */
function bar(/** @type {string} */ role, /** @type {string} */ label) {
  return h(
    'div',
    { class: 'bar', attrs: { role, 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' } },
    h('div', { class: 'fill' }),
  );
}

/** @param {Element} node @param {number} percent 0..100 (more allowed, shown as over) */
function setBar(node, percent, valueText = `${percent.toFixed(1)} %`) {
  const safe = Number.isFinite(percent) ? percent : 0;
  node.setAttribute('aria-valuenow', safe.toFixed(1));
  node.setAttribute('aria-valuetext', valueText);
  const fill = /** @type {HTMLElement} */ (node.querySelector('.fill'));
  fill.style.width = `${Math.min(100, Math.max(0, safe))}%`;
  fill.classList.toggle('hot', safe >= 85 && safe <= 100);
  fill.classList.toggle('over', safe > 100);
}

// ---------------------------------------------------------------- messages

function showAlert(/** @type {string | null} */ message) {
  const alert = $('alert');
  alert.hidden = message === null;
  alert.textContent = message ?? '';
}

/** @type {number | undefined} */
let noticeTimer;
function notify(/** @type {string} */ message) {
  $('notice').textContent = message;
  clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => ($('notice').textContent = ''), 8000);
}

/** @param {unknown} error */
function describe(error) {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

// ---------------------------------------------------------------- clusters and the URL hash

function clusterFromHash() {
  const match = /(?:^#|&)cluster=([^&]+)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function loadClusters() {
  const page = await api('clusters', { query: { limit: 1000 } });
  /** @type {{ id: string, name: string }[]} */
  const clusters = page.items.map((/** @type {any} */ c) => ({ id: c.id, name: c.name }));
  clusters.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  state.clusters = clusters;
  const select = /** @type {HTMLSelectElement} */ ($('cluster'));
  const same =
    select.options.length === clusters.length &&
    clusters.every((c, i) => select.options[i].value === c.id && select.options[i].text === c.name);
  if (!same) select.replaceChildren(...clusters.map((c) => new Option(c.name, c.id)));
  select.disabled = clusters.length === 0;
  $('no-clusters').hidden = clusters.length > 0;
  $('content').hidden = clusters.length === 0;
}

function chooseCluster() {
  const wanted = clusterFromHash();
  const chosen = state.clusters.find((c) => c.id === wanted) ?? state.clusters[0] ?? null;
  const select = /** @type {HTMLSelectElement} */ ($('cluster'));
  if (chosen) select.value = chosen.id;
  if ((chosen?.id ?? null) !== state.clusterId) {
    state.clusterId = chosen?.id ?? null;
    state.generation++;
    state.abort?.abort();
    clearClusterViews();
  }
  if (chosen && wanted !== chosen.id) history.replaceState(null, '', `#cluster=${encodeURIComponent(chosen.id)}`);
}

function clearClusterViews() {
  for (const id of ['hosts', 'recs', 'migs', 'done', 'events', 'chart']) $(id).replaceChildren();
  state.hostNames.clear();
  $('automation').hidden = true;
  $('connector').hidden = true;
  $('connector-error').hidden = true;
  $('connector-balanced').hidden = true;
  $('connector-notes').hidden = true;
  $('updated').textContent = 'Loading…';
}

// ---------------------------------------------------------------- renderers

/** @param {any} balance */
function renderBalance(balance) {
  for (const host of balance.hosts) state.hostNames.set(host.hostId, host.hostName);
  const imbalance = balance.imbalance ?? 0;
  const target = balance.target ?? 0;
  $('imbalance').textContent = imbalance.toFixed(3);
  $('target').textContent = target.toFixed(3);
  const badge = $('balanced');
  badge.textContent = balance.balanced ? 'Balanced' : 'Unbalanced';
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

const CONNECTOR_BADGES = { ok: 'ok', degraded: 'bad', unknown: 'muted' };

/**
 * The cluster's connector: its kind, ok or degraded (and why), and its last sync. `null`: the cluster has none, its
 * inventory comes through the API; `undefined`: this token may not read it, so nothing is shown rather than a guess.
 * @param {any} connector
 */
function renderConnector(connector) {
  const line = $('connector');
  line.hidden = connector === undefined;
  const degraded = connector?.state === 'degraded';
  $('connector-error').hidden = !degraded;
  $('connector-balanced').hidden = !connector?.balancedBy;
  if (connector?.balancedBy) setText($('connector-balanced'), '#connector-balanced-text', connector.balancedBy);
  const notes = Array.isArray(connector?.notes) ? connector.notes.join(' ') : '';
  $('connector-notes').hidden = notes === '';
  if (notes) setText($('connector-notes'), '#connector-notes-text', notes);
  if (!connector) {
    setText(line, '#connector-kind', 'Manual inventory');
    line.title = 'No connector: hosts, VMs and samples come through the API';
    $('connector-state').hidden = true;
    $('connector-sync').hidden = true;
    return;
  }
  setText(line, '#connector-kind', `${connector.kind} connector`);
  line.title = '';
  const badge = $('connector-state');
  badge.hidden = false;
  badge.textContent = connector.state;
  badge.className = `badge ${CONNECTOR_BADGES[/** @type {keyof typeof CONNECTOR_BADGES} */ (connector.state)] ?? 'muted'}`;
  badge.title = connector.state === 'unknown' ? 'No sync or collection has finished yet' : '';
  if (degraded) setText($('connector-error'), '#connector-error-text', connector.lastError ?? 'no reason given');

  $('connector-sync').hidden = false;
  const time = $('connector-sync-time');
  if (connector.lastSyncAt === null || connector.lastSyncAt === undefined) {
    time.textContent = 'not yet';
    time.removeAttribute('datetime');
    time.removeAttribute('title');
  } else {
    const iso = new Date(connector.lastSyncAt).toISOString();
    time.textContent = ago(connector.lastSyncAt);
    time.setAttribute('datetime', iso);
    time.title = iso;
  }
}

/** @param {any} page */
function renderRecommendations(page) {
  for (const rec of page.items) state.vmNames.set(rec.vmId, rec.vmName);
  $('recs-count').textContent = page.total > 0 ? `(${page.total})` : '';
  reconcile(
    $('recs'),
    page.items,
    (/** @type {any} */ rec) => rec.id,
    (rec) => {
      const apply = h('button', { class: 'apply', text: 'Apply', attrs: { type: 'button' } });
      const dismiss = h('button', { class: 'dismiss secondary', text: 'Dismiss', attrs: { type: 'button' } });
      apply.addEventListener('click', () => void decide(rec, 'apply', apply, dismiss));
      dismiss.addEventListener('click', () => void decide(rec, 'dismiss', apply, dismiss));
      return h(
        'li',
        { class: 'rec' },
        h(
          'div',
          { class: 'rec-head' },
          h('span', { class: 'prio' }),
          h('strong', { class: 'vm' }),
          h('span', { class: 'route' }),
          h('span', { class: 'badge reason' }),
        ),
        h('p', { class: 'explanation' }),
        h('div', { class: 'actions' }, apply, dismiss),
      );
    },
    (node, rec) => {
      const route = `${hostName(rec.fromHostId)} → ${hostName(rec.toHostId)}`;
      const prio = /** @type {HTMLElement} */ (node.querySelector('.prio'));
      prio.textContent = `P${rec.priority}`;
      prio.title = rec.priority === 1 ? 'Priority 1: mandatory' : `Priority ${rec.priority} (1 most urgent, 5 least)`;
      prio.className = `prio p${rec.priority}`;
      setText(node, '.vm', rec.vmName);
      setText(node, '.route', route);
      setText(node, '.reason', rec.reason);
      setText(node, '.explanation', rec.explanation);
      node.querySelector('.apply')?.setAttribute('aria-label', `Apply: move ${rec.vmName} from ${route}`);
      node.querySelector('.dismiss')?.setAttribute('aria-label', `Dismiss: move ${rec.vmName} from ${route}`);
    },
  );
  $('recs-empty').hidden = page.items.length > 0;
}

/**
 * @param {any} rec
 * @param {'apply' | 'dismiss'} action
 * @param {HTMLElement} apply
 * @param {HTMLElement} dismiss
 */
async function decide(rec, action, apply, dismiss) {
  apply.setAttribute('disabled', '');
  dismiss.setAttribute('disabled', '');
  try {
    await api(`recommendations/${encodeURIComponent(rec.id)}/${action}`, { method: 'POST' });
    notify(
      action === 'apply'
        ? `Applied: ${rec.vmName} moves from ${hostName(rec.fromHostId)} to ${hostName(rec.toHostId)}.`
        : `Dismissed the move of ${rec.vmName}.`,
    );
  } catch (error) {
    notify(`Could not ${action} the move of ${rec.vmName}: ${describe(error)}`);
    apply.removeAttribute('disabled');
    dismiss.removeAttribute('disabled');
  }
  void refreshNow();
}

/** @param {any[]} migrations */
function renderInFlight(migrations) {
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
function renderFinished(finished) {
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

/**
 * Who caused an event: the API token that made the change, `local` while access control was off, or
 * nobody (background work: scheduled passes, a migration running on).
 * @param {{ type: 'token', id: string, name: string, role: string } | { type: 'local' } | null | undefined} actor
 */
function actorText(actor) {
  if (!actor) return '';
  return actor.type === 'token' ? `by ${actor.name} (${actor.role})` : 'by local user';
}

/** @param {any} page */
function renderEvents(page) {
  reconcile(
    $('events'),
    page.items,
    (/** @type {any} */ e) => String(e.id),
    (e) => {
      const severity = /failed|error|refused|blocked/.test(e.type) ? 'bad' : /succeeded|completed|applied/.test(e.type) ? 'ok' : '';
      return h(
        'li',
        { class: `event ${severity}` },
        h('time', { text: clock(e.timestamp), attrs: { datetime: new Date(e.timestamp).toISOString() } }),
        h('span', { class: 'event-type', text: e.type }),
        h(
          'span',
          { class: 'event-message', text: e.message },
          ...(e.actor
            ? [
                ' ',
                h('span', {
                  class: 'event-actor',
                  text: actorText(e.actor),
                  attrs: e.actor.type === 'token' ? { title: `token ${e.actor.id}` } : {},
                }),
              ]
            : []),
        ),
      );
    },
    () => {},
  );
  $('events-empty').hidden = page.items.length > 0;
}

/** Fetches names of VMs that recommendations did not name (a migration carries only the VM's id). */
async function learnVmNames(/** @type {string[]} */ ids, /** @type {AbortSignal} */ signal) {
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

// ---------------------------------------------------------------- the API token

/** The service wants a token (or refused the one given): ask for one, and pause refreshing until then. */
function askForToken(/** @type {string} */ why) {
  state.waitingForToken = true;
  clearTimeout(state.timer);
  const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  setBearerToken(null);
  const error = $('token-error');
  error.hidden = !hadToken;
  error.textContent = hadToken ? `The token was refused: ${why}` : '';
  $('token-form').hidden = false;
  $('content').hidden = true;
  showAlert(null);
  /** @type {HTMLInputElement} */ ($('token-input')).focus();
}

function useToken(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('token-input'));
  const token = input.value.trim();
  if (!token) return;
  input.value = '';
  // Kept for this browser tab only, never in the URL.
  sessionStorage.setItem(TOKEN_KEY, token);
  setBearerToken(token);
  state.waitingForToken = false;
  $('token-form').hidden = true;
  state.cycles = 0;
  void refreshNow();
}

/** @param {unknown} error */
const unauthenticated = (error) => error instanceof ApiError && error.status === 401;

// ---------------------------------------------------------------- the refresh loop

/**
 * The cluster's connector; null when it has none (404), undefined when this token may not read it (403). Neither is a
 * failure of the page: most clusters have no connector.
 */
async function loadConnector(/** @type {string} */ id, /** @type {AbortSignal} */ signal) {
  try {
    return await api(`clusters/${id}/connector`, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    if (error instanceof ApiError && error.status === 403) return undefined;
    throw error;
  }
}

async function refresh() {
  const clusterId = state.clusterId;
  if (!clusterId) return;
  const generation = state.generation;
  state.abort = new AbortController();
  const signal = state.abort.signal;
  const id = encodeURIComponent(clusterId);
  const calls = {
    balance: api(`clusters/${id}/balance`, { signal }),
    passes: api(`clusters/${id}/passes`, { query: { limit: PASSES_IN_CHART }, signal }),
    recommendations: api('recommendations', { query: { clusterId, status: 'pending', limit: 100 }, signal }),
    inFlight: api('migrations', { query: { clusterId, state: 'queued,running', limit: 100 }, signal }),
    history: api('migrations', { query: { clusterId, limit: MIGRATIONS_IN_CHART }, signal }),
    events: api('events', { query: { clusterId, limit: EVENTS_SHOWN }, signal }),
    connector: loadConnector(id, signal),
  };
  const names = /** @type {(keyof typeof calls)[]} */ (Object.keys(calls));
  const settled = await Promise.allSettled(Object.values(calls));
  if (generation !== state.generation) return;
  /** @type {Record<string, any>} */
  const result = {};
  /** @type {string[]} */
  const failures = [];
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') result[names[i]] = outcome.value;
    else failures.push(`${names[i]}: ${describe(outcome.reason)}`);
  });
  const refused = settled.find((o) => o.status === 'rejected' && unauthenticated(o.reason));
  if (refused && refused.status === 'rejected') {
    askForToken(describe(refused.reason));
    return;
  }
  if (settled[0].status === 'rejected' && settled[0].reason instanceof ApiError && settled[0].reason.status === 404) {
    // The cluster is gone: pick another one.
    await loadClusters();
    chooseCluster();
    return;
  }

  const migrations = [...(result.inFlight?.items ?? []), ...(result.history?.items ?? [])];
  await learnVmNames(
    migrations.map((m) => m.vmId),
    signal,
  );
  if (generation !== state.generation) return;

  if (result.balance) renderBalance(result.balance);
  if (result.recommendations) renderRecommendations(result.recommendations);
  if (result.inFlight) {
    renderInFlight([...result.inFlight.items].reverse());
    state.inFlight = result.inFlight.total;
  }
  if (result.history) {
    const finished = result.history.items.filter((/** @type {any} */ m) => m.finishedAt !== null);
    finished.sort((/** @type {any} */ a, /** @type {any} */ b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
    renderFinished(finished.slice(0, FINISHED_SHOWN));
  }
  if (result.events) renderEvents(result.events);
  if ('connector' in result) renderConnector(result.connector);
  if (result.passes || result.history || result.balance) {
    renderChart(/** @type {HTMLElement} */ ($('chart')), {
      passes: result.passes?.items ?? [],
      migrations: (result.history?.items ?? []).map((/** @type {any} */ m) => ({
        id: m.id,
        state: m.state,
        startedAt: m.startedAt,
        finishedAt: m.finishedAt,
        createdAt: m.createdAt,
        label: `${vmName(m.vmId)} ${hostName(m.sourceHostId)} → ${hostName(m.targetHostId)}`,
      })),
      now: serverNow(),
      imbalance: result.balance?.imbalance ?? null,
      target: result.balance?.target ?? null,
    });
  }
  showAlert(failures.length > 0 ? `Some data could not be loaded — ${failures.join('; ')}` : null);
  $('updated').textContent = `Updated ${clock(Date.now())}`;
}

/** @type {Promise<void> | null} */
let cycleRunning = null;
let cycleAgain = false;

/** One refresh, then the next one scheduled; a call during a refresh runs another right after it. */
async function cycle() {
  if (cycleRunning) {
    cycleAgain = true;
    return cycleRunning;
  }
  clearTimeout(state.timer);
  cycleRunning = (async () => {
    try {
      if (state.cycles++ % 10 === 0 || !state.clusterId) {
        await loadClusters();
        chooseCluster();
      }
      await refresh();
    } catch (error) {
      if (unauthenticated(error)) askForToken(describe(error));
      else if (!(error instanceof DOMException && error.name === 'AbortError')) showAlert(`The service did not answer: ${describe(error)}`);
    }
  })();
  await cycleRunning;
  cycleRunning = null;
  if (state.waitingForToken) return;
  if (cycleAgain) {
    cycleAgain = false;
    return cycle();
  }
  state.timer = window.setTimeout(() => void cycle(), state.inFlight > 0 ? REFRESH_IN_FLIGHT_MS : REFRESH_MS);
}

/** Refreshes at once (after an action or a change of cluster), then keeps the usual rhythm. */
function refreshNow() {
  return cycle();
}

function start() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) setBearerToken(saved);
  $('token-form').addEventListener('submit', useToken);
  const select = /** @type {HTMLSelectElement} */ ($('cluster'));
  select.addEventListener('change', () => {
    location.hash = `cluster=${encodeURIComponent(select.value)}`;
  });
  window.addEventListener('hashchange', () => {
    chooseCluster();
    void refreshNow();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refreshNow();
  });
  void cycle();
}

start();
