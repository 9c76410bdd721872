/**
 * The generated parts of docs/bundles.md, as pure functions: the example bundle (small and
 * deterministic: fixed seeds and time, and Ed25519 signatures are deterministic) laid out field
 * by field, the same bundle as QR frames, and the density table. `node scripts/docs-bundles.mjs`
 * writes them into the page; test/bundles-doc.test.ts fails while the page differs.
 */
import { createHash } from 'node:crypto';
import { DENSITY_PRESETS, densityProfile, encodeBundleFrames } from '@glacis/airgap';
import { createEnvelopeSealer, formatBundleDump, identityFromSeed, sealBundle, toHex } from '@glacis/protocol';

const seed = (label) => new Uint8Array(createHash('sha256').update(label).digest());

/** The sender: the offline party-3, whose identity seed is SHA-256("glacis docs example party-3"). */
export const exampleSender = { name: 'party-3', identity: identityFromSeed(seed('glacis docs example party-3')) };

/**
 * party-3 → coordinator, bundle #2: one nonce commitment for key `k1` (what an offline party
 * exports after preprocessing), and a receipt for the coordinator's bundle #1.
 */
export function exampleBundle() {
  const envelope = createEnvelopeSealer('party-3', exampleSender.identity, 7).seal({
    type: 'commitments',
    sessionId: 'k1',
    to: 'coordinator',
    body: { keyId: 'k1', commitments: [{ hiding: toHex(seed('hiding')), binding: toHex(seed('binding')) }] },
  });
  const receipt = { bundleId: seed('bundle 1').slice(0, 16), sequence: 1, checksum: seed('checksum of bundle 1') };
  let n = 0;
  return sealBundle(
    {
      recipient: 'coordinator',
      sequence: 2,
      createdAt: Date.UTC(2026, 0, 2, 9, 30),
      items: [
        { kind: 'envelope', envelope },
        { kind: 'receipt', receipt },
      ],
    },
    exampleSender,
    (len = 32) => seed(`bundle id ${n++}`).slice(0, len),
  );
}

/** The generated part of docs/bundles.md: key, plain hex, and the field-by-field dump. */
export function exampleMarkdown() {
  const bytes = exampleBundle();
  const hex = toHex(bytes)
    .match(/.{1,64}/g)
    .join('\n');
  return [
    `party-3's identity public key (Ed25519): \`${toHex(exampleSender.identity.publicKey)}\``,
    '',
    `The whole bundle, ${bytes.length} bytes, as plain hex (\`xxd -r -p\` turns it back into the file):`,
    '',
    '```text',
    hex,
    '```',
    '',
    'Field by field: offset (hex), bytes, the same bytes as ASCII, and what they are.',
    '',
    '```text',
    formatBundleDump(bytes),
    '```',
  ].join('\n');
}

/** The example bundle as QR frames at the default density. */
export const exampleFrames = () => encodeBundleFrames(exampleBundle(), { density: 'medium' });

/** One row per preset: its setting, the longest frame it can produce, and that frame's QR version. */
export function densityMarkdown() {
  const rows = Object.entries(DENSITY_PRESETS).map(([name, d]) => {
    const { longestFrame, qrVersion } = densityProfile(name);
    const side = 17 + 4 * qrVersion;
    return `| \`${name}\` | ${d.maxFragmentLength} | ${d.errorCorrection} | ${longestFrame} | ${qrVersion} | ${side} × ${side} |`;
  });
  return [
    '| preset | max fragment (bytes) | error correction | longest frame (characters) | QR version | modules |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Every generated block of docs/bundles.md, by the name in its `<!-- generated:NAME -->` marker. */
export function generatedBlocks() {
  return { example: exampleMarkdown(), frames: ['```text', ...exampleFrames(), '```'].join('\n'), density: densityMarkdown() };
}
