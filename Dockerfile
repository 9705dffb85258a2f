# syntax=docker/dockerfile:1
# meshwarden: build with the full toolchain, ship only the compiled code and production
# dependencies on a distroless Node.js 20 image (no shell, no package manager).
#   docker build -t ghcr.io/meshwarden/meshwarden:0.1.0 .
#   docker run -v "$PWD/examples:/etc/meshwarden:ro" -p 9191:9191 ghcr.io/meshwarden/meshwarden:0.1.0

# --- build: TypeScript → dist/ -------------------------------------------------------
FROM node:20-slim AS build
WORKDIR /src
# Manifests first, so the dependency layer is cached across source changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only ----------------------------------------------
FROM node:20-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime -------------------------------------------------------------------------
# The :nonroot variant runs as uid/gid 65532, the user the Kubernetes manifests expect.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Read at run time, relative to dist/: the Envoy ext_authz protos and the policy schema.
COPY package.json ./
COPY proto ./proto
COPY schema ./schema
USER 65532:65532
# 9191: gRPC (Authorization, Health). 9901: admin HTTP (metrics, health, policy).
EXPOSE 9191 9901
# No HEALTHCHECK: the image has no shell or curl; Kubernetes probes the gRPC health
# service natively (k8s/base/deployment.yaml).
ENTRYPOINT ["/nodejs/bin/node", "dist/cli/main.js", "serve", "--config", "/etc/meshwarden/config.yaml"]
