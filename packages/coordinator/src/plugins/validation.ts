/**
 * Request validation: the route's zod schema parses each request part once, and a failure becomes
 * a CoordinatorError with the most precise code API.md names (invalid_hex, unknown_suite,
 * invalid_threshold, empty_message) instead of a generic validation error.
 */
import { hexSchema } from '@glacis/protocol';
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { safeParse } from 'zod/v4/core';
import { CoordinatorError, type ErrorCode } from '../errors.js';

type Issue = z.core.$ZodIssue;

// The hex pattern as zod reports it, taken from the schema itself so the two cannot drift apart.
const HEX_PATTERN: string | undefined = (() => {
  const issue = hexSchema.safeParse('x').error?.issues[0] as { pattern?: string } | undefined;
  return issue?.pattern;
})();

/** The error code for one zod issue found in `part` of a request. */
export function codeForIssue(issue: Issue, part: string): ErrorCode {
  if (issue.code === 'invalid_format' && issue.format === 'regex' && issue.pattern === HEX_PATTERN) return 'invalid_hex';
  if (part !== 'body') return 'invalid_request';
  const [field, index] = issue.path;
  // A wrong JSON type or a missing field is a malformed request; a well-typed bad value gets its own code.
  const input = (issue as { input?: unknown }).input;
  switch (field) {
    case 'suite':
      return typeof input === 'string' ? 'unknown_suite' : 'invalid_request';
    case 'threshold':
      return typeof input === 'number' ? 'invalid_threshold' : 'invalid_request';
    case 'parties':
      return index === undefined && issue.code === 'too_big' ? 'invalid_threshold' : 'invalid_request';
    case 'message':
      // Only an empty string is an empty message; `["00"]` (too small as an array too) is malformed.
      return issue.code === 'too_small' && typeof input === 'string' ? 'empty_message' : 'invalid_request';
    case 'intent':
      return 'intent_invalid';
    case 'policy':
      return 'policy_invalid';
    default:
      return 'invalid_request';
  }
}

function describe(issue: Issue, code: ErrorCode, part: string): string {
  const path = issue.path.map(String).join('.');
  const where = part === 'querystring' ? `?${path || 'query'}` : part === 'headers' ? `header ${path}` : path || part;
  switch (code) {
    case 'invalid_hex':
      return `${where}: not a hex string (expected lowercase, even-length hex)`;
    case 'unknown_suite':
      return `${where}: unknown suite`;
    case 'empty_message':
      return `${where}: the message is empty`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** The CoordinatorError for a failed parse: the first issue with a specific code, else the first issue. */
export function validationError(issues: readonly Issue[], part: string): CoordinatorError {
  const coded = issues.map((issue) => ({ issue, code: codeForIssue(issue, part) }));
  const chosen = coded.find((c) => c.code !== 'invalid_request') ?? coded[0];
  if (!chosen) return new CoordinatorError('invalid_request', `${part}: invalid`);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new CoordinatorError(chosen.code, `${describe(chosen.issue, chosen.code, part)}${more}`);
}

/** Fastify validator compiler for zod schemas that fails with CoordinatorErrors. */
export const validatorCompiler: FastifySchemaCompiler<$ZodType> =
  ({ schema, httpPart }) =>
  (data: unknown) => {
    // reportInput lets codeForIssue tell a wrong type from a bad value; inputs are never echoed.
    const r = safeParse(schema, data, { reportInput: true });
    if (r.success) return { value: r.data };
    return { error: validationError(r.error.issues, httpPart ?? 'body') };
  };
