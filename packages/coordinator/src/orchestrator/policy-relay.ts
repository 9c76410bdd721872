/**
 * Distribution of the quorum-signed policy. The coordinator cannot change a policy (parties verify
 * it against the administrator keys they pinned) and does not decide with it: it carries the
 * document to every party and shows what each one reports it has in force.
 *
 * A party reports its policy (`policy_status`) after every connect and after every offer. A party
 * whose version is older than the latest distributed one is offered it, once per report: a party
 * that refused this exact document (its `refused.digest`) is not offered it again until it
 * reconnects, so a party that cannot accept it (other pinned admins) is not flooded.
 */
import type { MessageBody, SignedPolicy } from '@glacis/protocol';
import type { Logger } from 'pino';
import type { Clock, PartyLink } from './ports.js';
import { encodeSessionId } from './session-id.js';

/** What a party last reported of its policy. */
export interface PartyPolicyStatus {
  source: 'static' | 'signed';
  version: number;
  digest: string | null;
  /** RFC 3339: when the report arrived. */
  reportedAt: string;
  /** The last offer this party refused, and why. */
  refused: MessageBody<'policy_status'>['refused'];
}

/** The latest distributed policy, as the relay offers it. */
export interface OfferedPolicy {
  signed: SignedPolicy;
  version: number;
  digest: string;
}

export interface PolicyRelay {
  /**
   * A policy the store holds as the latest distributed one (on start, and before each report, since
   * another instance may have distributed it); kept only if newer than the one known here.
   */
  setLatest(policy: OfferedPolicy): void;
  /** Offers `policy` to every connected party that does not report it in force. */
  distribute(policy: OfferedPolicy): void;
  /** A party's `policy_status`. */
  onStatus(partyId: string, status: MessageBody<'policy_status'>): void;
  statusOf(partyId: string): PartyPolicyStatus | null;
  /**
   * Resolves true once every party in `partyIds` reports `digest` in force or refused it, false
   * after `ms` or on `signal`.
   */
  waitSettled(digest: string, partyIds: readonly string[], ms: number, signal?: AbortSignal): Promise<boolean>;
}

export interface PolicyRelayOptions {
  link: PartyLink;
  clock: Clock;
  logger: Logger;
}

export function createPolicyRelay(o: PolicyRelayOptions): PolicyRelay {
  const statuses = new Map<string, PartyPolicyStatus>();
  const waiters = new Set<() => void>();
  let latest: OfferedPolicy | undefined;
  const sessionId = encodeSessionId({ kind: 'policy' });

  const settledAt = (partyId: string, digest: string) => {
    const s = statuses.get(partyId);
    return s !== undefined && (s.digest === digest || s.refused?.digest === digest);
  };

  function offer(partyId: string, p: OfferedPolicy): void {
    if (!o.link.sendSealed(partyId, { type: 'policy_offer', sessionId, to: partyId, body: { signed: p.signed } })) return;
    o.logger.info({ partyId, version: p.version, digest: p.digest }, 'policy offered');
  }

  function wants(partyId: string, p: OfferedPolicy): boolean {
    const s = statuses.get(partyId);
    if (s === undefined) return true;
    return s.version < p.version && s.refused?.digest !== p.digest;
  }

  return {
    setLatest(policy) {
      if (latest === undefined || policy.version > latest.version) latest = policy;
    },
    distribute(policy) {
      latest = policy;
      for (const partyId of statuses.keys()) if (o.link.isConnected(partyId) && wants(partyId, policy)) offer(partyId, policy);
    },
    onStatus(partyId, status) {
      statuses.set(partyId, {
        source: status.source,
        version: status.version,
        digest: status.digest,
        reportedAt: new Date(o.clock.now()).toISOString(),
        refused: status.refused,
      });
      if (status.refused) o.logger.warn({ partyId, ...status.refused }, 'party refused the policy offered');
      for (const w of [...waiters]) w();
      if (latest && wants(partyId, latest)) offer(partyId, latest);
    },
    statusOf: (partyId) => statuses.get(partyId) ?? null,
    waitSettled(digest, partyIds, ms, signal) {
      const done = () => partyIds.every((p) => settledAt(p, digest));
      if (done()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const finish = (v: boolean) => {
          waiters.delete(check);
          timer.cancel();
          signal?.removeEventListener('abort', abort);
          resolve(v);
        };
        const check = () => {
          if (done()) finish(true);
        };
        const abort = () => finish(false);
        const timer = o.clock.setTimeout(() => finish(false), ms);
        waiters.add(check);
        signal?.addEventListener('abort', abort, { once: true });
      });
    },
  };
}
