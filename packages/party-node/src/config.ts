/** Party configuration: a JSON file in the data directory, overridable by environment variables. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COORDINATOR, hexSchema, partyIdSchema } from '@glacis/protocol';
import { z } from 'zod';

const identityKeySchema = hexSchema.length(64, 'identity key: 32 bytes of hex');

export const policySchema = z.strictObject({
  /** Longest message this party will sign, in bytes. */
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(1 << 20),
  /** Approver Ed25519 public keys (hex) whose approvals count. */
  approvers: z.array(identityKeySchema).default([]),
  /** Approvals required before this party releases a share (0: none). */
  requiredApprovals: z.number().int().nonnegative().default(0),
  /** Keys this party will sign for (empty: every key it holds). */
  allowedKeys: z.array(z.string()).default([]),
});
export type Policy = z.infer<typeof policySchema>;

export const partyConfigSchema = z.strictObject({
  partyId: partyIdSchema.refine((p) => p !== COORDINATOR, 'party id "coordinator" is reserved'),
  coordinator: z.strictObject({
    /** ws:// or wss:// URL of the coordinator's party endpoint. */
    url: z.string().regex(/^wss?:\/\/.+/, 'coordinator url must be ws:// or wss://'),
    /**
     * The endpoints of the coordinator's other instances, when it runs several on one database;
     * they share its identity key. The party keeps a link to each (docs/operations.md).
     */
    urls: z
      .array(z.string().regex(/^wss?:\/\/.+/, 'coordinator url must be ws:// or wss://'))
      .max(16)
      .default([]),
    /** The coordinator's pinned identity key. */
    identityKey: identityKeySchema,
  }),
  /** Pinned identity keys of every other party this one may share a key with (known_hosts). */
  peers: z.record(partyIdSchema, identityKeySchema).default({}),
  policy: policySchema.default(policySchema.parse({})),
  reconnect: z
    .strictObject({ initialMs: z.number().int().positive().default(200), maxMs: z.number().int().positive().default(10_000) })
    .default({ initialMs: 200, maxMs: 10_000 }),
});
export type PartyConfig = z.infer<typeof partyConfigSchema>;

export const CONFIG_FILE = 'party.json';

/** Typed configuration error: says which file and which field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Loads `<dataDir>/party.json`, applying GLACIS_COORDINATOR_URL if set, or GLACIS_COORDINATOR_URLS
 * (several instances' endpoints, comma-separated: the first becomes `url`, the others `urls`).
 */
export function loadPartyConfig(dataDir: string, env: NodeJS.ProcessEnv = process.env): PartyConfig {
  const file = join(dataDir, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: cannot read configuration (${(e as Error).message}); run "glacis-party init" first`);
  }
  if (env.GLACIS_COORDINATOR_URL && typeof raw === 'object' && raw !== null) {
    const r = raw as { coordinator?: Record<string, unknown> };
    r.coordinator = { ...(r.coordinator ?? {}), url: env.GLACIS_COORDINATOR_URL };
  }
  if (env.GLACIS_COORDINATOR_URLS && typeof raw === 'object' && raw !== null) {
    const [url, ...urls] = env.GLACIS_COORDINATOR_URLS.split(',').map((u) => u.trim());
    const r = raw as { coordinator?: Record<string, unknown> };
    r.coordinator = { ...(r.coordinator ?? {}), url, urls };
  }
  const parsed = partyConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ConfigError(`${file}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
