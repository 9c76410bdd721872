/**
 * Operations: any one by its id (`GET /v1/operations/{id}`, every role), and for tokens that may
 * read the audit log, every operation the log names (a DKG's id is in its `key_requested` event),
 * with its current status. `#/operations/<id>` opens one.
 */
import { auditEventDecoder, type Operation, operationDecoder } from '../api-types.js';
import { fill, h } from '../dom.js';
import { isConsoleError } from '../errors.js';
import { when } from '../format.js';
import { badge, type Page, type PageContext, page, problemBox, statusBadge } from '../page.js';

const row = (o: Operation) =>
  h(
    'tr',
    { 'data-operation': o.operationId },
    h('th', { scope: 'row' }, h('a', { href: `#/operations/${encodeURIComponent(o.operationId)}` }, o.operationId)),
    h('td', null, o.type),
    h('td', null, h('a', { href: `#/keys/${encodeURIComponent(o.keyId)}` }, o.keyId)),
    h('td', null, statusBadge(o.status)),
    h('td', null, when(o.createdAt)),
    h('td', null, when(o.completedAt)),
    h('td', null, o.error === null ? '—' : h('span', null, badge('bad', o.error.code), ` ${o.error.message}`)),
  );

const table = (caption: string, ops: readonly Operation[]) =>
  h(
    'table',
    { class: 'list' },
    h('caption', null, caption),
    h(
      'thead',
      null,
      h('tr', null, ...['Operation', 'Type', 'Key', 'Status', 'Created', 'Settled', 'Error'].map((c) => h('th', { scope: 'col' }, c))),
    ),
    h('tbody', null, ops.map(row)),
  );

/** The operation ids the audit log names, oldest first; undefined if the token may not read it. */
async function operationIdsFromAudit(ctx: PageContext): Promise<string[] | undefined> {
  try {
    const events = await ctx.api.all('/v1/audit', 'events', auditEventDecoder, { signal: ctx.signal });
    const ids = events.flatMap((e) => {
      const id = typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>).operationId : undefined;
      return typeof id === 'string' ? [id] : [];
    });
    return [...new Set(ids)];
  } catch (e) {
    if (isConsoleError(e, 'http') && e.status === 403) return undefined;
    throw e;
  }
}

async function render(ctx: PageContext): Promise<void> {
  const input = h('input', { id: 'operation-id', name: 'operation', required: true, spellcheck: 'false', value: ctx.arg ?? '' });
  const result = h('div', { id: 'operation-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { method: 'post', class: 'inline' },
    h('label', { for: 'operation-id' }, 'Operation id '),
    input,
    h('button', { type: 'submit' }, 'Look up'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (id !== '') window.location.hash = `#/operations/${encodeURIComponent(id)}`;
  });
  const list = h('div', null, h('p', null, 'Reading the audit log for operations…'));
  fill(ctx.main, h('h1', null, 'Operations'), form, result, h('h2', null, 'Operations in the audit log'), list);

  if (ctx.arg !== undefined) {
    try {
      const op = await ctx.api.get(`/v1/operations/${encodeURIComponent(ctx.arg)}`, operationDecoder, ctx.signal);
      fill(result, table(`Operation ${op.operationId}`, [op]));
    } catch (e) {
      fill(result, isConsoleError(e, 'http') && e.status === 404 ? h('p', { class: 'notice' }, `No operation ${ctx.arg}.`) : problemBox(e));
    }
  }
  const ids = await operationIdsFromAudit(ctx);
  if (ids === undefined) {
    fill(list, h('p', { class: 'notice' }, 'Your token may not read the audit log: look operations up by id.'));
    return;
  }
  const ops: Operation[] = [];
  for (const id of ids) ops.push(await ctx.api.get(`/v1/operations/${encodeURIComponent(id)}`, operationDecoder, ctx.signal));
  ops.reverse();
  fill(list, table(`${ops.length} operations (key generations, refreshes, repairs, reshares, drills), newest first`, ops));
  ctx.status(`${ops.length} operations loaded`);
}

export const operationsPage: Page = page('operations', 'Operations', render);
