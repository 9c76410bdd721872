/**
 * What every page gets and is. A page renders into `main` from the API and the user's pins; it
 * stops its work (fetches, refresh timers) when `signal` aborts, which happens when the user leaves
 * it. Pages are listed in `pages/index.ts`: the Approvals and Air gap pages plug in there.
 */
import type { Api } from './api.js';
import { fill, h } from './dom.js';
import type { Subtle } from './ed25519.js';
import { isConsoleError } from './errors.js';

/** The services a page uses. */
export interface PageContext {
  readonly api: Api;
  readonly subtle: Subtle;
  /** Where the page renders. */
  readonly main: HTMLElement;
  /** What follows the page's id in the location (`#/keys/<keyId>` → the key id), decoded. */
  readonly arg: string | undefined;
  /** Aborted when the user leaves the page. */
  readonly signal: AbortSignal;
  /** Says something to screen readers and sighted users alike (a polite live region). */
  status(text: string): void;
  /** Runs `fn` every `ms` until the page is left. */
  every(ms: number, fn: () => Promise<void>): void;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A page of the console. */
export interface Page {
  /** Its location, `#/<id>`. */
  readonly id: string;
  /** Its name in the navigation and its heading. */
  readonly title: string;
  render(ctx: PageContext): Promise<void>;
}

/** A problem a page hit, worded for the user: a 403 says the token's role may not read this. */
export function problemBox(e: unknown): HTMLElement {
  if (isConsoleError(e, 'http') && e.status === 403) {
    return h('p', { class: 'notice' }, 'Your token’s role may not read this (', e.message, ').');
  }
  const text = e instanceof Error ? e.message : String(e);
  return h('p', { class: 'alarm', role: 'alert' }, 'Could not load this page: ', text);
}

/** A status badge: the word is always there, colour only repeats it. */
export function badge(kind: 'ok' | 'bad' | 'warn' | 'busy' | 'muted', text: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** The badge of a request, operation or key status. */
export function statusBadge(status: string): HTMLElement {
  switch (status) {
    case 'completed':
    case 'active':
      return badge('ok', status);
    case 'failed':
    case 'rejected':
      return badge('bad', status);
    case 'pending':
    case 'signing':
      return badge('busy', status);
    default:
      return badge('warn', status);
  }
}

/** A page whose failures (but for leaving it) replace it with the problem, under its heading. */
export function page(id: string, title: string, render: (ctx: PageContext) => Promise<void>): Page {
  return {
    id,
    title,
    async render(ctx) {
      try {
        await render(ctx);
      } catch (e) {
        if (!ctx.signal.aborted) fill(ctx.main, h('h1', null, title), problemBox(e));
      }
    },
  };
}
