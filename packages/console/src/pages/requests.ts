/**
 * Signing requests of every key (`GET /v1/signatures?status=`), filtered by status at the
 * coordinator and by key and text here, each with what it signs (a raw message, or a typed intent
 * such as a PSBT, decoded in the browser when the row is opened), its approvals, its signers, the
 * parties excluded and why, and its error. `#/requests/<keyId>` opens with that key selected.
 */

import type { Api } from '../api.js';
import { type Key, keyDecoder, type Signature, signatureDecoder } from '../api-types.js';
import { canonicalJson } from '../canonical.js';
import { fill, h } from '../dom.js';
import type { Subtle } from '../ed25519.js';
import { shortHex, when } from '../format.js';
import { intentPanel, networkChooser, readIntent } from '../intent-panel.js';
import { badge, type Page, type PageContext, page, problemBox, statusBadge } from '../page.js';
import { loadNetwork } from '../settings.js';

/** The statuses a request can have. */
const STATUSES = ['pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected'] as const;

/** The requests of every key in `status` (any when empty), newest first. */
export async function loadRequests(api: Api, status: string, signal: AbortSignal): Promise<Signature[]> {
  const query = status === '' ? '' : `?status=${encodeURIComponent(status)}`;
  const requests = await api.all(`/v1/signatures${query}`, 'signatures', signatureDecoder, { signal });
  return requests.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** What the approvals of a request stand at: each group's count against its minimum, or the approvals it carries. */
function approvalsCell(r: Signature): HTMLElement | string {
  if (r.approvalStatus) {
    return h(
      'span',
      { class: 'approval-status' },
      r.approvalStatus.groups.map((g) => badge(g.have >= g.min ? 'ok' : 'warn', `${g.group} ${g.have}/${g.min}`)),
      ` rule ${r.approvalStatus.ruleId}, policy v${r.approvalStatus.policyVersion}`,
    );
  }
  const n = r.approvals?.length ?? 0;
  return n === 0 ? '—' : `${n} approval${n === 1 ? '' : 's'}`;
}

/** JSON as the API signs it (canonical), or as it came when it cannot be. */
function jsonText(v: unknown): string {
  try {
    return canonicalJson(v);
  } catch {
    return JSON.stringify(v);
  }
}

function requestRow(r: Signature, keys: ReadonlyMap<string, Key>, subtle: Subtle): HTMLElement {
  const context = r.context === null ? null : jsonText(r.context);
  // What it signs, in one cell: a raw intent's bytes, or a typed intent's type.
  const what = r.message ?? r.intent.type;
  const decoded = h('div', { class: 'decoded' }, h('p', { class: 'loading' }, 'Reading the intent…'));
  const details = h(
    'details',
    null,
    h('summary', null, r.signatureId),
    decoded,
    h(
      'dl',
      { class: 'fields request-fields' },
      h('dt', null, r.message === null ? `Intent (${r.intent.type})` : 'Message'),
      h('dd', { class: 'hex wrap' }, r.message ?? jsonText(r.intent)),
      h('dt', null, 'Context'),
      h('dd', { class: 'hex wrap' }, context ?? '—'),
      h('dt', null, 'Signature'),
      h('dd', { class: 'hex wrap' }, r.signature ?? '—'),
    ),
  );
  // Decoded when opened: a PSBT needs the reader (vendor/psbt.js), loaded only then.
  details.addEventListener('toggle', () => {
    if (!details.open || decoded.dataset.read === 'yes') return;
    decoded.dataset.read = 'yes';
    readIntent(subtle, r.intent, keys.get(r.keyId), loadNetwork()).then(
      (reading) => fill(decoded, intentPanel(reading)),
      (e: unknown) => fill(decoded, h('p', { class: 'alarm' }, e instanceof Error ? e.message : String(e))),
    );
  });
  const key = keys.get(r.keyId);
  return h(
    'tr',
    { 'data-request': r.signatureId, 'data-status': r.status },
    h('th', { scope: 'row' }, details),
    h('td', null, h('a', { href: `#/keys/${encodeURIComponent(r.keyId)}` }, key?.label ?? r.keyId)),
    h('td', null, statusBadge(r.status)),
    h('td', null, when(r.createdAt)),
    h('td', null, when(r.completedAt)),
    h('td', { class: 'approvals' }, approvalsCell(r)),
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
  const keys = await ctx.api.all('/v1/keys', 'keys', keyDecoder, { signal: ctx.signal });
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  const status = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const key = h(
    'select',
    { id: 'filter-key' },
    h('option', { value: '' }, 'any key'),
    keys.map((k) => h('option', { value: k.keyId, selected: k.keyId === ctx.arg }, k.label ?? k.keyId)),
  );
  const text = h('input', { id: 'filter-text', type: 'search', placeholder: 'request id, party or reason' });
  const body = h('tbody');
  const caption = h('caption');
  let requests: Signature[] = [];
  const apply = () => {
    const needle = text.value.trim().toLowerCase();
    const shown = requests.filter(
      (r) =>
        (key.value === '' || r.keyId === key.value) &&
        (needle === '' ||
          r.signatureId.toLowerCase().includes(needle) ||
          (r.signers ?? []).some((p) => p.includes(needle)) ||
          r.excluded.some((x) => x.partyId.includes(needle) || x.reason.toLowerCase().includes(needle))),
    );
    fill(
      body,
      shown.map((r) => requestRow(r, byId, ctx.subtle)),
    );
    const which = status.value === '' ? 'requests' : `${status.value} requests`;
    caption.textContent = `${shown.length} of ${requests.length} ${which} shown, newest first`;
    ctx.status(caption.textContent);
  };
  // The status filter asks the coordinator (GET /v1/signatures?status=); key and text filter here.
  const reload = async () => {
    caption.textContent = 'Loading…';
    const asked = status.value;
    const got = await loadRequests(ctx.api, asked, ctx.signal);
    if (asked !== status.value) return;
    requests = got;
    apply();
  };
  status.addEventListener('change', () => {
    reload().catch((e: unknown) => fill(body, h('tr', null, h('td', { colspan: 10 }, problemBox(e)))));
  });
  key.addEventListener('change', apply);
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
      ' ',
      networkChooser(() => apply()),
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
          ...['Request', 'Key', 'Status', 'Created', 'Settled', 'Approvals', 'Signers', 'Excluded (why)', 'Error', 'Signs'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      body,
    ),
  );
  await reload();
}

export const requestsPage: Page = page('requests', 'Requests', render);
