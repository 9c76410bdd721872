/**
 * The console's entry point: logged out, the login form; logged in, the page the location names
 * (`#/<page>/<arg>`), rendered with the user's token. Leaving a page aborts its work. Logging out
 * forgets the token and reloads, so nothing fetched with it stays in memory.
 */
import { createApi } from './api.js';
import { fill, h } from './dom.js';
import { browserSubtle } from './ed25519.js';
import { isConsoleError } from './errors.js';
import type { PageContext } from './page.js';
import { PAGES } from './pages/index.js';
import { renderLogin } from './pages/login.js';
import { currentToken, endSession } from './session.js';

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html has no #${id}`);
  return el as T;
};

const main = byId<HTMLElement>('main');
const nav = byId<HTMLElement>('nav');
const session = byId<HTMLElement>('session');
const live = byId<HTMLElement>('status');
let leave: AbortController | undefined;

function route(): { id: string; arg: string | undefined } {
  const [, id, ...rest] = window.location.hash.split('/');
  const arg = rest.length === 0 ? undefined : decodeURIComponent(rest.join('/'));
  return { id: id ?? '', arg: arg === '' ? undefined : arg };
}

function logOut(notice?: string): void {
  endSession();
  leave?.abort();
  if (notice === undefined) {
    // A fresh document: nothing read with the token survives in this page's memory.
    window.location.hash = '';
    window.location.reload();
    return;
  }
  showLogin(notice);
}

function showLogin(notice?: string): void {
  nav.hidden = true;
  session.hidden = true;
  renderLogin(main, () => show(), notice);
}

function show(): void {
  const token = currentToken();
  if (token === null) {
    showLogin();
    return;
  }
  leave?.abort();
  const controller = new AbortController();
  leave = controller;
  const { id, arg } = route();
  const page = PAGES.find((p) => p.id === id) ?? (PAGES[0] as (typeof PAGES)[number]);
  nav.hidden = false;
  session.hidden = false;
  fill(
    nav,
    h(
      'ul',
      null,
      PAGES.map((p) => h('li', null, h('a', { href: `#/${p.id}`, 'aria-current': p.id === page.id ? 'page' : null }, p.title))),
    ),
  );
  document.title = `${page.title} — Glacis console`;
  fill(main, h('h1', null, page.title), h('p', { class: 'loading' }, 'Loading…'));
  const ctx: PageContext = {
    api: createApi(token, { onUnauthorized: () => logOut('The coordinator no longer accepts your token: log in again.') }),
    subtle: browserSubtle(),
    main,
    arg,
    signal: controller.signal,
    status: (text) => {
      live.textContent = text;
    },
    every: (ms, fn) => {
      const timer = window.setInterval(() => {
        fn().catch(onError);
      }, ms);
      controller.signal.addEventListener('abort', () => window.clearInterval(timer));
    },
    now: () => Date.now(),
  };
  page.render(ctx).catch(onError);
}

function onError(e: unknown): void {
  if (isConsoleError(e, 'http') && e.status === 401) logOut('The coordinator no longer accepts your token: log in again.');
  else if ((e as { name?: unknown } | null)?.name !== 'AbortError') live.textContent = e instanceof Error ? e.message : String(e);
}

byId<HTMLButtonElement>('logout').addEventListener('click', () => logOut());
window.addEventListener('hashchange', () => {
  // In-page links (the skip link) are not pages.
  if (window.location.hash === '' || window.location.hash.startsWith('#/')) show();
});
show();
