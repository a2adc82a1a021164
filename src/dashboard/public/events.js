// @ts-check
// The events feed, with who caused each event.
import { $, h, reconcile } from './dom.js';
import { clock } from './format.js';

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
export function renderEvents(page) {
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
