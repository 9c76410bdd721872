/**
 * A request's intent as the Requests and Approvals pages show it: a raw message's bytes, or a
 * PSBT's inputs, outputs (address, amount, change) and fee as the parties read them
 * (`intent-view.ts`); a network chooser beside it; and, when the key cannot sign the intent, the
 * protocol's refusal instead of a reading.
 */
import type { Intent, Key } from './api-types.js';
import { h } from './dom.js';
import type { Subtle } from './ed25519.js';
import { isConsoleError } from './errors.js';
import { BITCOIN_NETWORKS, type BitcoinNetwork, btc, type IntentView, viewIntent } from './intent-view.js';
import { badge } from './page.js';
import { loadNetwork, saveNetwork } from './settings.js';

/** A reading, or why there is none. */
export type IntentReading = { ok: true; view: IntentView } | { ok: false; reason: string };

/** Reads `intent` for `key` on the user's network; a key the coordinator does not serve reads as a refusal. */
export async function readIntent(subtle: Subtle, intent: Intent, key: Key | undefined, network: BitcoinNetwork): Promise<IntentReading> {
  if (key === undefined || key.publicKey === null)
    return { ok: false, reason: 'the coordinator serves no public key for this request’s key' };
  try {
    return { ok: true, view: await viewIntent(subtle, intent, { keyId: key.keyId, suite: key.suite, publicKey: key.publicKey }, network) };
  } catch (e) {
    if (isConsoleError(e, 'invalid_intent') || isConsoleError(e, 'bad_response')) return { ok: false, reason: e.message };
    throw e;
  }
}

/** The network chooser; `onChange` runs after the choice is saved. */
export function networkChooser(onChange: (n: BitcoinNetwork) => void): HTMLElement {
  const select = h(
    'select',
    { id: 'network' },
    BITCOIN_NETWORKS.map((n) => h('option', { value: n, selected: n === loadNetwork() }, n)),
  );
  select.addEventListener('change', () => {
    saveNetwork(select.value as BitcoinNetwork);
    onChange(select.value as BitcoinNetwork);
  });
  return h('span', { class: 'network' }, h('label', { for: 'network' }, 'Bitcoin addresses for '), select);
}

/** The reading as a block of the page. */
export function intentPanel(reading: IntentReading): HTMLElement {
  if (!reading.ok) {
    return h('div', { class: 'intent-view alarm', role: 'alert' }, h('strong', null, 'This key cannot sign this intent: '), reading.reason);
  }
  const v = reading.view;
  if (v.type === 'raw') {
    return h(
      'div',
      { class: 'intent-view', 'data-intent': 'raw' },
      h(
        'dl',
        { class: 'fields' },
        h('dt', null, 'Signs'),
        h('dd', null, `${v.bytes} raw bytes`),
        h('dt', null, 'Message'),
        h('dd', { class: 'hex wrap' }, v.message),
        h('dt', null, 'Intent digest'),
        h('dd', { class: 'hex wrap intent-digest' }, v.intentDigest),
      ),
    );
  }
  const p = v.psbt;
  return h(
    'div',
    { class: 'intent-view', 'data-intent': 'bitcoin-psbt' },
    h(
      'dl',
      { class: 'fields' },
      h('dt', null, 'Signs'),
      h('dd', null, `a Bitcoin transaction (${p.network}): ${p.inputs.length} input(s) of this key`),
      h('dt', null, 'Transaction id'),
      h('dd', { class: 'hex wrap txid' }, p.txid),
      h('dt', null, 'Fee'),
      h('dd', { class: 'fee' }, `${btc(p.fee)} (${p.fee} sat)`),
      h('dt', null, 'Intent digest'),
      h('dd', { class: 'hex wrap intent-digest' }, v.intentDigest),
    ),
    h(
      'table',
      { class: 'list psbt-outputs' },
      h('caption', null, `Outputs: ${btc(p.totalOut)} of ${btc(p.totalIn)} in`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['#', 'Address', 'Amount', ''].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        p.outputs.map((o) =>
          h(
            'tr',
            { 'data-output': o.index },
            h('td', null, o.index),
            h('td', { class: 'hex address' }, o.address ?? `script ${o.script}`),
            h('td', { class: 'amount' }, `${btc(o.amount)} (${o.amount} sat)`),
            h('td', null, o.change ? badge('muted', 'change (back to this key)') : badge('warn', 'leaves')),
          ),
        ),
      ),
    ),
    h(
      'table',
      { class: 'list psbt-inputs' },
      h('caption', null, 'Inputs this key signs'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['#', 'Amount', 'Sighash (BIP-341)'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        p.inputs.map((i) =>
          h('tr', null, h('td', null, i.index), h('td', null, `${btc(i.amount)} (${i.amount} sat)`), h('td', { class: 'hex' }, i.sighash)),
        ),
      ),
    ),
  );
}
