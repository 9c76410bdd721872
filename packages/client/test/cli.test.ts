/**
 * `glacis` in-process (runCli with a recording Io and a fake coordinator): usage and exit codes at
 * every level, `keys verify` and `audit verify` end to end over HTTP, and what each failure prints.
 */
import { describe, expect, test } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import { COMMANDS, runCli, USAGE } from '../src/cli/run.js';
import { auditChain, fakeFetch, problemAnswer, recordingIo, servedKey } from './fixtures.js';

const nothing = fakeFetch(() => ({ status: 500 })).fetch;

describe('usage', () => {
  test('glacis --help, -h, every group and every command answer their usage on stdout with exit 0', async () => {
    for (const argv of [['--help'], ['-h']]) {
      const r = recordingIo(nothing);
      expect(await runCli(argv, r.io)).toBe(0);
      expect(r.stdout()).toBe(USAGE);
      expect(r.stderr()).toBe('');
    }
    for (const c of COMMANDS) {
      const group = recordingIo(nothing);
      expect(await runCli([c.words[0], '--help'], group.io)).toBe(0);
      expect(group.stdout()).toContain(c.words.join(' '));
      for (const flag of ['--help', '-h']) {
        const r = recordingIo(nothing);
        expect(await runCli([...c.words, flag], r.io)).toBe(0);
        expect(r.stdout()).toBe(c.usage);
      }
      // An unknown option is an error even beside --help.
      const r = recordingIo(nothing);
      expect(await runCli([...c.words, '--bogus', '--help'], r.io)).toBe(64);
    }
  });

  test.each([
    ['nothing', []],
    ['an unknown command', ['sign']],
    ['a group without a command', ['keys']],
    ['an unknown command in a group', ['keys', 'delete']],
    ['an unknown option', ['keys', 'verify', 'key_1', '--trust', 't.json', '--force']],
    ['a missing positional', ['keys', 'verify', '--trust', 't.json']],
    ['an extra positional', ['keys', 'verify', 'key_1', 'key_2', '--trust', 't.json']],
    ['a missing --trust', ['keys', 'verify', 'key_1']],
    ['an option without its value', ['keys', 'verify', 'key_1', '--trust']],
    ['a --url that is not http(s)', ['keys', 'verify', 'key_1', '--trust', 't.json', '--url', 'file:///etc/passwd']],
    ['a malformed --anchor', ['audit', 'verify', '--anchor', '12:beef']],
  ])('%s: usage on stderr, exit 64, no request made', async (_name, argv) => {
    const fake = fakeFetch(() => ({ status: 500 }));
    const r = recordingIo(fake.fetch, { 't.json': JSON.stringify({ parties: { p01: '11'.repeat(32) } }) });
    expect(await runCli(argv, r.io)).toBe(64);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toMatch(/^glacis: .+\nusage: glacis/);
    expect(fake.seen).toEqual([]);
  });
});

describe('glacis keys verify', () => {
  const c = cluster('secp256k1-tr', 3, 2);
  const { key, trust } = servedKey(c);
  const files: Record<string, string> = { 'trust.json': JSON.stringify(trust) };
  const coordinator = (served: unknown) =>
    fakeFetch((req) =>
      req.path === `/v1/keys/${key.keyId}` ? { status: 200, body: served } : problemAnswer(404, 'not_found', 'no such key'),
    );
  const run = async (served: unknown, argv: string[] = [], env: Record<string, string> = {}, fileSet = files) => {
    const fake = coordinator(served);
    const r = recordingIo(fake.fetch, fileSet, env);
    const code = await runCli(['keys', 'verify', key.keyId, '--trust', 'trust.json', ...argv], r.io);
    return { code, ...r, seen: fake.seen };
  };

  test('an untouched key: exit 0, the verified key as JSON on stdout', async () => {
    const r = await run(key, ['--url', 'http://coordinator.example:8700'], { GLACIS_TOKEN: 'glc_from_env' });
    expect(r.code, r.stderr()).toBe(0);
    expect(JSON.parse(r.stdout())).toEqual({
      ok: true,
      keyId: key.keyId,
      suite: 'secp256k1-tr',
      threshold: 2,
      parties: key.parties,
      publicKey: key.publicKey,
    });
    expect(r.seen[0]?.headers.get('authorization')).toBe('Bearer glc_from_env');
  });

  test('--token wins over GLACIS_TOKEN, and no token reaches any output', async () => {
    const r = await run({ ...key, publicKey: '02'.repeat(32) }, ['--token', 'glc_from_flag'], { GLACIS_TOKEN: 'glc_from_env' });
    expect(r.seen[0]?.headers.get('authorization')).toBe('Bearer glc_from_flag');
    expect(`${r.stdout()}${r.stderr()}`).not.toMatch(/glc_from/);
  });

  test('a swapped public key: exit 3, the reason on stderr, the verdict on stdout', async () => {
    const r = await run({ ...key, publicKey: '02'.repeat(32) });
    expect(r.code).toBe(3);
    expect(r.stderr()).toBe(
      `glacis: key ${key.keyId} REFUSED (public_key_mismatch): the coordinator serves publicKey ${'02'.repeat(32)}, but the committee confirmed ${key.publicKey}`,
    );
    expect(JSON.parse(r.stdout())).toMatchObject({ ok: false, code: 'public_key_mismatch' });
  });

  test('a certificate with a party missing: exit 3', async () => {
    const r = await run({ ...key, certificate: { confirmations: key.certificate?.confirmations.slice(1) } });
    expect(r.code).toBe(3);
    expect(r.stderr()).toMatch(/REFUSED \(certificate_invalid\): no confirmation from p0[123]$/);
  });

  test('a response that is not a Key: exit 1, could not check', async () => {
    const r = await run({ keyId: key.keyId, status: 'active' });
    expect(r.code).toBe(1);
    expect(r.stderr()).toMatch(/^glacis: GET \/v1\/keys\/.+: 200 body: /);
  });

  test('an unknown key (404) and a refused token (401): exit 1 with the code', async () => {
    const fake = fakeFetch(() => problemAnswer(401, 'unauthorized', 'missing or unknown bearer token'));
    const r = recordingIo(fake.fetch, files);
    expect(await runCli(['keys', 'verify', 'key_nope', '--trust', 'trust.json'], r.io)).toBe(1);
    expect(r.stderr()).toBe('glacis: GET /v1/keys/key_nope: 401 unauthorized: missing or unknown bearer token');
    const missing = recordingIo(coordinator(key).fetch, files);
    expect(await runCli(['keys', 'verify', 'key_other', '--trust', 'trust.json'], missing.io)).toBe(1);
    expect(missing.stderr()).toContain('404 not_found');
  });

  test('no coordinator at the URL: exit 1, unreachable', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const r = recordingIo(down, files);
    expect(await runCli(['keys', 'verify', key.keyId, '--trust', 'trust.json', '--url', 'http://127.0.0.1:9'], r.io)).toBe(1);
    expect(r.stderr()).toContain('no answer from http://127.0.0.1:9');
  });

  test.each([
    ['missing', {}, /cannot read the trust file trust.json: ENOENT/],
    ['not JSON', { 'trust.json': '{parties' }, /trust.json: not JSON/],
    ['without parties', { 'trust.json': '{}' }, /trust.json: parties: /],
    ['with a short key', { 'trust.json': '{"parties":{"p01":"abcd"}}' }, /trust.json: parties.p01: expected an Ed25519 public key/],
    [
      'with an unknown field',
      { 'trust.json': `{"parties":${JSON.stringify(trust.parties)},"coordinator":"x"}` },
      /trust.json: .*coordinator/,
    ],
  ])('a trust file %s: exit 1 before trusting anything', async (_name, fileSet, message) => {
    const r = await run(key, [], {}, fileSet as Record<string, string>);
    expect(r.code).toBe(1);
    expect(r.stderr()).toMatch(message);
    expect(r.stdout()).toBe('');
  });
});

describe('glacis audit verify', () => {
  const events = auditChain(7);
  /** Serves `log` in pages of `limit` (as the coordinator does, with an opaque cursor). */
  const coordinator = (log: typeof events) =>
    fakeFetch((req) => {
      if (req.path !== '/v1/audit') return problemAnswer(404, 'not_found', 'no route');
      const limit = Number(req.query.get('limit'));
      const from = Number(req.query.get('cursor') ?? 0);
      const page = log.slice(from, from + Math.min(limit, 3));
      const next = from + page.length < log.length ? String(from + page.length) : null;
      return { status: 200, body: { events: page, nextCursor: next } };
    });
  const run = async (log: typeof events, argv: string[] = []) => {
    const fake = coordinator(log);
    const r = recordingIo(fake.fetch, {}, { GLACIS_TOKEN: 'glc_auditor' });
    return { code: await runCli(['audit', 'verify', ...argv], r.io), ...r, seen: fake.seen };
  };
  const head = events[6]?.hash as string;

  test('reads every page and prints the head; exit 0', async () => {
    const r = await run(events);
    expect(r.code, r.stderr()).toBe(0);
    expect(JSON.parse(r.stdout())).toEqual({ ok: true, events: 7, head, headSeq: 7 });
    expect(r.seen.map((s) => s.query.get('cursor'))).toEqual([null, '3', '6']);
    expect(r.seen[0]?.headers.get('authorization')).toBe('Bearer glc_auditor');
  });

  test('an edited event: exit 3, named on stderr', async () => {
    const r = await run(events.map((e) => (e.seq === 5 ? { ...e, type: 'nothing_to_see' } : e)));
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout())).toMatchObject({ ok: false, brokenAt: 5 });
    expect(r.stderr()).toMatch(/^glacis: audit chain broken at event 5: /);
  });

  test('anchors: a recorded head still in the chain passes; a rewritten or truncated history does not', async () => {
    expect((await run(events, ['--anchor', `3:${events[2]?.hash}`, '--anchor', `7:${head}`])).code).toBe(0);
    // A consistent rewrite: another history, every link intact, but not the one anchored.
    const rewritten = await run(auditChain(7, 'rewritten'), ['--anchor', `7:${head}`]);
    expect(rewritten.code).toBe(3);
    expect(rewritten.stderr()).toContain(`event 7 has hash ${auditChain(7, 'rewritten')[6]?.hash}, not the anchored ${head}`);
    const truncated = await run(events.slice(0, 5), ['--anchor', `7:${head}`]);
    expect(truncated.code).toBe(3);
    expect(truncated.stderr()).toContain('the log ends at seq 5, before the anchor at 7');
  });

  test('an auditor-only log read with a requester token: exit 1 with the code', async () => {
    const fake = fakeFetch(() => problemAnswer(403, 'forbidden', 'this token may not do that'));
    const r = recordingIo(fake.fetch);
    expect(await runCli(['audit', 'verify'], r.io)).toBe(1);
    expect(r.stderr()).toBe('glacis: GET /v1/audit: 403 forbidden: this token may not do that');
  });
});
