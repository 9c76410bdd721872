/**
 * pino logging with secrets redacted by construction: any field whose name looks like a secret
 * (secret, share, token, passphrase, password, seed, authorization, cookie) is replaced at every
 * depth, whoever logged it, so a careless `log.info({ config })` cannot leak a credential.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** Field names whose values never reach a log line. */
export const SECRET_FIELD = /secret|share|token|passphrase|password|seed|authorization|cookie|api[-_]?key/i;
/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';
const MAX_DEPTH = 8;

/** A copy of `value` with every secret-named field replaced by REDACTED. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  // Errors and other class instances keep their own serializers; only plain data is walked.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? REDACTED : redactSecrets(v, depth + 1);
  return out;
}

/**
 * A URL with its query string replaced: clients put tokens there (`?access_token=`) whatever the
 * API says, and a log line must not keep them. The path stays, so the endpoint is still known.
 */
export function redactQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : `${url.slice(0, i)}?${REDACTED}`;
}

/** The `req` of fastify's request lines, with the query string redacted. */
function serializeRequest(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactQuery(req.url) : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Rewrites a child logger's serialized bindings (`,"k":v,...`) with secrets redacted. Only runs
 * the parse when a secret-looking name appears at all, so ordinary children cost one regex test.
 */
function redactChildBindings(child: Logger): void {
  const holder = child as unknown as Record<symbol, unknown>;
  const sym = pino.symbols.chindingsSym;
  const text = holder[sym];
  if (typeof text !== 'string' || !SECRET_FIELD.test(text)) return;
  const parsed = redactSecrets(JSON.parse(`{${text.slice(1)}}`)) as Record<string, unknown>;
  holder[sym] = Object.entries(parsed)
    .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join('');
}

/** Options of createLogger. */
export interface LoggerSettings {
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream to inspect output. */
  destination?: DestinationStream;
}

/** The coordinator's root logger. Fastify adds the request id (`reqId`) to every request's lines. */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'glacis-coordinator' },
    // Belt and braces: fastify's request serializer omits headers, but a raw req logged by
    // anyone else must not carry the bearer token either.
    // fastify merges these over its own serializers, so its request lines use this `req`.
    serializers: { req: serializeRequest },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: REDACTED },
    formatters: {
      bindings: (bindings) => redactSecrets(bindings) as Record<string, unknown>,
      log: (object) => redactSecrets(object) as Record<string, unknown>,
    },
    // pino skips formatters.bindings for child loggers; redact their bindings here instead.
    onChild: redactChildBindings,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
