/**
 * The API's answers, checked where they arrive (the zod schemas of `packages/client` in miniature:
 * the browser gets no zod without a bundler). A decoder returns the typed value or throws
 * `bad_response` naming the field, so a page never renders a shape it did not expect. Fields other
 * engineers are adding to `GET /v1/parties` (`mode`, `policyVersion`, `needsRepair`) are optional
 * here: absent, they are simply not shown. `body` of a confirmation and `data` of an audit event stay
 * exactly as parsed: signatures and hashes cover them byte for byte.
 */
import { ConsoleError } from './errors.js';

/** Turns unknown JSON into T, or throws `bad_response`. `at` is the path, for the message. */
export type Decoder<T> = (v: unknown, at: string) => T;

const fail = (at: string, expected: string): never => {
  throw new ConsoleError('bad_response', `the coordinator's answer is malformed at ${at || '(root)'}: expected ${expected}`);
};

export const str: Decoder<string> = (v, at) => (typeof v === 'string' ? v : fail(at, 'a string'));
export const int: Decoder<number> = (v, at) => (Number.isSafeInteger(v) ? (v as number) : fail(at, 'an integer'));
export const num: Decoder<number> = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(at, 'a number'));
export const bool: Decoder<boolean> = (v, at) => (typeof v === 'boolean' ? v : fail(at, 'true or false'));
/** Any JSON value, kept as it is. */
export const raw: Decoder<unknown> = (v) => v;

export const nullable =
  <T>(d: Decoder<T>): Decoder<T | null> =>
  (v, at) =>
    v === null ? null : d(v, at);

export const array =
  <T>(d: Decoder<T>): Decoder<T[]> =>
  (v, at) =>
    Array.isArray(v) ? v.map((x, i) => d(x, `${at}[${i}]`)) : fail(at, 'an array');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON object, kept as it is. */
export const object: Decoder<Record<string, unknown>> = (v, at) => (isObject(v) ? v : fail(at, 'an object'));

export const record =
  <T>(d: Decoder<T>): Decoder<Record<string, T>> =>
  (v, at) => {
    if (!isObject(v)) return fail(at, 'an object');
    const out: Record<string, T> = Object.create(null);
    for (const [k, x] of Object.entries(v)) out[k] = d(x, `${at}.${k}`);
    return out;
  };

type Fields<T> = { [K in keyof T]-?: Decoder<T[K]> };
type OptionalFields<T> = { [K in keyof T]-?: Decoder<Exclude<T[K], undefined>> };

/** An object with these fields (others are dropped); `optional` fields may be absent. */
export function struct<T extends object, O extends object = Record<never, never>>(
  fields: Fields<T>,
  optional?: OptionalFields<O>,
): Decoder<T & Partial<O>> {
  return (v, at) => {
    if (!isObject(v)) return fail(at, 'an object');
    const out: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(fields) as [string, Decoder<unknown>][]) out[k] = d(v[k], `${at}.${k}`);
    for (const [k, d] of Object.entries(optional ?? {}) as [string, Decoder<unknown>][]) {
      if (v[k] !== undefined) out[k] = d(v[k], `${at}.${k}`);
    }
    return out as T & Partial<O>;
  };
}

/** Parses `v` with `d` from the root. */
export function decode<T>(d: Decoder<T>, v: unknown): T {
  return d(v, '');
}
