# codegen-pr: the daemon (and the Task API) as a container.
# Build: docker build -t codegen-pr .
# Run:   docker run --env-file .env -p 9464:9464 codegen-pr               (the daemon; CMD run)
#        docker run --env-file .env -p 8787:8787 codegen-pr task-api      (the Task API)
# Stop with at least SHUTDOWN_GRACE_MS + 15 s of grace (production: 120 s), e.g. `docker stop -t 150`:
# Docker's default of 10 s kills tasks mid-flight (they are re-claimed from their checkpoint, but late).
# Node 24: one of the majors package.json engines and .ci/run name (test/deploy/engines.test.ts keeps them equal).
FROM node:24-bookworm-slim AS build
# better-sqlite3 (the embedded store) is a native addon: its install script downloads a prebuilt binary for this
# Node and platform, and builds it with node-gyp when the download is not reachable, which needs these three.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay off, except for the one package that needs its own (package.json allowScripts).
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
# tini is PID 1: it forwards SIGTERM to node (which drains and exits) and reaps zombies; no `--init` needed.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# V8 sizes its heap from the machine's memory and, on a large machine, lets it grow to 4x what is live between two
# full collections; a cap of 512 MB makes it grow by about 1.4x instead: 199 MB RSS at 2,000 tasks in flight
# against 336 MB without it (BENCHMARKS.md, memory). The live heap with 2,000 tasks in flight is about 50 MB, so the
# cap leaves room for CONCURRENCY up to its limit of 5,000; set NODE_OPTIONS to change it. npm start uses the same
# value.
ENV NODE_OPTIONS=--max-old-space-size=512
# Outside a container both endpoints bind 127.0.0.1 by default. In one, Prometheus, the health checks and the
# daemons reach them from other containers, so they bind every interface here: set STATUS_TOKEN to guard
# /status and /metrics (the Task API always requires its bearer token but on /health).
ENV HOST=0.0.0.0 TASK_API_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY deploy/docker/healthcheck.mjs /app/healthcheck.mjs
# The embedded store (SQLite; used only when neither CLOUDFLARE_API_URL nor DATABASE_URL is set) lives here.
# The runtime stage has the build stage's base image, so the addon built there loads here.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# 9464: the daemon's /metrics, /healthz, /readyz, /status. 8787: the Task API (command task-api).
EXPOSE 9464 8787
# Probes the endpoint of whichever command runs: /healthz on PORT for `run`, /health on TASK_API_PORT for
# `task-api` (its other routes answer 401 without a token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/main.js"]
CMD ["run"]
