#!/usr/bin/env bash
# backupscope side by side with the alternatives, in one run on this machine (issue: "Prove it
# under load"): installs what the comparison needs (the official Python prometheus_client from
# PyPI, through scripts/install-test-deps.sh), then runs the benchmark binaries that print the
# figures of docs/BENCHMARKS.md ("Side by side"). Takes ~13 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo bench --bench side_by_side
cargo bench --bench side_by_side_watch
cargo bench --bench scrape
cargo bench --bench load
