// The CityKG REST API, as the page uses it. The key lives in sessionStorage: it survives a
// reload of the tab and is gone when the tab closes; it is only ever sent to this origin.

import {t} from './i18n.js';

const KEY = 'citykg.apiKey';

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.problem = problem || {};
  }
}

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

let onUnauthorized = () => {};

const RETRIES_429 = 4;

/** Resolve after ``ms`` milliseconds, or reject as fetch does when ``signal`` aborts first. */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const done = () => { clearTimeout(timer); reject(new DOMException('aborted', 'AbortError')); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', done); resolve(); }, ms);
    if (signal?.aborted) done(); else signal?.addEventListener('abort', done, {once: true});
  });
}

/** Called with the ApiError when any call answers 401 (the key was revoked or mistyped). */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** Call the API with the stored key; resolves to the JSON answer, rejects with an ApiError. */
export async function api(path, {method = 'GET', body, signal, key} = {}) {
  const headers = {Accept: 'application/json'};
  const useKey = key ?? getKey();
  if (useKey) headers.Authorization = `Bearer ${useKey}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await fetch(path, {method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, '');  // explain() says it in the page's language
    }
    // 429: this key's expensive requests are all running (the page asks for a cascade and its
    // coordination at once while a ranking may still run): wait as the server says, a few times.
    if (response.status !== 429 || attempt >= RETRIES_429) break;
    await pause(Math.min(Number(response.headers.get('Retry-After')) || 1, 10) * 1000, signal);
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      // not a problem+json body (a proxy's error page): keep the status text
    }
    const detail = problem.detail || `${response.status} ${response.statusText}`;
    const error = new ApiError(response.status, detail, problem);
    if (response.status === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }
  return response.json();
}

/**
 * A sentence for an error in the page's language, naming the request field when the server named one.
 * The server's own detail (in English) follows where it says more than the status.
 */
export function explain(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  const detail = error.message;
  const field = error.problem.field || '';
  switch (error.status) {
    case 0: return t('errors.unreachable');
    case 401: return t('errors.unauthorized', {detail});
    case 403: return t('errors.forbidden', {detail});
    case 404: return t('errors.not_found', {detail});
    case 504: return t('errors.timeout', {detail});
    default: return field ? t('errors.field', {detail, field}) : t('errors.other', {detail});
  }
}
