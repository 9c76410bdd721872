/**
 * The user's API token: in this page's memory, and in sessionStorage only if the user asks to stay
 * logged in for this tab (it dies with the tab, and no other tab or site sees it). Never in
 * localStorage, a cookie or a URL: the console sends it only as `Authorization: Bearer`, to the
 * origin that served the page.
 */

const KEY = 'glacis.console.token';

let token: string | null = null;

/** The token, from memory or this tab's sessionStorage. */
export function currentToken(storage: Storage | undefined = globalThis.sessionStorage): string | null {
  if (token === null) token = storage?.getItem(KEY) ?? null;
  return token;
}

/** Logs in with `value`; `remember` keeps it in this tab's sessionStorage across reloads. */
export function startSession(value: string, remember: boolean, storage: Storage | undefined = globalThis.sessionStorage): void {
  token = value;
  if (remember) storage?.setItem(KEY, value);
  else storage?.removeItem(KEY);
}

/** Forgets the token everywhere the console put it. */
export function endSession(storage: Storage | undefined = globalThis.sessionStorage): void {
  token = null;
  storage?.removeItem(KEY);
}
