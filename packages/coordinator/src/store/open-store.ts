/** The store a configuration names: PostgreSQL when GLACIS_DATABASE_URL is set, else the SQLite file. */
import type { CoordinatorConfig } from '../config.js';
import { openPostgresStore } from './pg-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './types.js';

/** An open store, and whether other coordinator instances may share it. */
export interface OpenedStore {
  store: Store;
  /** True for PostgreSQL: other instances may run on the same database. */
  shared: boolean;
}

/** Opens (and migrates) the configured store. */
export async function openStore(config: Pick<CoordinatorConfig, 'databaseUrl' | 'databasePath'>): Promise<OpenedStore> {
  if (config.databaseUrl !== null) return { store: await openPostgresStore({ url: config.databaseUrl }), shared: true };
  return { store: openSqliteStore({ path: config.databasePath }), shared: false };
}
