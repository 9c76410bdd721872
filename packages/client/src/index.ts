/**
 * @glacis/client — Glacis on a custody desk's side: a typed client for the whole REST API, the
 * key check against party identities the desk pinned itself, and the audit-log check.
 */
export { type AuditCheck, auditPages, verifyAuditLog } from './audit-log.js';
export { type ClientOptions, createGlacisClient, type GlacisClient } from './client.js';
export { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode, isClientError } from './errors.js';
export { type ResponseSpec, type RouteInput, type RouteName, type RouteOutput, type RouteSpec, type Routes, routes } from './routes.js';
export {
  type AuditEvent,
  type Health,
  type Key,
  keySchema,
  type LatencySummary,
  type Operation,
  type PartyList,
  type Problem,
  type Signature,
} from './schemas.js';
export { parseTrustFile, type TrustFile, trustFileSchema } from './trust-file.js';
export { KEY_REFUSAL_CODES, type KeyRefusalCode, type KeyVerdict, verifyKey } from './verify-key.js';
