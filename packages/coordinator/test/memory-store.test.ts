/**
 * The in-memory OrchestratorStore the in-process tests run the orchestrator on holds offline
 * parties' commitments and bundle sequences as the real stores do: the same contract.
 */
import { beforeEach, describe } from 'vitest';
import { MemoryStore } from '../../../test/support/memory-store.js';
import { offlineContract } from './store-contract.js';

describe('MemoryStore: offline parties', () => {
  let store: MemoryStore;
  beforeEach(() => {
    store = new MemoryStore();
  });
  // One process holds it: a "second instance" on its data is the store itself.
  offlineContract({ store: () => store, again: async () => store });
});
