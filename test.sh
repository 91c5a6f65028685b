#!/usr/bin/env bash
# Lint, type-check and test siltfs.  Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")"

python -m pip install -q -e '.[test,s3,server,postgres]'

ruff check --no-cache src tests
ruff format --no-cache --check src tests
mypy
bash scripts/ensure-chromium.sh  # headless chromium + chromedriver for tests/server/test_dashboard.py
export SILT_REQUIRE_BROWSER=1    # ...so the browser test fails rather than skips without them
export SILT_REQUIRE_POSTGRES=1   # PostgreSQL tests fail (not skip) if no server can be started
# pytest exits 5 when nothing was collected; with `set -e` that fails this script too.
python -m pytest "$@"
