/**
 * Every error leaves as `application/problem+json` (RFC 9457) with a stable `code`: ours,
 * fastify's own (bad JSON, body too large, unsupported media type, unknown route) and anything
 * unexpected. 5xx answers never carry internals: their detail is generic, the log has the cause.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CoordinatorError, ERROR_STATUS, type ErrorCode, isCoordinatorError } from '../errors.js';

/** The media type of error responses. */
export const PROBLEM_TYPE = 'application/problem+json';

// fastify's error codes, by what they mean to a client.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
  // A path that cannot be decoded, or an id longer than any we issue, names nothing.
  FST_ERR_BAD_URL: 'not_found',
  FST_ERR_MAX_PARAM_LENGTH: 'not_found',
};

const MAPPED_DETAIL: Partial<Record<ErrorCode, string>> = { invalid_json: 'body: not valid JSON', not_found: 'not found' };

/** What a thrown value becomes on the wire. */
export function toCoordinatorError(err: unknown): CoordinatorError {
  if (isCoordinatorError(err)) return err;
  const e = err as Partial<FastifyError> | undefined;
  const mapped = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return new CoordinatorError(mapped, MAPPED_DETAIL[mapped] ?? e?.message ?? mapped, { cause: err });
  // Other client errors fastify raises keep their meaning, without a code of their own.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new CoordinatorError('invalid_request', e.message ?? 'invalid request', { cause: err });
  }
  return new CoordinatorError('internal_error', 'internal error', { cause: err });
}

/** The problem document for `err`; `requestId` is absent only before a request exists. */
function problemBody(err: CoordinatorError, requestId: string | undefined): Record<string, unknown> {
  const status = ERROR_STATUS[err.code];
  const detail = status >= 500 && err.code === 'internal_error' ? 'Internal Server Error' : err.detail;
  const body = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code: err.code, detail };
  return requestId === undefined ? body : { ...body, requestId };
}

/** Sends `err` as a problem document. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: CoordinatorError): FastifyReply {
  const status = ERROR_STATUS[err.code];
  const body = problemBody(err, request.id);
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  // A string payload bypasses the route's response serializers, which describe success bodies.
  return reply.code(status).type(PROBLEM_TYPE).send(JSON.stringify(body));
}

/** Installs the error and not-found handlers. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const err = toCoordinatorError(error);
    if (err.statusCode >= 500) request.log.error({ err: error, code: err.code }, 'request failed');
    else request.log.info({ code: err.code, detail: err.detail }, 'request rejected');
    return sendProblem(request, reply, err);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new CoordinatorError('not_found', 'not found')));
}

/** fastify's `frameworkErrors` option: errors raised before routing (e.g. an undecodable URL). */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(request, reply, toCoordinatorError(error));
}

/** What an error Node raised while reading a request means to the client. */
export function clientErrorOf(err: { code?: unknown }): CoordinatorError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new CoordinatorError('request_timeout', 'the request was not received in time');
    case 'HPE_HEADER_OVERFLOW':
      return new CoordinatorError('headers_too_large', 'the request headers are too large');
    default:
      return new CoordinatorError('invalid_request', 'the request is not valid HTTP/1.1');
  }
}

/**
 * fastify's `clientErrorHandler`: errors Node's HTTP parser raises before there is a request (bad
 * header bytes, headers too large, a request too slow to arrive) answer a problem document like
 * every other error, and close the connection, whose byte stream can no longer be trusted.
 */
export function clientErrorHandler(
  this: { log: { debug(o: object, msg: string): void } },
  err: Error & { code?: string },
  socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null },
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = clientErrorOf(err);
  this.log.debug({ code: problem.code, cause: err.code }, 'client error');
  // A response already under way cannot be followed by another on the same connection.
  if (!socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = ERROR_STATUS[problem.code];
  const body = JSON.stringify(problemBody(problem, undefined));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
