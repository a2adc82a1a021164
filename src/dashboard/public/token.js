// @ts-check
// The API token: asked for when the service wants one, kept in this tab's sessionStorage.
import { ApiError, setBearerToken } from './api.js';
import { $, requestRefresh, showAlert } from './dom.js';
import { state } from './state.js';

export const TOKEN_KEY = 'drs-api-token';

/** The service wants a token (or refused the one given): ask for one, and pause refreshing until then. */
export function askForToken(/** @type {string} */ why) {
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

export function useToken(/** @type {SubmitEvent} */ event) {
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
  requestRefresh();
}

/** @param {unknown} error */
export const unauthenticated = (error) => error instanceof ApiError && error.status === 401;
