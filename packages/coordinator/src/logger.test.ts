import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger, REDACTED, redactSecrets } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  test('redacts secret-named fields at any depth, in log objects and child bindings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination }).child({ apiToken: 'glc_live' });
    log.info(
      { config: { parties: 3, adminToken: 'glc_x', nested: { passphrase: 'hunter2', signingShare: 'ab' } }, keyId: 'key_1' },
      'started',
    );
    log.info({ req: { headers: { authorization: 'Bearer glc_y' } } }, 'raw request');
    const text = JSON.stringify(lines);
    for (const secret of ['glc_live', 'glc_x', 'hunter2', '"ab"', 'glc_y']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ apiToken: REDACTED, keyId: 'key_1', config: { parties: 3, adminToken: REDACTED } });
  });

  test('redactSecrets leaves non-secret data and class instances alone', () => {
    const err = new Error('boom');
    expect(redactSecrets({ keyId: 'k', list: [{ seed: 1 }], err })).toEqual({ keyId: 'k', list: [{ seed: REDACTED }], err });
  });
});
