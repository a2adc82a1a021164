// @ts-check
// The cluster picker: the list of clusters, the one chosen in the URL hash, and clearing the views on a change.
import { api } from './api.js';
import { $ } from './dom.js';
import { state } from './state.js';

function clusterFromHash() {
  const match = /(?:^#|&)cluster=([^&]+)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

export async function loadClusters() {
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

export function chooseCluster() {
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
