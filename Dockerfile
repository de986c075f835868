# syntax=docker/dockerfile:1
# One image for every taskstream process: the backend (default command) and the reminder,
# recurrence and audit workers (`node dist/workers/main.js <role>`). See docs/deploy.md.
#
#   docker build -t taskstream:dev .
#   docker run --rm -p 3000:3000 -e HOST=0.0.0.0 taskstream:dev

# Pin the patch release so that a rebuild of the same commit gets the same Node; bump on purpose.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build: all dependencies (tsc lives in devDependencies), then compile src/ into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, installed apart so the build stage's tree and npm cache stay out.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# tini runs as PID 1: it forwards SIGTERM to node and reaps zombies. Node as PID 1 would also
# receive SIGTERM (our processes install a handler and drain), but the kernel gives PID 1 no
# default signal actions, so any signal we forget to handle would be silently ignored.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  # The runtime never calls npm, npx or corepack: drop them and the CVEs they carry.
  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist ./dist
COPY --chown=0:0 package.json ./
# Files stay owned by root and read-only for the app user; the process writes only to /tmp
# (an emptyDir in Kubernetes, where the root filesystem is read-only).
# 1000 is the `node` user of the base image; numeric so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000 3001
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/backend/main.js"]
