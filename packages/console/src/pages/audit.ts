/**
 * The audit log, its hash chain checked in this browser (audit-chain.ts) from the first event to
 * the last, and the anchors the user recorded (heads kept in this browser, as `glacis audit verify
 * --anchor` takes them from wherever the desk keeps them). A broken chain is an alert naming the
 * first bad event. Events are listed newest first, filterable by type.
 */
import { type AuditEvent, auditEventDecoder } from '../api-types.js';
import { type ChainPoint, type ChainVerdict, checkAnchors, parseAnchor, verifyAuditChain } from '../audit-chain.js';
import { canonicalJson } from '../canonical.js';
import { fill, h } from '../dom.js';
import { isConsoleError } from '../errors.js';
import { shortHex, when } from '../format.js';
import { badge, type Page, type PageContext, page, problemBox } from '../page.js';
import { loadAnchors, saveAnchors } from '../trust-store.js';

/** Events shown at most; the chain check always covers all of them. */
const SHOWN = 1000;

function verdictBox(v: ChainVerdict, anchors: number): HTMLElement {
  if (v.ok) {
    return h(
      'div',
      { class: 'verified', role: 'status', id: 'chain-verdict' },
      badge('ok', '✔ chain verified'),
      ` ${v.events} events checked in this browser, each hash recomputed and linked to the one before${anchors > 0 ? `, and ${anchors} anchor${anchors === 1 ? '' : 's'} still in place` : ''}. Head: event ${v.headSeq}, `,
      h('code', { class: 'hex' }, v.head),
    );
  }
  return h(
    'div',
    { class: 'alarm', role: 'alert', id: 'chain-verdict' },
    h('strong', null, `AUDIT CHAIN BROKEN at event ${v.brokenAt}`),
    h('p', null, v.reason),
    h('p', null, 'The coordinator’s history was edited, or events were removed or reordered, after they were written.'),
  );
}

function dataText(data: unknown): string {
  try {
    return canonicalJson(data);
  } catch {
    return JSON.stringify(data);
  }
}

async function render(ctx: PageContext): Promise<void> {
  const events: AuditEvent[] = await ctx.api.all('/v1/audit', 'events', auditEventDecoder, { signal: ctx.signal });
  const anchors = loadAnchors();
  const hashes = new Map(events.map((e) => [e.seq, e.hash]));
  const verdict = checkAnchors(await verifyAuditChain(ctx.subtle, events), (seq) => hashes.get(seq), anchors);

  const anchorInput = h('input', { id: 'anchor', placeholder: 'SEQ:HASH', spellcheck: 'false', size: 40 });
  const anchorError = h('p', { class: 'alarm', role: 'alert', hidden: true });
  const rerender = () => {
    void render(ctx).catch((e: unknown) => fill(ctx.main, h('h1', null, 'Audit log'), problemBox(e)));
  };
  const setAnchors = (next: ChainPoint[]) => {
    saveAnchors(next);
    rerender();
  };
  const anchorForm = h(
    'form',
    { method: 'post', class: 'inline' },
    h('label', { for: 'anchor' }, 'Add an anchor '),
    anchorInput,
    h('button', { type: 'submit' }, 'Add'),
    anchorError,
  );
  anchorForm.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      const a = parseAnchor(anchorInput.value);
      setAnchors([...anchors.filter((x) => x.seq !== a.seq), a]);
    } catch (e) {
      anchorError.hidden = false;
      anchorError.textContent = isConsoleError(e) ? e.message : String(e);
    }
  });
  const recordHead = h('button', { type: 'button', disabled: !verdict.ok }, 'Record the current head as an anchor');
  recordHead.addEventListener('click', () => {
    if (verdict.ok) setAnchors([...anchors.filter((x) => x.seq !== verdict.headSeq), { seq: verdict.headSeq, hash: verdict.head }]);
  });

  const types = [...new Set(events.map((e) => e.type))].sort();
  const typeFilter = h(
    'select',
    { id: 'filter-type' },
    h('option', { value: '' }, 'every type'),
    types.map((t) => h('option', { value: t }, t)),
  );
  const body = h('tbody');
  const caption = h('caption');
  const apply = () => {
    const shown = events.filter((e) => typeFilter.value === '' || e.type === typeFilter.value).reverse();
    fill(
      body,
      shown
        .slice(0, SHOWN)
        .map((e) =>
          h(
            'tr',
            { 'data-seq': e.seq, class: !verdict.ok && e.seq === verdict.brokenAt ? 'row-untrusted' : null },
            h('th', { scope: 'row' }, String(e.seq)),
            h('td', null, when(e.at)),
            h('td', null, e.type),
            h('td', { class: 'hex wrap' }, dataText(e.data)),
            h('td', { class: 'hex', title: e.hash }, shortHex(e.hash, 16)),
          ),
        ),
    );
    caption.textContent = `${shown.length} of ${events.length} events${shown.length > SHOWN ? ` (the newest ${SHOWN} shown)` : ''}, newest first`;
  };
  typeFilter.addEventListener('change', apply);

  fill(
    ctx.main,
    h('h1', null, 'Audit log'),
    verdictBox(verdict, anchors.length),
    h('h2', null, 'Anchors'),
    h(
      'p',
      null,
      'An anchor is a head you recorded earlier: a rewritten history no longer holds it. Keep a copy where the coordinator cannot write — this browser’s storage is the coordinator’s origin.',
    ),
    anchors.length === 0
      ? h('p', null, 'No anchors yet.')
      : h(
          'ul',
          { class: 'anchors' },
          anchors.map((a) => {
            const remove = h('button', { type: 'button', class: 'small' }, 'Remove');
            remove.addEventListener('click', () => setAnchors(anchors.filter((x) => x.seq !== a.seq)));
            return h('li', null, h('code', { class: 'hex' }, `${a.seq}:${a.hash}`), ' ', remove);
          }),
        ),
    h('p', null, recordHead),
    anchorForm,
    h('h2', null, 'Events'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' }, h('label', { for: 'filter-type' }, 'Type '), typeFilter),
    h(
      'table',
      { class: 'list', id: 'events' },
      caption,
      h('thead', null, h('tr', null, ...['Seq', 'Time', 'Type', 'Data', 'Hash'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
  );
  apply();
  ctx.status(verdict.ok ? `audit chain verified: ${verdict.events} events` : `audit chain broken at event ${verdict.brokenAt}`);
}

export const auditPage: Page = page('audit', 'Audit log', render);
