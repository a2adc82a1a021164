// @ts-check
// A small SVG time chart: the imbalance measured at each pass, the target, passes as dots and
// migrations as bars in a lane below (start to finish). No dependency.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 260;
const PAD = { left: 52, right: 16, top: 14, bottom: 58 };
const LANE_HEIGHT = 14;
const MIN_SPAN_MS = 20_000;
/** Room left of the first mark, as a share of the span shown. */
const LEAD_IN = 0.05;

/**
 * @typedef {{ startedAt: number, finishedAt: number | null, trigger: string, status: string, imbalanceBefore: number | null,
 *   imbalanceAfter: number | null, target: number | null, movesRecommended: number, movesApplied: number }} Pass
 * @typedef {{ id: string, state: string, startedAt: string | null, finishedAt: string | null, createdAt: string, label: string }} MigrationMark
 * @typedef {{ passes: Pass[], migrations: MigrationMark[], now: number, imbalance: number | null, target: number | null }} ChartData
 */

/**
 * @param {string} name
 * @param {Record<string, string | number>} [attrs]
 * @param {string} [text]
 */
function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {number} ms */
function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

/** About `count` round tick values from 0 to at least max. */
function ticks(/** @type {number} */ max, /** @type {number} */ count) {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out = [];
  // up to the first tick at or above max, so that every value fits under the top line
  for (let i = 0; i === 0 || out[out.length - 1] < max; i++) out.push(Number((i * step).toFixed(6)));
  return out;
}

/**
 * Replaces the content of `box` with the chart.
 * @param {HTMLElement} box
 * @param {ChartData} data
 */
export function renderChart(box, data) {
  const passes = data.passes.filter((p) => p.imbalanceBefore !== null).sort((a, b) => a.startedAt - b.startedAt);
  const migrations = data.migrations
    .map((m) => ({ ...m, from: Date.parse(m.startedAt ?? m.createdAt), to: m.finishedAt ? Date.parse(m.finishedAt) : data.now }))
    .filter((m) => Number.isFinite(m.from));

  const times = [...passes.map((p) => p.startedAt), ...migrations.map((m) => m.from), data.now];
  let start = Math.min(...times);
  const end = data.now;
  if (end - start < MIN_SPAN_MS) start = end - MIN_SPAN_MS;
  start -= (end - start) * LEAD_IN;

  const values = [...passes.map((p) => /** @type {number} */ (p.imbalanceBefore)), data.imbalance ?? 0, data.target ?? 0];
  const yTicks = ticks(Math.max(0.05, ...values) * 1.1, 4);
  const yMax = yTicks[yTicks.length - 1];

  const plotBottom = HEIGHT - PAD.bottom;
  const x = (/** @type {number} */ t) => PAD.left + ((t - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  const y = (/** @type {number} */ v) => plotBottom - (v / yMax) * (plotBottom - PAD.top);

  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart-svg' });
  const summary =
    passes.length === 0
      ? 'No pass recorded yet.'
      : `Imbalance at ${passes.length} pass(es) from ${clock(passes[0].startedAt)}: first ${passes[0].imbalanceBefore?.toFixed(3)}, ` +
        `last ${passes[passes.length - 1].imbalanceBefore?.toFixed(3)}; now ${data.imbalance?.toFixed(3) ?? 'unknown'}, target ${data.target?.toFixed(3) ?? 'unknown'}; ` +
        `${migrations.length} migration(s) shown.`;
  svg.setAttribute('aria-label', summary);
  svg.append(el('title', {}, summary));

  // grid and axes
  for (const v of yTicks) {
    svg.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, v.toFixed(yMax < 0.2 ? 3 : 2)));
  }
  const xCount = 5;
  for (let i = 0; i <= xCount; i++) {
    const t = start + ((end - start) * i) / xCount;
    svg.append(
      el(
        'text',
        { x: x(t), y: plotBottom + 14, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === xCount ? 'end' : 'middle' },
        clock(t),
      ),
    );
  }

  // target (the current one, as a dashed line)
  if (data.target !== null) {
    svg.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(data.target), y2: y(data.target), class: 'target-line' }));
    svg.append(el('text', { x: WIDTH - PAD.right - 2, y: y(data.target) - 4, class: 'tick target-label', 'text-anchor': 'end' }, 'target'));
  }

  // the imbalance line: each pass's measured imbalance, then the current one
  const points = passes.map((p) => [x(p.startedAt), y(/** @type {number} */ (p.imbalanceBefore))]);
  if (data.imbalance !== null) points.push([x(data.now), y(data.imbalance)]);
  if (points.length > 1) {
    svg.append(el('polyline', { points: points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '), class: 'imbalance-line' }));
  }
  if (data.imbalance !== null) {
    const now = el('circle', { cx: x(data.now), cy: y(data.imbalance), r: 3.5, class: 'now-dot' });
    now.append(el('title', {}, `Now: imbalance ${data.imbalance.toFixed(3)}`));
    svg.append(now);
  }

  // passes
  for (const p of passes) {
    const dot = el('circle', {
      cx: x(p.startedAt),
      cy: y(/** @type {number} */ (p.imbalanceBefore)),
      r: 5,
      class: p.movesApplied > 0 ? 'pass-dot' : 'pass-dot idle',
    });
    const after = p.imbalanceAfter === null ? '' : ` → predicted ${p.imbalanceAfter.toFixed(3)}`;
    dot.append(
      el(
        'title',
        {},
        `Pass (${p.trigger}, ${p.status}) at ${clock(p.startedAt)}: imbalance ${p.imbalanceBefore?.toFixed(3)}${after}; ` +
          `${p.movesRecommended} move(s) recommended, ${p.movesApplied} applied`,
      ),
    );
    svg.append(dot);
  }

  // migrations: a lane under the time axis, one bar per migration from start to finish
  const laneTop = plotBottom + 24;
  svg.append(el('text', { x: PAD.left - 6, y: laneTop + LANE_HEIGHT - 3, class: 'tick', 'text-anchor': 'end' }, 'moves'));
  svg.append(el('rect', { x: PAD.left, y: laneTop, width: WIDTH - PAD.left - PAD.right, height: LANE_HEIGHT, class: 'lane' }));
  for (const m of migrations) {
    const left = Math.max(PAD.left, x(m.from));
    const bar = el('rect', {
      x: left,
      y: laneTop + 2,
      width: Math.max(3, x(m.to) - left),
      height: LANE_HEIGHT - 4,
      class: `mig-mark ${m.state}`,
    });
    bar.append(el('title', {}, `${m.label}: ${m.state}, ${clock(m.from)}${m.finishedAt ? ` – ${clock(m.to)}` : ''}`));
    svg.append(bar);
    svg.append(el('line', { x1: x(m.from), x2: x(m.from), y1: PAD.top, y2: plotBottom, class: 'mig-rule' }));
  }

  box.replaceChildren(svg);
}
