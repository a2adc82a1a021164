// @ts-check
// Every call to the service goes through `api()`, so that authentication (a bearer token) can be added in one place.

export const API_BASE = 'api/v1';

/** @type {string | null} */
let bearerToken = null;

/** Sends `Authorization: Bearer <token>` with every later call; null stops sending it. */
export function setBearerToken(/** @type {string | null} */ token) {
  bearerToken = token;
}

/** Server clock minus browser clock, from the Date header of the last answer (whole seconds). */
let clockSkewMs = 0;

/** The service's time now, as well as the browser can tell: chart axes use it, not the browser's own clock. */
export function serverNow() {
  return Date.now() + clockSkewMs;
}

/** A non-2xx answer, carrying the application/problem+json body when there is one. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{ title?: string, detail?: string, errors?: unknown[] } | null} problem
   * @param {string} path
   */
  constructor(status, problem, path) {
    super(problem?.detail || problem?.title || `HTTP ${status} from ${path}`);
    this.status = status;
    this.problem = problem;
    this.path = path;
  }
}

/**
 * @param {string} path relative to the API base, e.g. `clusters/1/balance`
 * @param {{ method?: string, query?: Record<string, string | number | undefined>, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const url = new URL(`${API_BASE}/${path}`, document.baseURI);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json, application/problem+json' };
  if (bearerToken) headers.Authorization = `Bearer ${bearerToken}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: 'no-store',
  });
  const date = Date.parse(response.headers.get('Date') ?? '');
  // The header has whole seconds: only correct skews larger than that.
  if (Number.isFinite(date)) clockSkewMs = Math.abs(date - Date.now()) > 1500 ? date - Date.now() : 0;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data, path);
  return data;
}
