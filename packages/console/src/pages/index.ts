/**
 * The console's pages, in navigation order. The Approvals page (approver key from WebCrypto or the
 * CLI's format, the decoded intent, approve or reject by signing the approval digest) and the Air
 * gap page (an offline party's outbox as animated QR frames, response frames read from images)
 * join this list when their endpoints exist.
 */
import type { Page } from '../page.js';
import { auditPage } from './audit.js';
import { keysPage } from './keys.js';
import { operationsPage } from './operations.js';
import { partiesPage } from './parties.js';
import { requestsPage } from './requests.js';
import { trustPage } from './trust.js';

export const PAGES: readonly Page[] = [keysPage, requestsPage, partiesPage, operationsPage, auditPage, trustPage];
