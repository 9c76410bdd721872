/**
 * Approvals: an approver loads an Ed25519 key into this page — opened from a `glacis` signer key
 * file, or generated here by WebCrypto and offered as such a file, sealed under a passphrase — then
 * reviews each request awaiting approval as the browser reads it (the intent decoded with the
 * parties' own reader, the context, the key's certificate against the user's pins) and approves or
 * rejects it. An approval is the key's signature over the approval digest (approval-digest.ts,
 * docs/api.md), made in this page and posted; the key stays in this page's memory
 * (approver-session.ts). Decisions made here are followed until the request settles.
 */
import type { Api } from '../api.js';
import { type Key, keyDecoder, policyVersionDecoder, type Signature, signatureDecoder } from '../api-types.js';
import { approvalDigest } from '../approval-digest.js';
import { type ApproverSession, currentApprover, myDecisions, recordDecision, setApprover } from '../approver-session.js';
import { canonicalJson } from '../canonical.js';
import { verifyKeyCertificate } from '../certificate.js';
import { fill, h, saveLink } from '../dom.js';
import { ConsoleError } from '../errors.js';
import { fingerprint, when } from '../format.js';
import { fromHex, toHex } from '../hex.js';
import { type IntentReading, intentPanel, networkChooser, readIntent } from '../intent-panel.js';
import { badge, type Page, type PageContext, page, problemBox, statusBadge } from '../page.js';
import { loadNetwork } from '../settings.js';
import { createSignerKey, openSignerKeyFile } from '../signer-key.js';
import { loadPins } from '../trust-store.js';
import { verdictBadge } from './keys.js';

const SETTLED = new Set(['completed', 'failed', 'rejected']);
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

/** A problem as one line for a form's error slot. */
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The approval for `r` with `session`'s key, signed here and posted. */
async function approve(ctx: PageContext, session: ApproverSession, r: Signature, minutes: number): Promise<Signature> {
  const policyVersion = r.approvalStatus?.policyVersion ?? (await ctx.api.get('/v1/policy', policyVersionDecoder, ctx.signal)).version;
  if (policyVersion === null) throw new ConsoleError('invalid_intent', 'no policy has been distributed: there is nothing to approve under');
  const terms = { policyVersion, nonce: toHex(random(16)), expiresAt: new Date(ctx.now() + minutes * 60_000).toISOString() };
  const digest = await approvalDigest(ctx.subtle, { keyId: r.keyId, intent: r.intent, context: r.context, ...terms });
  const signature = toHex(await session.key.sign(digest));
  return ctx.api.post(
    `/v1/signatures/${encodeURIComponent(r.signatureId)}/approvals`,
    { approverKey: session.key.publicKey, signature, ...terms },
    signatureDecoder,
    { idempotencyKey: `approve-${terms.nonce}`, signal: ctx.signal },
  );
}

/** The key section: what is loaded, or the two ways to load one. */
async function keySection(ctx: PageContext, onChange: () => void): Promise<HTMLElement> {
  const session = currentApprover();
  if (session !== null) {
    const link = saveLink(
      'save-key',
      `approver-${session.key.publicKey.slice(0, 8)}.json`,
      'Save the encrypted key file',
      () => new Blob([`${JSON.stringify(session.file, null, 2)}\n`], { type: 'application/json' }),
    );
    const forget = h('button', { type: 'button', id: 'forget-key', class: 'small' }, 'Forget this key');
    forget.addEventListener('click', () => {
      setApprover(null);
      onChange();
    });
    return h(
      'section',
      { id: 'approver-key', 'aria-labelledby': 'approver-key-h' },
      h('h2', { id: 'approver-key-h' }, 'Your approval key'),
      h(
        'dl',
        { class: 'fields' },
        h('dt', null, 'Public key'),
        h('dd', { class: 'hex wrap', id: 'approver-public-key' }, session.key.publicKey),
        h('dt', null, 'Fingerprint'),
        h('dd', { class: 'hex' }, await fingerprint(ctx.subtle, fromHex(session.key.publicKey, 'publicKey'))),
        h('dt', null, 'Role'),
        h('dd', null, session.key.role),
        h('dt', null, 'Held'),
        h('dd', null, 'in this page’s memory only, not extractable: a reload or log-out forgets it'),
      ),
      session.file !== null
        ? h(
            'p',
            { class: 'notice' },
            'Generated in this page. Save its encrypted file and give the public key to your policy administrators: it approves nothing until the policy names it. ',
            link,
          )
        : null,
      forget,
    );
  }

  const file = h('input', { id: 'key-file', type: 'file', accept: '.json,application/json', required: true });
  const passphrase = h('input', { id: 'key-passphrase', type: 'password', autocomplete: 'off', required: true });
  const openError = h('p', { class: 'alarm', id: 'key-error', role: 'alert', hidden: true });
  const open = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'open-key-h' },
    h('h3', { id: 'open-key-h' }, 'Open a key file'),
    h('p', null, 'A key file written by ', h('code', null, 'glacis approver create'), ' or saved from this page, and its passphrase.'),
    h('label', { for: 'key-file' }, 'Key file'),
    file,
    h('label', { for: 'key-passphrase' }, 'Passphrase'),
    passphrase,
    h('button', { type: 'submit' }, 'Open key'),
    openError,
  );
  open.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const picked = file.files?.[0];
    if (picked === undefined) return;
    openError.hidden = true;
    ctx.status('Opening the key file (scrypt takes a moment)…');
    picked
      .text()
      .then((text) => openSignerKeyFile(ctx.subtle, text, passphrase.value))
      .then((key) => {
        passphrase.value = '';
        if (key.role !== 'approver') throw new ConsoleError('invalid_key_file', `this file holds a ${key.role} key, not an approver’s`);
        setApprover({ key, origin: 'imported', file: null });
        onChange();
      })
      .catch((e: unknown) => {
        openError.textContent = message(e);
        openError.hidden = false;
      });
  });

  const first = h('input', { id: 'new-passphrase', type: 'password', autocomplete: 'new-password', minlength: 12, required: true });
  const again = h('input', { id: 'new-passphrase-again', type: 'password', autocomplete: 'new-password', required: true });
  const makeError = h('p', { class: 'alarm', id: 'generate-error', role: 'alert', hidden: true });
  const make = h(
    'form',
    { class: 'grid-form', 'aria-labelledby': 'new-key-h' },
    h('h3', { id: 'new-key-h' }, 'Generate a new key'),
    h('p', null, 'Made by this browser’s WebCrypto and sealed under the passphrase in the CLI’s format (scrypt, XChaCha20-Poly1305).'),
    h('label', { for: 'new-passphrase' }, 'Passphrase (12 characters or more)'),
    first,
    h('label', { for: 'new-passphrase-again' }, 'Passphrase again'),
    again,
    h('button', { type: 'submit' }, 'Generate key'),
    makeError,
  );
  make.addEventListener('submit', (ev) => {
    ev.preventDefault();
    makeError.hidden = true;
    if (first.value !== again.value) {
      makeError.textContent = 'The two passphrases differ.';
      makeError.hidden = false;
      return;
    }
    ctx.status('Generating and sealing the key (scrypt takes a moment)…');
    createSignerKey(ctx.subtle, first.value, 'approver', random)
      .then(({ key, file: sealed }) => {
        first.value = '';
        again.value = '';
        setApprover({ key, origin: 'generated', file: sealed });
        onChange();
      })
      .catch((e: unknown) => {
        makeError.textContent = message(e);
        makeError.hidden = false;
      });
  });
  return h(
    'section',
    { id: 'approver-key', 'aria-labelledby': 'approver-key-h' },
    h('h2', { id: 'approver-key-h' }, 'Your approval key'),
    h(
      'p',
      { class: 'notice' },
      'No approval key is loaded in this page. It stays in this page’s memory and is never sent to the coordinator.',
    ),
    h('div', { class: 'key-forms' }, open, make),
  );
}

/** The refusal that stops an approval, if any. */
function blocker(session: ApproverSession | null, reading: IntentReading, trusted: boolean | undefined, r: Signature): string | null {
  if (session === null) return 'load your approval key first';
  if (!reading.ok) return 'the key cannot sign this intent';
  if (trusted === false) return 'the key’s certificate does NOT verify';
  if ((r.approvals ?? []).some((a) => a.approverKey === session.key.publicKey)) return 'you approved it already';
  return null;
}

async function requestCard(ctx: PageContext, r: Signature, key: Key | undefined, onDecided: () => void): Promise<HTMLElement> {
  const session = currentApprover();
  const pins = loadPins();
  const pinned = Object.keys(pins).length > 0;
  const verdict = key !== undefined && pinned ? await verifyKeyCertificate(ctx.subtle, key, pins) : undefined;
  const reading = await readIntent(ctx.subtle, r.intent, key, loadNetwork());
  const stop = blocker(session, reading, verdict?.ok, r);
  const minutes = h('input', {
    type: 'number',
    class: 'expires',
    min: 1,
    max: 10_080,
    value: 60,
    'aria-label': 'Approval valid for (minutes)',
  });
  const reason = h('input', {
    type: 'text',
    class: 'reason',
    maxlength: 1024,
    placeholder: 'why (for the audit log)',
    'aria-label': 'Reason to reject',
  });
  const approveButton = h('button', { type: 'button', class: 'approve', disabled: stop !== null }, 'Approve');
  const rejectButton = h('button', { type: 'button', class: 'reject danger' }, 'Reject');
  const outcome = h('p', { class: 'outcome', role: 'status' });
  const decided = (kind: 'approved' | 'rejected', s: Signature) => {
    recordDecision({ signatureId: r.signatureId, kind, status: s.status });
    onDecided();
  };
  const fail = (e: unknown) => {
    outcome.replaceChildren(problemBox(e));
    approveButton.disabled = stop !== null;
    rejectButton.disabled = false;
  };
  approveButton.addEventListener('click', () => {
    const s = currentApprover();
    if (s === null) return;
    approveButton.disabled = true;
    approve(ctx, s, r, Number(minutes.value) || 60).then((answer) => decided('approved', answer), fail);
  });
  rejectButton.addEventListener('click', () => {
    if (reason.value.trim() === '') {
      outcome.textContent = 'Give a reason to reject.';
      reason.focus();
      return;
    }
    rejectButton.disabled = true;
    const approverKey = currentApprover()?.key.publicKey;
    ctx.api
      .post(
        `/v1/signatures/${encodeURIComponent(r.signatureId)}/rejections`,
        { reason: reason.value.trim(), ...(approverKey === undefined ? {} : { approverKey }) },
        signatureDecoder,
        { signal: ctx.signal },
      )
      .then((answer) => decided('rejected', answer), fail);
  });
  const context = r.context === null ? '—' : canonicalJson(r.context);
  return h(
    'article',
    { class: 'request-card', 'data-request': r.signatureId },
    h('h3', null, `Request ${r.signatureId}`),
    h(
      'dl',
      { class: 'fields' },
      h('dt', null, 'Key'),
      h(
        'dd',
        null,
        key === undefined ? r.keyId : `${key.label ?? key.keyId} (${key.suite}, ${key.threshold} of ${key.parties.length}) `,
        key === undefined ? null : verdictBadge(key, verdict, pinned),
      ),
      h('dt', null, 'Asked'),
      h('dd', null, when(r.createdAt)),
      h('dt', null, 'Needs'),
      h(
        'dd',
        { class: 'needs' },
        r.approvalStatus
          ? [
              ...r.approvalStatus.groups.map((g) => badge(g.have >= g.min ? 'ok' : 'warn', `${g.group}: ${g.have} of ${g.min}`)),
              ` (rule ${r.approvalStatus.ruleId}, policy v${r.approvalStatus.policyVersion})`,
            ]
          : '—',
      ),
      h('dt', null, 'Context'),
      h('dd', { class: 'hex wrap' }, context),
      h('dt', null, 'Approved by'),
      h(
        'dd',
        null,
        (r.approvals ?? []).length === 0
          ? 'nobody yet'
          : h(
              'ul',
              null,
              (r.approvals ?? []).map((a) =>
                h('li', { class: 'hex' }, a.approverKey, a.approverKey === session?.key.publicKey ? ' (you)' : ''),
              ),
            ),
      ),
    ),
    intentPanel(reading),
    h(
      'div',
      { class: 'actions' },
      h('label', null, 'Valid for ', minutes, ' min '),
      approveButton,
      stop === null ? null : h('span', { class: 'why-not' }, ` (${stop})`),
      h('span', { class: 'spacer' }),
      reason,
      rejectButton,
    ),
    outcome,
  );
}

/** The decisions made in this page, each followed until its request settles. */
function decisionsSection(ctx: PageContext): HTMLElement {
  const list = h('ul', { id: 'decisions' });
  const draw = () =>
    fill(
      list,
      myDecisions().map((d) =>
        h(
          'li',
          { 'data-request': d.signatureId, 'data-status': d.status },
          `${d.kind} `,
          h('a', { href: '#/requests' }, d.signatureId),
          ': ',
          statusBadge(d.status),
        ),
      ),
    );
  draw();
  ctx.every(1500, async () => {
    for (const d of myDecisions()) {
      if (SETTLED.has(d.status)) continue;
      d.status = (await ctx.api.get(`/v1/signatures/${encodeURIComponent(d.signatureId)}`, signatureDecoder, ctx.signal)).status;
    }
    draw();
  });
  return h(
    'section',
    { 'aria-labelledby': 'decisions-h' },
    h('h2', { id: 'decisions-h' }, 'Your decisions in this page'),
    myDecisions().length === 0 ? h('p', null, 'None yet.') : list,
  );
}

async function loadAwaiting(api: Api, signal: AbortSignal): Promise<{ requests: Signature[]; keys: Map<string, Key> }> {
  const requests = await api.all('/v1/signatures?status=awaiting_approval', 'signatures', signatureDecoder, { signal });
  const keys = new Map((await api.all('/v1/keys', 'keys', keyDecoder, { signal })).map((k) => [k.keyId, k]));
  return { requests: requests.sort((a, b) => a.createdAt.localeCompare(b.createdAt)), keys };
}

async function render(ctx: PageContext): Promise<void> {
  const redraw = () => {
    render(ctx).catch((e: unknown) => {
      if (!ctx.signal.aborted) fill(ctx.main, h('h1', null, 'Approvals'), problemBox(e));
    });
  };
  const [keys, { requests, keys: byId }] = await Promise.all([keySection(ctx, redraw), loadAwaiting(ctx.api, ctx.signal)]);
  const cards = await Promise.all(requests.map((r) => requestCard(ctx, r, byId.get(r.keyId), redraw)));
  const refresh = h('button', { type: 'button', id: 'refresh', class: 'small' }, 'Refresh');
  refresh.addEventListener('click', redraw);
  if (ctx.signal.aborted) return;
  fill(
    ctx.main,
    h('h1', null, 'Approvals'),
    keys,
    h(
      'section',
      { 'aria-labelledby': 'awaiting-h' },
      h('h2', { id: 'awaiting-h' }, `Awaiting approval (${requests.length}) `, refresh),
      h('p', { class: 'filters' }, networkChooser(redraw)),
      h(
        'p',
        { class: 'explain' },
        'What you approve is what this browser read from the request itself: the intent below, its context, under the policy version shown, until the time you choose. Each party checks your signature and reads the intent again on its own.',
      ),
      cards.length === 0 ? h('p', { id: 'none-awaiting' }, 'Nothing awaits approval.') : h('div', { id: 'awaiting' }, cards),
    ),
    decisionsSection(ctx),
  );
  ctx.status(`${requests.length} request${requests.length === 1 ? '' : 's'} awaiting approval`);
}

export const approvalsPage: Page = page('approvals', 'Approvals', render);
