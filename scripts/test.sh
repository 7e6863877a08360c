#!/usr/bin/env bash
# Runs every test: unit, golden, integration (test API server) and end-to-end tests against a
# real Prometheus. Installs what the tests need first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Benchmarks are not tests (they print figures, see docs/BENCHMARKS.md); clippy --all-targets
# keeps them compiling.
status=0
cargo test --workspace "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every test binary and doc-test run.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
