/**
 * Frames on the party ↔ coordinator WebSocket. The connection is authenticated both ways before
 * any envelope flows: the coordinator challenges, the party signs the challenge with its identity
 * key and challenges back, the coordinator answers with its own signature. Envelopes stay signed
 * end to end regardless; this handshake decides who may hold a connection.
 */
import { z } from 'zod';
import { canonicalBytes } from '../canonical.js';
import { envelopeSchema } from './messages.js';
import { hexSchema, partyIdSchema } from './primitives.js';

const nonceSchema = hexSchema.length(64);
const signatureSchema = hexSchema.length(128);

export const transportFrameSchema = z.discriminatedUnion('t', [
  /** coordinator → party, first frame. */
  z.strictObject({ t: z.literal('challenge'), nonce: nonceSchema }),
  /** party → coordinator: proof of identity, and a challenge for the coordinator. */
  z.strictObject({ t: z.literal('auth'), partyId: partyIdSchema, nonce: nonceSchema, signature: signatureSchema }),
  /** coordinator → party: the coordinator's proof of identity; envelopes may flow after it. */
  z.strictObject({ t: z.literal('welcome'), signature: signatureSchema }),
  /** either way: one signed protocol envelope. */
  z.strictObject({ t: z.literal('env'), envelope: envelopeSchema }),
]);
export type TransportFrame = z.infer<typeof transportFrameSchema>;

/** Bytes a party signs to answer the coordinator's challenge. */
export function partyAuthBytes(challenge: string, partyId: string): Uint8Array {
  return canonicalBytes('glacis/ws-auth/party/v1', { challenge, partyId });
}

/** Bytes the coordinator signs to answer a party's challenge. */
export function coordinatorAuthBytes(challenge: string, partyId: string): Uint8Array {
  return canonicalBytes('glacis/ws-auth/coordinator/v1', { challenge, partyId });
}

/** WebSocket close codes Glacis uses. */
export const WS_CLOSE = {
  /** Authentication failed or a stranger connected. */
  unauthorized: 4401,
  /** A frame was malformed or violated the protocol. */
  protocolViolation: 4400,
  /** A newer connection of the same party replaced this one. */
  replaced: 4409,
} as const;
