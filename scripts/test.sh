#!/usr/bin/env bash
# Runs every test: unit, golden, integration (test API server) and end-to-end tests against a
# real Prometheus. Installs what the tests need first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo test --workspace --all-targets "$@"
