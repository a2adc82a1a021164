// @ts-check
// The cluster's connector line in the header and its banners (degraded, balanced by the platform, notes).
import { $, setText } from './dom.js';
import { ago } from './format.js';

const CONNECTOR_BADGES = { ok: 'ok', degraded: 'bad', unknown: 'muted' };

/**
 * The cluster's connector: its kind, ok or degraded (and why), and its last sync. `null`: the cluster has none, its
 * inventory comes through the API; `undefined`: this token may not read it, so nothing is shown rather than a guess.
 * @param {any} connector
 */
export function renderConnector(connector) {
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
