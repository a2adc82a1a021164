// @ts-check
// The dashboard page: polls the JSON API of one cluster and renders it. Lists are updated in place
// (keyed by id), so a button under the pointer survives a refresh.
import { setBearerToken } from './api.js';
import { chooseCluster } from './clusters.js';
import { $ } from './dom.js';
import { cycle, refreshNow } from './refresh.js';
import { TOKEN_KEY, useToken } from './token.js';

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
  document.addEventListener('dashboard-refresh', () => void refreshNow());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refreshNow();
  });
  void cycle();
}

start();
