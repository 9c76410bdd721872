/**
 * Runs once, as root, while the runtime image is built (`RUN ["node", "/app/docker/setup-image.mjs"]`:
 * the exec form needs no shell, so it works on any base image that has node).
 *   * /data (the node's state) and /bootstrap (demo key exchange) owned by the service user, so a
 *     fresh named volume mounted there inherits that owner;
 *   * `glacis-coordinator` and `glacis-party` on PATH (for `docker compose exec … glacis-party …`);
 *   * npm, npx, corepack and yarn removed: nothing installs packages at run time.
 */
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';

const UID = 10001;
const GID = 10001;

for (const [dir, mode] of [
  ['/data', 0o700],
  ['/bootstrap', 0o755],
]) {
  mkdirSync(dir, { recursive: true });
  chownSync(dir, UID, GID);
  chmodSync(dir, mode);
}

mkdirSync('/usr/local/bin', { recursive: true });
for (const [bin, file] of [
  ['glacis-coordinator', '/app/packages/coordinator/dist/cli.js'],
  ['glacis-party', '/app/packages/party-node/dist/cli.js'],
]) {
  chmodSync(file, 0o755);
  rmSync(`/usr/local/bin/${bin}`, { force: true });
  symlinkSync(file, `/usr/local/bin/${bin}`);
}

for (const path of [
  '/usr/local/lib/node_modules/npm',
  '/usr/local/lib/node_modules/corepack',
  '/usr/local/bin/npm',
  '/usr/local/bin/npx',
  '/usr/local/bin/corepack',
  '/usr/local/bin/yarn',
  '/usr/local/bin/yarnpkg',
  '/opt/yarn',
]) {
  rmSync(path, { recursive: true, force: true });
}
