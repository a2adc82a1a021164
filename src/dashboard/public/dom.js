// @ts-check
// Small DOM helpers: element lookup and creation, keyed in-place list updates, meter bars, and the page's messages.

// ---------------------------------------------------------------- small DOM helpers

/** Asks the page to refresh now (app.js listens): for modules the refresh loop itself renders, which must not import it. */
export function requestRefresh() {
  document.dispatchEvent(new Event('dashboard-refresh'));
}

/** @param {string} id */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/**
 * @param {string} tag
 * @param {{ class?: string, text?: string, attrs?: Record<string, string> }} [props]
 * @param {(Node | string)[]} children
 */
export function h(tag, props = {}, ...children) {
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
export function reconcile(list, items, keyOf, create, update) {
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
export function setText(/** @type {Element} */ root, /** @type {string} */ selector, /** @type {string} */ text) {
  const node = root.querySelector(selector);
  if (node && node.textContent !== text) node.textContent = text;
}

/** A meter bar: `role` meter for utilization, progressbar for migrations. */
export function bar(/** @type {string} */ role, /** @type {string} */ label) {
  return h(
    'div',
    { class: 'bar', attrs: { role, 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' } },
    h('div', { class: 'fill' }),
  );
}

/** @param {Element} node @param {number} percent 0..100 (more allowed, shown as over) */
export function setBar(node, percent, valueText = `${percent.toFixed(1)} %`) {
  const safe = Number.isFinite(percent) ? percent : 0;
  node.setAttribute('aria-valuenow', safe.toFixed(1));
  node.setAttribute('aria-valuetext', valueText);
  const fill = /** @type {HTMLElement} */ (node.querySelector('.fill'));
  fill.style.width = `${Math.min(100, Math.max(0, safe))}%`;
  fill.classList.toggle('hot', safe >= 85 && safe <= 100);
  fill.classList.toggle('over', safe > 100);
}

// ---------------------------------------------------------------- messages

export function showAlert(/** @type {string | null} */ message) {
  const alert = $('alert');
  alert.hidden = message === null;
  alert.textContent = message ?? '';
}

/** @type {number | undefined} */
let noticeTimer;
export function notify(/** @type {string} */ message) {
  $('notice').textContent = message;
  clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => ($('notice').textContent = ''), 8000);
}
