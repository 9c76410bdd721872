/**
 * Test fixtures of the client: the Key an honest coordinator serves for a real (simulated) DKG,
 * a fetch that answers like a coordinator without a socket, and an Io that records a CLI run.
 */
import { type AuditEvent, type Envelope, nextAuditEvent, type PublicKeyPackage, publishCertificate, toHex } from '@glacis/protocol';
import type { Cluster } from '../../protocol/test/harness.js';
import type { Io } from '../src/cli/command.js';
import type { Key } from '../src/schemas.js';
import type { TrustFile } from '../src/trust-file.js';

/** The Key an honest coordinator serves for a finished DKG, and a trust file pinning its parties. */
export function servedKey(c: Cluster): { key: Key; trust: TrustFile } {
  const identity = (p: string) => toHex(c.world.keyOf(p) as Uint8Array);
  const key: Key = {
    keyId: c.pub.keyId,
    label: null,
    suite: c.pub.suite,
    threshold: c.pub.threshold,
    parties: [...c.pub.committee],
    status: 'active',
    publicKey: c.pub.publicKey,
    verifyingShares: { ...c.pub.verifyingShares },
    error: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    generation: 0,
    certificate: publishCertificate(c.run.confirmations, identity),
  };
  return { key, trust: { parties: Object.fromEntries(c.names.map((p) => [p, identity(p)])) } };
}

/** One completed lifecycle operation as the coordinator links it into a key's lineage. */
export type LineageLink = { operation: 'refresh' | 'repair' | 'reshare'; sessionId: string; confirmations: Envelope[] };

/** The Key an honest coordinator serves after `links`, with `pkg` the last generation (`identity`: the pins it publishes). */
export function servedAfter(c: Cluster, links: LineageLink[], pkg: PublicKeyPackage, identity: (p: string) => string): Key {
  return {
    ...servedKey(c).key,
    threshold: pkg.threshold,
    parties: [...pkg.committee],
    verifyingShares: { ...pkg.verifyingShares },
    generation: links.filter((l) => l.operation !== 'repair').length,
    certificate: publishCertificate(c.run.confirmations, identity, links),
  };
}

/** A request as the fake coordinator saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string | undefined;
}

/** What the fake answers: a JSON body by default. */
export interface FakeAnswer {
  status: number;
  body?: unknown;
  contentType?: string;
  /** Sent as is instead of JSON. */
  raw?: string;
}

/** A fetch that hands every request to `answer` and records it. */
export function fakeFetch(answer: (req: SeenRequest) => FakeAnswer): { fetch: typeof fetch; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const req: SeenRequest = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    seen.push(req);
    const a = answer(req);
    const text = a.raw ?? (a.body === undefined ? '' : JSON.stringify(a.body));
    return new Response(text, { status: a.status, headers: { 'content-type': a.contentType ?? 'application/json; charset=utf-8' } });
  };
  return { fetch: f as typeof fetch, seen };
}

/** A problem document as the coordinator sends it. */
export function problemAnswer(status: number, code: string, detail: string): FakeAnswer {
  return {
    status,
    contentType: 'application/problem+json; charset=utf-8',
    body: { type: 'about:blank', title: 'Error', status, code, detail, requestId: 'r1' },
  };
}

/** An Io for runCli that records both streams; `files` is the file system it can read. */
export function recordingIo(fetchFn: typeof globalThis.fetch, files: Record<string, string> = {}, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    writeFile: (path, text) => {
      if (files[path] !== undefined) throw Object.assign(new Error(`EEXIST: ${path}`), { code: 'EEXIST' });
      files[path] = text;
    },
    fetch: fetchFn,
  };
  return { io, out, err, files, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

/** An intact audit chain of `n` events of type `type`. */
export function auditChain(n: number, type = 'e'): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 1; i <= n; i++) {
    events.push(nextAuditEvent(events.at(-1), `2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`, type, { i }));
  }
  return events;
}
