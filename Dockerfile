# syntax=docker/dockerfile:1
# spendgate proxy image. Build: docker build -t spendgate .   Run: see docs/deploying.md.

# ---- build: compile the TypeScript, then install only what the proxy runs on ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source where no prebuilt binary fits this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: lifecycle scripts would run before the sources are here; the native module is built
# explicitly.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build
# Production dependencies, plus the proxy's own, which spendgate names only as optional peers (so that the
# agent tools install light): fastify, pino, prom-client, undici, better-sqlite3, and pg for PostgreSQL, each
# at the range package.json gives.
RUN rm -rf node_modules \
 && npm ci --omit=dev --ignore-scripts \
 && npm install --no-save --omit=dev --ignore-scripts $(node -p "const p = require('./package.json').peerDependencies; ['fastify', 'pino', 'prom-client', 'undici', 'better-sqlite3', 'pg'].map((n) => n + '@' + p[n]).join(' ')") \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

# ---- runtime: no compilers, no npm in the process tree, not root ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SPENDGATE_HOST=0.0.0.0 \
    SPENDGATE_PORT=8787 \
    SPENDGATE_DB=/data/spendgate.db \
    SPENDGATE_JOURNAL_DIR=/data/journal
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data/journal && chown -R node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# Ready means the ledger answers; a load balancer should use the same endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SPENDGATE_PORT||8787)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (drain in-flight calls, settle, close the ledger): no npm, npx or
# sh in between to swallow the signal. `docker run spendgate keys list` runs any other subcommand.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/bin.js"]
CMD ["serve"]
