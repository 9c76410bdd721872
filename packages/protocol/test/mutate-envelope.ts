/**
 * Single-character (or single-bit, for numbers) mutations of a signed envelope, each with the one
 * error code openEnvelope must answer. The expected code follows from the order of checks:
 * shape → version → type → pinned sender → signature → recipient → body → replay.
 */
import { type Envelope, isMessageType, type ProtocolErrorCode } from '../src/index.js';

/** What to mutate, as fast-check draws it. */
export interface MutationSpec {
  field: number;
  pick: number;
  char: number;
  bit: number;
}

export interface Mutation {
  site: string;
  envelope: unknown;
  expected: ProtocolErrorCode;
}

const FIELDS = ['key', 'v', 'type', 'sessionId', 'from', 'to', 'seq', 'signature', 'body'] as const;
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Replaces one character of `s` with a different printable ASCII character. */
function flipChar(s: string, m: MutationSpec): { value: string; replacement: string } {
  let replacement = String.fromCharCode(0x20 + (m.char % 95));
  const i = m.pick % s.length;
  if (replacement === s[i]) replacement = String.fromCharCode(0x20 + ((m.char + 1) % 95));
  return { value: s.slice(0, i) + replacement + s.slice(i + 1), replacement };
}

/** Flips one of the low 52 bits: the result stays a non-negative safe integer. */
function flipBit(n: number, m: MutationSpec): number {
  const b = 2 ** (m.bit % 52);
  return Math.floor(n / b) % 2 === 1 ? n - b : n + b;
}

type Site = { path: (string | number)[]; kind: 'string' | 'number' | 'key' };

/** Every string, number and object key inside a body, by path. */
function bodySites(v: unknown, path: (string | number)[] = []): Site[] {
  if (typeof v === 'string' && v.length > 0) return [{ path, kind: 'string' }];
  if (typeof v === 'number') return [{ path, kind: 'number' }];
  if (Array.isArray(v)) return v.flatMap((x, i) => bodySites(x, [...path, i]));
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) => [{ path: [...path, k], kind: 'key' as const }, ...bodySites(x, [...path, k])]);
  }
  return [];
}

function mutateBody(body: unknown, m: MutationSpec): { body: unknown; site: string } {
  const sites = bodySites(body);
  if (sites.length === 0) throw new Error('body has nothing to mutate');
  const site = sites[m.pick % sites.length] as Site;
  const copy = structuredClone(body);
  const parentPath = site.path.slice(0, -1);
  const last = site.path[site.path.length - 1] as string | number;
  let parent = copy as Record<string | number, unknown>;
  for (const p of parentPath) parent = parent[p] as Record<string | number, unknown>;
  if (site.kind === 'key') {
    const renamed = flipChar(String(last), m).value;
    const entries = Object.entries(parent).map(([k, x]) => [k === last ? renamed : k, x]);
    for (const k of Object.keys(parent)) delete parent[k];
    Object.assign(parent, Object.fromEntries(entries));
  } else if (site.kind === 'number') {
    parent[last] = flipBit(parent[last] as number, m);
  } else {
    parent[last] = flipChar(parent[last] as string, { ...m, pick: Math.floor(m.pick / sites.length) }).value;
  }
  return { body: copy, site: `body ${site.kind} ${site.path.join('.')}` };
}

/** One mutation of `env` and the code it must get; `isPinned` says whose keys the opener holds. */
export function mutateEnvelope(env: Envelope, m: MutationSpec, isPinned: (name: string) => boolean): Mutation {
  const field = FIELDS[m.field % FIELDS.length] as (typeof FIELDS)[number];
  const out: Record<string, unknown> = structuredClone(env);
  switch (field) {
    case 'key': {
      const keys = Object.keys(env);
      const key = keys[m.pick % keys.length] as string;
      const renamed = flipChar(key, { ...m, pick: Math.floor(m.pick / keys.length) }).value;
      out[renamed] = out[key];
      delete out[key];
      return { site: `key ${key} → ${renamed}`, envelope: out, expected: 'invalid_envelope' };
    }
    case 'v':
      out.v = flipBit(env.v, m);
      return { site: `v → ${out.v}`, envelope: out, expected: 'unsupported_version' };
    case 'type': {
      const { value } = flipChar(env.type, m);
      out.type = value;
      return { site: `type → ${value}`, envelope: out, expected: isMessageType(value) ? 'bad_signature' : 'unknown_message_type' };
    }
    case 'sessionId': {
      const { value } = flipChar(env.sessionId, m);
      out.sessionId = value;
      return { site: `sessionId → ${value}`, envelope: out, expected: SESSION_ID.test(value) ? 'bad_signature' : 'invalid_envelope' };
    }
    case 'from': {
      const { value } = flipChar(env.from, m);
      out.from = value;
      return { site: `from → ${value}`, envelope: out, expected: isPinned(value) ? 'bad_signature' : 'unknown_party' };
    }
    case 'to': {
      const { value } = flipChar(env.to, m);
      out.to = value;
      // The signature covers `to` and is checked before the recipient is.
      return { site: `to → ${value}`, envelope: out, expected: 'bad_signature' };
    }
    case 'seq':
      out.seq = flipBit(env.seq, m);
      return { site: `seq → ${out.seq}`, envelope: out, expected: 'bad_signature' };
    case 'signature': {
      const { value, replacement } = flipChar(env.signature, m);
      out.signature = value;
      // Not lowercase hex fails the envelope schema; any other change fails Ed25519 verification.
      return {
        site: `signature[${m.pick % env.signature.length}] → ${replacement}`,
        envelope: out,
        expected: /[0-9a-f]/.test(replacement) ? 'bad_signature' : 'invalid_envelope',
      };
    }
    case 'body': {
      const { body, site } = mutateBody(env.body, m);
      out.body = body;
      return { site, envelope: out, expected: 'bad_signature' };
    }
  }
}
