/**
 * Signing requests of every key (`GET /v1/signatures`), filterable by status and key, each with
 * what it signs (a raw message, or a typed intent such as a PSBT), its signers, the parties
 * excluded and why, and its error. `#/requests/<keyId>` opens with that key selected.
 */

import type { Api } from '../api.js';
import { type Key, keyDecoder, type Signature, signatureDecoder } from '../api-types.js';
import { canonicalJson } from '../canonical.js';
import { fill, h } from '../dom.js';
import { shortHex, when } from '../format.js';
import { badge, type Page, type PageContext, page, statusBadge } from '../page.js';

/** The statuses a request can have. */
const STATUSES = ['pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected'] as const;

/** Every key, and every request of every key, newest first. */
async function loadRequests(api: Api, signal: AbortSignal): Promise<{ keys: Key[]; requests: Signature[] }> {
  const keys = await api.all('/v1/keys', 'keys', keyDecoder, { signal });
  const requests = await api.all('/v1/signatures', 'signatures', signatureDecoder, { signal });
  requests.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { keys, requests };
}

/** JSON as the API signs it (canonical), or as it came when it cannot be. */
function jsonText(v: unknown): string {
  try {
    return canonicalJson(v);
  } catch {
    return JSON.stringify(v);
  }
}

function requestRow(r: Signature, keyNames: ReadonlyMap<string, string>): HTMLElement {
  const context = r.context === null ? null : jsonText(r.context);
  // What it signs, in one cell: a raw intent's bytes, or a typed intent's type.
  const what = r.message ?? r.intent.type;
  return h(
    'tr',
    { 'data-request': r.signatureId, 'data-status': r.status },
    h(
      'th',
      { scope: 'row' },
      h(
        'details',
        null,
        h('summary', null, r.signatureId),
        h(
          'dl',
          { class: 'fields' },
          h('dt', null, r.message === null ? `Intent (${r.intent.type})` : 'Message'),
          h('dd', { class: 'hex wrap' }, r.message ?? jsonText(r.intent)),
          h('dt', null, 'Context'),
          h('dd', { class: 'hex wrap' }, context ?? '—'),
          h('dt', null, 'Signature'),
          h('dd', { class: 'hex wrap' }, r.signature ?? '—'),
        ),
      ),
    ),
    h('td', null, h('a', { href: `#/keys/${encodeURIComponent(r.keyId)}` }, keyNames.get(r.keyId) ?? r.keyId)),
    h('td', null, statusBadge(r.status)),
    h('td', null, when(r.createdAt)),
    h('td', null, when(r.completedAt)),
    h('td', null, r.signers === null ? '—' : r.signers.join(', ')),
    h(
      'td',
      { class: 'excluded' },
      r.excluded.length === 0
        ? '—'
        : h(
            'ul',
            null,
            r.excluded.map((x) => h('li', null, h('strong', null, x.partyId), `: ${x.reason}`)),
          ),
    ),
    h('td', null, r.error === null ? '—' : h('span', { title: r.error.message }, badge('bad', r.error.code), ` ${r.error.message}`)),
    h('td', { class: 'hex', title: what }, shortHex(what, 12)),
  );
}

async function render(ctx: PageContext): Promise<void> {
  const { keys, requests } = await loadRequests(ctx.api, ctx.signal);
  const keyNames = new Map(keys.map((k) => [k.keyId, k.label === null ? k.keyId : `${k.label}`]));
  const status = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, 'any status'),
    [...new Set([...STATUSES, ...requests.map((r) => r.status)])].map((s) => h('option', { value: s }, s)),
  );
  const key = h(
    'select',
    { id: 'filter-key' },
    h('option', { value: '' }, 'any key'),
    keys.map((k) => h('option', { value: k.keyId, selected: k.keyId === ctx.arg }, keyNames.get(k.keyId) ?? k.keyId)),
  );
  const text = h('input', { id: 'filter-text', type: 'search', placeholder: 'request id, party or reason' });
  const body = h('tbody');
  const caption = h('caption');
  const apply = () => {
    const needle = text.value.trim().toLowerCase();
    const shown = requests.filter(
      (r) =>
        (status.value === '' || r.status === status.value) &&
        (key.value === '' || r.keyId === key.value) &&
        (needle === '' ||
          r.signatureId.toLowerCase().includes(needle) ||
          (r.signers ?? []).some((p) => p.includes(needle)) ||
          r.excluded.some((x) => x.partyId.includes(needle) || x.reason.toLowerCase().includes(needle))),
    );
    fill(
      body,
      shown.map((r) => requestRow(r, keyNames)),
    );
    const counts = STATUSES.map((s) => `${requests.filter((r) => r.status === s).length} ${s}`).join(', ');
    caption.textContent = `${shown.length} of ${requests.length} requests shown (${counts}), newest first`;
    ctx.status(caption.textContent);
  };
  for (const el of [status, key]) el.addEventListener('change', apply);
  text.addEventListener('input', apply);
  fill(
    ctx.main,
    h('h1', null, 'Requests'),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter requests' },
      h('label', { for: 'filter-status' }, 'Status '),
      status,
      h('label', { for: 'filter-key' }, ' Key '),
      key,
      h('label', { for: 'filter-text' }, ' Text '),
      text,
    ),
    h(
      'table',
      { class: 'list', id: 'requests' },
      caption,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Request', 'Key', 'Status', 'Created', 'Settled', 'Signers', 'Excluded (why)', 'Error', 'Signs'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      body,
    ),
  );
  apply();
}

export const requestsPage: Page = page('requests', 'Requests', render);
