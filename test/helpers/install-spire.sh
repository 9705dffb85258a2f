#!/usr/bin/env bash
# Builds SPIRE's server and agent, pinned, into node_modules/.cache/meshwarden-spire/bin, for
# test/e2e/spire-workload-api.test.ts (a real SPIRE). About 1 minute with warm Go caches and 10
# cold, which is why CI does not run it yet. Run from anywhere; re-running is a no-op once built.
# The Go module proxy serves this release through `go get -tool` in a module only.
set -euo pipefail
cd "$(dirname "$0")/../.."
SPIRE_VERSION="v1.13.3"
SPIRE_DIR="$PWD/node_modules/.cache/meshwarden-spire"
if "$SPIRE_DIR/bin/spire-server" --version 2>&1 | grep -q "^${SPIRE_VERSION#v}" && [ -x "$SPIRE_DIR/bin/spire-agent" ]; then
  exit 0
fi
mkdir -p "$SPIRE_DIR/mod"
cd "$SPIRE_DIR/mod"
[ -f go.mod ] || go mod init meshwarden-spire-tools >/dev/null 2>&1
go get -tool "github.com/spiffe/spire/cmd/spire-server@${SPIRE_VERSION}"
go get -tool "github.com/spiffe/spire/cmd/spire-agent@${SPIRE_VERSION}"
GOBIN="$SPIRE_DIR/bin" go install github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent
"$SPIRE_DIR/bin/spire-server" --version
