# Glacis: one runtime image for the coordinator and for party nodes.
#
#   docker build --target coordinator -t glacis-coordinator .     # REST API + party relay, port 8700
#   docker build --target party -t glacis-party .                 # a party node: listens on nothing
#
# docker/entrypoint.mjs picks the process (`coordinator`, `party`, or one `glacis-coordinator` /
# `glacis-party` CLI command) and initialises an empty data directory on first start. Needs
# BuildKit (the default of `docker compose` and of Docker Engine 23 and later), which builds only
# the stages the target needs.
#
# Where the application comes from (ARG DEPS_STAGE):
#   deps-npm       (default) `npm ci`, `tsc -b` and `npm prune --omit=dev` inside the build; needs
#                  the npm registry, and a C++ toolchain if better-sqlite3 has no prebuilt binary.
#   deps-prebuilt  copies .docker-prebuilt/, made on the host by scripts/prepare-image-context.sh,
#                  for machines whose builds cannot reach the registry (this project's CI).
ARG NODE_IMAGE=node:20-bookworm-slim
ARG DEPS_STAGE=deps-npm

FROM ${NODE_IMAGE} AS deps-npm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
# Every workspace's manifest (npm ci wants each workspace the lockfile names).
COPY packages/protocol/package.json packages/protocol/
COPY packages/party-node/package.json packages/party-node/
COPY packages/coordinator/package.json packages/coordinator/
COPY packages/client/package.json packages/client/
COPY packages/airgap/package.json packages/airgap/
COPY packages/console/package.json packages/console/
# Install scripts off for everything but the one native addon the runtime needs: better-sqlite3
# fetches a prebuilt binary, or compiles against the base image's own Node headers.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm_config_nodedir=/usr/local npm rebuild better-sqlite3
COPY packages/ packages/
COPY docker/ docker/
RUN npx tsc -b \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node docker/prune-runtime.mjs /app

FROM scratch AS deps-prebuilt
COPY .docker-prebuilt/ /app/

FROM ${DEPS_STAGE} AS deps

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp \
    GLACIS_DATA_DIR=/data
COPY --from=deps /app /app
RUN ["node", "/app/docker/setup-image.mjs"]
WORKDIR /data
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/docker/entrypoint.mjs"]

FROM runtime AS party
ENV GLACIS_ROLE=party
CMD ["party"]

FROM runtime AS coordinator
ENV GLACIS_ROLE=coordinator \
    GLACIS_HOST=0.0.0.0 \
    GLACIS_PORT=8700
EXPOSE 8700
CMD ["coordinator"]
