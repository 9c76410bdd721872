/** Party configuration: a JSON file in the data directory, overridable by environment variables. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BITCOIN_NETWORKS, COORDINATOR, ed25519KeySchema, hexSchema, partyIdSchema, sessionIdSchema } from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from './errors.js';

const identityKeySchema = hexSchema.length(64, 'identity key: 32 bytes of hex');

/**
 * The static policy: what this party enforces until a quorum-signed policy is activated
 * (docs/policy.md, "Migrating from the static policy"). `allowedKeys`, `maxMessageBytes` and
 * `maxApprovalLifetimeSeconds` are this party's own limits and stay in force under a signed
 * policy too (a party may always be stricter than the organisation's policy, never looser);
 * `version`, `approvers` and `requiredApprovals` are replaced by the signed policy's rules.
 */
export const policySchema = z
  .strictObject({
    /**
     * The version of this policy. Approvals name the version they were given under and count only
     * under the same one, so changing the rules (and this number) retires every earlier approval.
     */
    version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1),
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
    /**
     * Latest expiry accepted, counted from now on this party's clock: an approval valid for longer
     * is refused. It also bounds how long the record of used approvals must keep each one.
     */
    maxApprovalLifetimeSeconds: z
      .number()
      .int()
      .positive()
      .max(366 * 24 * 3600)
      .default(7 * 24 * 3600),
    /**
     * `glacis-party offline process --yes` may sign (and join key generations, refreshes, repairs
     * and reshares) without an operator confirming each on the terminal (default false: `--yes` is
     * refused). The signed policy still decides each signing request.
     */
    unattendedOffline: z.boolean().default(false),
  })
  .refine((p) => p.requiredApprovals <= new Set(p.approvers).size, {
    message: 'requiredApprovals exceeds the number of approvers: this party could never sign',
    path: ['requiredApprovals'],
  });
/** The static `party.json` policy. */
export type StaticPolicy = z.infer<typeof policySchema>;

/**
 * The policy administrators this party trusts (pinned at `init` or with `pin`, like peer keys):
 * a signed policy takes effect here only when at least `quorum` of these keys signed it.
 */
export const policyAdminsSchema = z
  .strictObject({
    keys: z
      .array(ed25519KeySchema)
      .min(1)
      .max(64)
      .refine((ks) => new Set(ks).size === ks.length, 'a policy admin key is listed twice'),
    quorum: z.number().int().min(1),
  })
  .refine((a) => a.quorum <= a.keys.length, { message: 'quorum exceeds the number of pinned policy admin keys', path: ['quorum'] });
export type PolicyAdmins = z.infer<typeof policyAdminsSchema>;

/**
 * What this party agrees to in key lifecycle operations (docs/operations.md, "Lifecycle operations
 * on a party"). Every operation is also checked against the pinned peers: this party never deals
 * to, helps or takes part with a party whose identity key it has not pinned.
 */
export const lifecycleConfigSchema = z.strictObject({
  /**
   * Whether this party helps rebuild another member's lost share: `pinned` (default) helps a
   * member of the key whose identity key is pinned here, so a party re-created with a new
   * identity is helped only once this party's operator has pinned that identity; `never` refuses.
   */
  repairHelp: z.enum(['pinned', 'never']).default('pinned'),
  /** Whether this party deals or receives in reshares (`pinned`: only with pinned parties; `never`). */
  reshare: z.enum(['pinned', 'never']).default('pinned'),
  /**
   * A refresh, repair or reshare not finished this long after its start is abandoned here: its
   * secrets are forgotten and it never confirms. Keep it above the coordinator's lifecycle timeout.
   */
  deadlineMs: z.number().int().min(1_000).max(86_400_000).default(300_000),
});
export type LifecycleConfig = z.infer<typeof lifecycleConfigSchema>;

export const partyConfigSchema = z.strictObject({
  partyId: partyIdSchema.refine((p) => p !== COORDINATOR, 'party id "coordinator" is reserved'),
  coordinator: z
    .strictObject({
      /** ws:// or wss:// URL of the coordinator's party endpoint. */
      url: z.string().regex(/^wss?:\/\/.+/, 'coordinator url must be ws:// or wss://'),
      /**
       * The endpoints of the coordinator's other instances, when it runs several on one database;
       * they share its identity key (and its TLS key pin). The party keeps a link to each
       * (docs/operations.md).
       */
      urls: z
        .array(z.string().regex(/^wss?:\/\/.+/, 'coordinator url must be ws:// or wss://'))
        .max(16)
        .default([]),
      /** The coordinator's pinned identity key. */
      identityKey: identityKeySchema,
      /** wss:// only: SHA-256 (hex) of the coordinator's TLS public key (`glacis-coordinator tls pin`). */
      tlsPin: hexSchema.length(64, 'coordinator tlsPin: SHA-256 of the TLS public key, 64 hex').optional(),
      /** wss:// only: PEM file of the CA (or self-signed certificate) the coordinator's chain must lead to; default: the system's. */
      tlsCaFile: z.string().min(1).optional(),
    })
    // A TLS link is pinned like the identity is: a CA alone would trust any certificate it issues.
    .refine((c) => ![c.url, ...c.urls].some((u) => u.startsWith('wss://')) || c.tlsPin !== undefined, {
      message: 'a wss:// coordinator url needs tlsPin (glacis-party pin --coordinator-tls-pin)',
      path: ['tlsPin'],
    }),
  /** Pinned identity keys of every other party this one may share a key with (known_hosts). */
  peers: z.record(partyIdSchema, identityKeySchema).default({}),
  policy: policySchema.default(policySchema.parse({})),
  /** Pinned policy administrators; absent: no signed policy can be activated, the static policy stays. */
  policyAdmins: policyAdminsSchema.optional(),
  /** The chain this party reads PSBT addresses for: a policy's destinations are compared in its encoding. */
  bitcoinNetwork: z.enum(BITCOIN_NETWORKS).default('bitcoin'),
  /**
   * Labels this party holds for its keys (key id → label), which policy `key.labels` patterns
   * match. Set by the operator (`glacis-party pin --key-label`), never taken from the coordinator.
   */
  keyLabels: z.record(sessionIdSchema, z.string().min(1).max(256)).default({}),
  reconnect: z
    .strictObject({ initialMs: z.number().int().positive().default(200), maxMs: z.number().int().positive().default(10_000) })
    .default({ initialMs: 200, maxMs: 10_000 }),
  dkg: z
    .strictObject({
      /**
       * A DKG session not finished this long after its `dkg_start` is abandoned here, whatever the
       * coordinator says: its secret polynomial is forgotten and its messages are refused. Keep it
       * above the coordinator's DKG timeout (default 120 s).
       */
      deadlineMs: z.number().int().min(1_000).max(86_400_000).default(300_000),
      /**
       * The same for `glacis-party offline process` (docs/offline.md), for a DKG and for a refresh,
       * repair or reshare alike: counted from the run that joined the session, checked at every
       * later run; its sealed state is then deleted. Keep it above the coordinator's
       * `offlineDeadlineMs` (default 24 h), which bounds both too.
       */
      offlineDeadlineMs: z
        .number()
        .int()
        .min(60_000)
        .max(31 * 86_400_000)
        .default(172_800_000),
    })
    .default({ deadlineMs: 300_000, offlineDeadlineMs: 172_800_000 }),
  lifecycle: lifecycleConfigSchema.default(lifecycleConfigSchema.parse({})),
});
export type PartyConfig = z.infer<typeof partyConfigSchema>;

export const CONFIG_FILE = 'party.json';

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
    throw new PartyError(
      'config_unreadable',
      `${file}: cannot read configuration (${(e as Error).message}); run "glacis-party init" first`,
    );
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
    throw new PartyError('config_invalid', `${file}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
