#!/usr/bin/env bash
# Lint, type-check and test siltfs.  Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")"

python -m pip install -q -e '.[test,s3,server,postgres]'

ruff check --no-cache src tests
ruff format --no-cache --check src tests
mypy
# pytest exits 5 when nothing was collected; with `set -e` that fails this script too.
python -m pytest "$@"
