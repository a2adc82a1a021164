// @ts-check
// The refresh loop: every few seconds (faster while a migration runs), load the cluster's data and render it.
import { api, ApiError, serverNow } from './api.js';
import { renderBalance } from './balance.js';
import { renderChart } from './chart.js';
import { chooseCluster, loadClusters } from './clusters.js';
import { renderConnector } from './connector.js';
import { $, showAlert } from './dom.js';
import { renderEvents } from './events.js';
import { clock, describe } from './format.js';
import { learnVmNames, renderFinished, renderInFlight } from './migrations.js';
import { renderRecommendations } from './recommendations.js';
import { hostName, state, vmName } from './state.js';
import { askForToken, unauthenticated } from './token.js';

const REFRESH_MS = 2500;
/** While a migration runs, refresh faster so that its progress bar moves. */
const REFRESH_IN_FLIGHT_MS = 1000;
const PASSES_IN_CHART = 100;
const MIGRATIONS_IN_CHART = 200;
const EVENTS_SHOWN = 30;
const FINISHED_SHOWN = 6;

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
export async function cycle() {
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
export function refreshNow() {
  return cycle();
}
