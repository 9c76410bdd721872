/**
 * The Air gap page words every refusal of the inbox: each bundle code the protocol's `openBundle`
 * can raise and each inbox code of the coordinator has its meaning and what to do, and nothing is
 * worded that the coordinator never answers.
 */
import { BUNDLE_ERROR_CODES } from '@glacis/protocol';
import { expect, test } from 'vitest';
import { ERROR_STATUS } from '../../coordinator/src/errors.js';
import { INBOX_PROBLEMS } from '../src/inbox-problem.js';

test('every bundle code and inbox code of the coordinator is worded, and only codes it answers with', () => {
  const coordinator = Object.keys(ERROR_STATUS);
  const inbox = coordinator.filter((c) => c.startsWith('inbox_'));
  expect(Object.keys(INBOX_PROBLEMS)).toEqual(expect.arrayContaining([...BUNDLE_ERROR_CODES, ...inbox, 'party_not_offline']));
  for (const code of Object.keys(INBOX_PROBLEMS)) expect(coordinator).toContain(code);
});
