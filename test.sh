#!/usr/bin/env bash
# Install the pinned test dependencies into the active Python environment, lint (ruff),
# type-check (mypy) and run the whole test suite.  Arguments are passed to pytest.
# Versions come from constraints.txt (regenerate: bash scripts/lock.sh).
set -euo pipefail
cd "$(dirname "$0")"

installing=$(date +%s)
python -m pip install -q -c constraints.txt --upgrade pip
python -m pip install -q -c constraints.txt -e '.[test,s3,server,postgres]'
echo "test.sh: pinned dependencies installed in $(( $(date +%s) - installing )) s"

ruff check --no-cache src tests
ruff format --no-cache --check src tests
mypy
bash scripts/ensure-fuse.sh      # fuse3 for `silt mount` (tests/mount), rclone (bench mount)
bash scripts/ensure-chromium.sh  # headless chromium + chromedriver for tests/server/test_dashboard.py
export SILT_REQUIRE_BROWSER=1    # ...so the browser test fails rather than skips without them
export SILT_REQUIRE_FUSE=1       # mount tests fail (not skip) without FUSE
export SILT_REQUIRE_POSTGRES=1   # PostgreSQL tests fail (not skip) if no server can be started
# pytest exits 5 when nothing was collected; with `set -e` that fails this script too.
python -m pytest "$@"
