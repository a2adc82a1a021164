// @ts-check
// Pending recommendations, with their Apply and Dismiss buttons.
import { api } from './api.js';
import { $, h, notify, reconcile, requestRefresh, setText } from './dom.js';
import { describe } from './format.js';
import { hostName, state } from './state.js';

/** @param {any} page */
export function renderRecommendations(page) {
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
  requestRefresh();
}
