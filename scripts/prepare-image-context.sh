#!/bin/sh
# Prepares .docker-prebuilt/: the application tree the Dockerfile's `deps-prebuilt` stage copies
# (compiled dist/, production-only node_modules, docker/), built on this machine instead of by
# `RUN npm ci` inside the image build. For machines where a build container cannot reach the npm
# registry (the CI machine: its egress needs a CA that containers do not have), e.g.:
#
#   scripts/prepare-image-context.sh
#   GLACIS_DEPS_STAGE=deps-prebuilt docker compose up --build
#
# Needs `npm ci` done here first; takes no network. The host must be glibc Linux on the image's
# architecture with the image's Node major version, because better-sqlite3's compiled addon is
# copied as it is. Users with registry access never need this: the default stage `deps-npm` builds
# everything inside the image.
set -eu
cd "$(dirname "$0")/.."
OUT=.docker-prebuilt

[ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || {
  echo "$0: run npm ci first (better-sqlite3's native addon is not built)" >&2
  exit 1
}
npx tsc -b
rm -rf "$OUT"
mkdir -p "$OUT/packages"
cp package.json package-lock.json "$OUT/"
cp -a node_modules "$OUT/node_modules"
cp -a docker "$OUT/docker"
# Every workspace, so that the lockfile's workspace links all resolve and a package that gains a
# dependency on another (the party on airgap, say) finds it in the image.
for dir in packages/*/; do
  pkg=$(basename "$dir")
  mkdir -p "$OUT/packages/$pkg"
  cp packages/$pkg/package.json "$OUT/packages/$pkg/"
  cp -a packages/$pkg/dist "$OUT/packages/$pkg/dist"
done
# The console's page, styles and icon, and its vendored modules (its own modules are in dist/);
# the coordinator serves all three.
cp -a packages/console/public "$OUT/packages/console/public"
mkdir -p "$OUT/packages/console/vendor"
cp packages/console/vendor/*.js "$OUT/packages/console/vendor/"
# Production dependencies only, from the lockfile, offline.
(cd "$OUT" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error)
node docker/prune-runtime.mjs "$OUT"
echo "$OUT: $(du -sh "$OUT" | cut -f1) ($(ls "$OUT/node_modules" | wc -l) top-level modules)"
