/** The console's pages, in navigation order. */
import type { Page } from '../page.js';
import { airgapPage } from './airgap.js';
import { approvalsPage } from './approvals.js';
import { auditPage } from './audit.js';
import { keysPage } from './keys.js';
import { operationsPage } from './operations.js';
import { partiesPage } from './parties.js';
import { requestsPage } from './requests.js';
import { trustPage } from './trust.js';

export const PAGES: readonly Page[] = [
  keysPage,
  requestsPage,
  approvalsPage,
  partiesPage,
  operationsPage,
  airgapPage,
  auditPage,
  trustPage,
];
