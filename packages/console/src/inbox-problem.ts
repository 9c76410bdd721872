/**
 * What the coordinator's inbox (`POST /v1/parties/{id}/inbox`) refused, worded for the person
 * holding the bundle: the problem code first and large (it is what the runbooks and docs/errors.md
 * are indexed by), what it means for this bundle, and what to do. The inbox checks a bundle whole
 * before anything changes, so every refusal here also says: nothing was delivered.
 * `test/inbox-problem.test.ts` holds the list to the coordinator's codes and the protocol's bundle codes.
 */
import { h } from './dom.js';
import { isConsoleError } from './errors.js';

/** A refusal: what it means and what to do. */
interface Wording {
  readonly means: string;
  readonly todo: string;
}

const DAMAGED: Wording = {
  means: 'the bundle is damaged or incomplete: a partial copy or scan, or not a bundle at all',
  todo: 'Scan the frames again or copy the file again; if it persists, have the vault write the bundle again.',
};
const FORGED: Wording = {
  means: 'the bundle is not signed by the key the coordinator pins for this party',
  todo: 'Do not deliver it again. Keep the bundle and raise the alarm: it was altered, or did not come from this party’s vault.',
};
const FAULTY: Wording = {
  means: 'the bundle is signed by the party but carries something an offline party does not send',
  todo: 'Check that it came from glacis-party offline; report it to the vault’s operator.',
};

/** Every code the inbox answers with a bundle at fault, and the party and route codes around it. */
export const INBOX_PROBLEMS: Readonly<Record<string, Wording>> = {
  bundle_replayed: {
    means: 'the coordinator already accepted this bundle, or a newer one, from this party',
    todo: 'Nothing to do if it was delivered before. If its answers are still wanted, have the vault export a fresh bundle.',
  },
  bundle_too_large: DAMAGED,
  bundle_truncated: DAMAGED,
  bundle_bad_magic: DAMAGED,
  bundle_unsupported_version: {
    means: 'the bundle is in a format version this coordinator does not read',
    todo: 'Upgrade the coordinator, or have the vault write format version 1.',
  },
  bundle_trailing_bytes: DAMAGED,
  bundle_bad_checksum: DAMAGED,
  bundle_malformed_header: DAMAGED,
  bundle_unknown_sender: {
    means: 'the bundle is not from the party whose inbox it was posted to',
    todo: 'Deliver it to the inbox of the party that sent it; if no configured party sent it, raise the alarm.',
  },
  bundle_bad_signature: FORGED,
  bundle_wrong_recipient: {
    means: 'the bundle is addressed to someone other than the coordinator',
    todo: 'Carry it to the party it names; nothing is wrong with its sender.',
  },
  bundle_malformed_item: FAULTY,
  inbox_envelope_invalid: FORGED,
  inbox_unexpected_message: FAULTY,
  inbox_commitment_invalid: {
    means: 'the bundle’s preprocessed commitments are for a key that is not active or that this party holds no share of',
    todo: 'Preprocess for an active key the party holds (glacis-party offline preprocess --key).',
  },
  party_not_offline: {
    means: 'this coordinator does not run the sender as an offline party, so it has no inbox',
    todo: 'Configure the party "mode": "offline" in coordinator.json (docs/offline.md).',
  },
  not_found: {
    means: 'this coordinator has no such party',
    todo: 'Check the bundle’s sender against GET /v1/parties.',
  },
};

/** The alert for a failed delivery of `partyId`'s bundle; undefined for a failure that is not an inbox refusal. */
export function inboxProblemBox(e: unknown, partyId: string): HTMLElement | undefined {
  if (!isConsoleError(e, 'http') || e.problemCode === undefined) return undefined;
  const wording = INBOX_PROBLEMS[e.problemCode];
  if (wording === undefined) return undefined;
  return h(
    'div',
    { class: 'alarm inbox-problem', role: 'alert', 'data-code': e.problemCode },
    h('strong', { class: 'problem-code' }, e.problemCode),
    h('p', null, `Not delivered: ${wording.means}. Nothing changed on the coordinator.`),
    h('p', null, wording.todo),
    h('p', { class: 'detail' }, `POST /v1/parties/${partyId}/inbox answered ${e.message}`),
  );
}
