/**
 * docs/api.md "The signed bytes": its worked example is a real certificate, and the bytes, hash
 * and signature it shows are exactly what the protocol signs and checks, so a desk that
 * re-implements the check from the page gets the same answer as `glacis keys verify`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalBytes, certificateEnvelopes, fromHex, utf8, verifyIdentitySignature } from '@glacis/protocol';
import { expect, test } from 'vitest';
import { keySchema } from '../src/schemas.js';
import { verifyKey } from '../src/verify-key.js';

const page = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');

/** The fenced block right after `<!-- example: NAME -->`. */
function example(name: string): string {
  const at = page.indexOf(`<!-- example: ${name} -->`);
  if (at < 0) throw new Error(`docs/api.md: no example "${name}"`);
  const m = /```[a-z]*\n([\s\S]*?)\n```/.exec(page.slice(at));
  if (!m) throw new Error(`docs/api.md: example "${name}" has no code block`);
  return m[1] as string;
}

const key = keySchema.parse(JSON.parse(example('key')));
const confirmations = key.certificate?.confirmations ?? [];
const trust = { parties: Object.fromEntries(confirmations.map((c) => [c.from, c.identityKey as string])) };

test('the worked example is a certificate glacis keys verify accepts', () => {
  expect(confirmations.map((c) => c.from)).toEqual(['party-1', 'party-2']);
  expect(verifyKey(key, trust)).toMatchObject({ ok: true, publicKey: key.publicKey });
});

test('the signed bytes shown are the ones party-1 signed: same text, same SHA-256, and the signature verifies', () => {
  const [env] = certificateEnvelopes(key.certificate ?? { confirmations: [] });
  if (!env) throw new Error('no confirmation');
  const { signature, ...header } = env;
  const bytes = canonicalBytes('glacis/envelope/v1', header);
  expect(example('signed bytes')).toBe(new TextDecoder().decode(bytes).replace('\u0000', '\\0'));
  const shown = /Their SHA-256 is `([0-9a-f]{64})`/.exec(page)?.[1];
  expect(shown).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(page).toContain(`identity key \`${confirmations[0]?.identityKey}\``);
  expect(verifyIdentitySignature(fromHex(signature), bytes, fromHex(trust.parties['party-1'] as string))).toBe(true);
  // One byte more or less, and it does not: the page's bytes are the only ones that verify.
  expect(
    verifyIdentitySignature(fromHex(signature), utf8(`${new TextDecoder().decode(bytes)} `), fromHex(trust.parties['party-1'] as string)),
  ).toBe(false);
});
