#!/usr/bin/env bash
# Run every benchmark suite (full sizes) and record the results next to this script.
# Extra arguments go to `silt bench`, e.g. `benchmarks/run.sh meta small` or `--quick`.
# The table is what docs/BENCHMARKS.md shows; the method is described there.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e .
exec silt bench --json benchmarks/results.json "$@"
