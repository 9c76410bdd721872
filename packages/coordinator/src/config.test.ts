import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CONFIG_FILE, loadConfig, parseConfig, partyKeys, writeConfigFile } from './config.js';
import { defaultAggregationWorkers } from './orchestrator/aggregation-pool.js';
import { hashToken } from './tokens.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glacis-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const party = (partyId: string) => ({ partyId, identityKey: '11'.repeat(32) });

describe('parseConfig', () => {
  test('an empty file gives the documented defaults, with paths under the data directory', () => {
    const c = parseConfig({}, '/data');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8700, parties: [], bodyLimitBytes: 65536, minConnectedParties: 0, tokens: [] });
    expect(c.databasePath).toBe('/data/coordinator.sqlite');
    expect(c.identitySeedPath).toBe('/data/identity.seed');
    expect(c.portFile).toBeNull();
  });

  test('the environment overrides the file; GLACIS_ADMIN_TOKEN becomes an admin token', () => {
    const env = {
      GLACIS_PORT: '0',
      GLACIS_HOST: '0.0.0.0',
      GLACIS_ADMIN_TOKEN: 'glc_0123456789abcdef',
      GLACIS_PORT_FILE: '/tmp/port',
      GLACIS_SIGNING_TIMEOUT_MS: '20000',
      GLACIS_DKG_TIMEOUT_MS: '5000',
    };
    const c = parseConfig({ port: 9000, parties: [party('alice')] }, '/data', env);
    expect(c).toMatchObject({ port: 0, host: '0.0.0.0', portFile: '/tmp/port', signingTimeoutMs: 20_000, dkgTimeoutMs: 5_000 });
    expect(c.tokens).toEqual([{ name: 'env-admin', role: 'admin', token: 'glc_0123456789abcdef' }]);
    expect(partyKeys(c).get('alice')).toHaveLength(32);
  });

  test.each<[string, Record<string, unknown>, RegExp, Record<string, string>?]>([
    ['a bad port', { port: 70000 }, /port/],
    ['a port from the environment that is not a number', {}, /port/, { GLACIS_PORT: 'eighty' }],
    ['an unknown field', { colour: 'blue' }, /colour|Unrecognized/],
    ['a duplicate party', { parties: [party('alice'), party('alice')] }, /duplicate/],
    ['an uppercase party id', { parties: [party('Alice')] }, /parties/],
    ['a short identity key', { parties: [{ partyId: 'alice', identityKey: 'ab' }] }, /identityKey/],
    ['a request timeout shorter than the longest wait', { requestTimeoutMs: 30_000 }, /requestTimeoutMs/],
    ['a short admin token', {}, /GLACIS_ADMIN_TOKEN/, { GLACIS_ADMIN_TOKEN: 'short' }],
    ['a signing timeout from the environment that is not a number', {}, /signingTimeoutMs/, { GLACIS_SIGNING_TIMEOUT_MS: '20s' }],
  ])('rejects %s', (_name, raw, message, env = {}) => {
    expect(() => parseConfig(raw, '/data', env)).toThrow(message);
  });
});

describe('loadConfig and writeConfigFile', () => {
  test('round-trip through the file in the data directory', () => {
    writeConfigFile(dir, { parties: [party('alice'), party('bob')], port: 8800 });
    expect(JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')).port).toBe(8800);
    const c = loadConfig(dir, {});
    expect(c.parties.map((p) => p.partyId)).toEqual(['alice', 'bob']);
    expect(c.port).toBe(8800);
  });

  test('no file means defaults; a broken file is an error that names it', () => {
    expect(loadConfig(dir, {}).port).toBe(8700);
    writeFileSync(join(dir, CONFIG_FILE), '{oops');
    expect(() => loadConfig(dir, {})).toThrow(/coordinator\.json is not JSON/);
  });
});

describe('the demo secrets of deploy/secrets/', () => {
  const demoToken = readFileSync(new URL('../../../deploy/secrets/admin-token', import.meta.url), 'utf8').trim();

  test('the public demo admin token is refused outside GLACIS_DEMO=1, from the environment or by hash', () => {
    expect(() => parseConfig({}, '/data', { GLACIS_ADMIN_TOKEN: demoToken })).toThrow(/public demo admin token.*GLACIS_DEMO=1/);
    const byHash = { tokens: [{ name: 'ops', role: 'admin', sha256: hashToken(demoToken) }] };
    expect(() => parseConfig(byHash, '/data', {})).toThrow(/"ops" is the public demo admin token/);
    expect(() => parseConfig({}, '/data', { GLACIS_ADMIN_TOKEN: demoToken, GLACIS_DEMO: 'yes' })).toThrow(/public demo/);
  });

  test('GLACIS_DEMO=1 lets the demo run with it; any other token needs nothing', () => {
    expect(parseConfig({}, '/data', { GLACIS_ADMIN_TOKEN: demoToken, GLACIS_DEMO: '1' }).tokens).toHaveLength(1);
    expect(parseConfig({}, '/data', { GLACIS_ADMIN_TOKEN: 'glc_a_real_secret_0123' }).tokens).toHaveLength(1);
  });
});

describe('limits and TLS settings', () => {
  test('limits have generous defaults and come from the file or the environment', () => {
    expect(parseConfig({}, '/data')).toMatchObject({
      rateLimit: { max: 3000, windowMs: 10_000 },
      maxSigningInFlight: 4096,
      maxSigningInFlightPerKey: 1024,
      maxUnauthenticatedSockets: 256,
      maxPreAuthBytes: 16384,
    });
    const env = { GLACIS_RATE_LIMIT_MAX: '50', GLACIS_MAX_SIGNING_IN_FLIGHT: '10', GLACIS_MAX_SIGNING_IN_FLIGHT_PER_KEY: '5' };
    expect(parseConfig({ rateLimit: { windowMs: 2000 } }, '/data', env)).toMatchObject({
      rateLimit: { max: 50, windowMs: 2000 },
      maxSigningInFlight: 10,
      maxSigningInFlightPerKey: 5,
    });
    expect(() => parseConfig({}, '/data', { GLACIS_RATE_LIMIT_MAX: 'lots' })).toThrow(/rateLimit\.max/);
  });

  test('aggregation workers: unset means the default (cores - 1 from 3 cores, else 0), 0 means inline; from the file or GLACIS_AGGREGATION_WORKERS', () => {
    expect(parseConfig({}, '/data').aggregationWorkers).toBeUndefined();
    expect(defaultAggregationWorkers(1)).toBe(0);
    expect(defaultAggregationWorkers(2), 'two cores: a thread costs more CPU than it saves (docs/benchmarks.md)').toBe(0);
    expect(defaultAggregationWorkers(3)).toBe(2);
    expect(defaultAggregationWorkers(8)).toBe(7);
    expect(parseConfig({ aggregationWorkers: 0 }, '/data').aggregationWorkers).toBe(0);
    expect(parseConfig({}, '/data', { GLACIS_AGGREGATION_WORKERS: '2' }).aggregationWorkers).toBe(2);
    expect(() => parseConfig({}, '/data', { GLACIS_AGGREGATION_WORKERS: 'many' })).toThrow(/aggregationWorkers/);
  });

  test('TLS files resolve under the data directory; a certificate without its key is refused', () => {
    expect(parseConfig({}, '/data').tls).toBeNull();
    expect(parseConfig({ tls: { certFile: 'tls/c.pem', keyFile: '/etc/k.pem' } }, '/data').tls).toEqual({
      certPath: '/data/tls/c.pem',
      keyPath: '/etc/k.pem',
    });
    expect(parseConfig({}, '/data', { GLACIS_TLS_CERT_FILE: '/c.pem', GLACIS_TLS_KEY_FILE: '/k.pem' }).tls).toEqual({
      certPath: '/c.pem',
      keyPath: '/k.pem',
    });
    expect(() => parseConfig({}, '/data', { GLACIS_TLS_CERT_FILE: '/c.pem' })).toThrow(/tls\.keyFile/);
  });
});
