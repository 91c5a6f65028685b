#!/usr/bin/env bash
# Regenerate constraints.txt: resolve every extra of siltfs in a fresh virtual
# environment and pin what pip picked (runtime, test and tool versions alike).
#
#   bash scripts/lock.sh            # then review `git diff constraints.txt`, run ./test.sh, commit
#
# test.sh installs with `-c constraints.txt`, so a new release upstream never changes the
# build until this script is run again.  Add a dependency in pyproject.toml first.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q '.[test,s3,server,postgres]'
{
  echo "# Pinned versions for ./test.sh and CI.  Regenerate with: bash scripts/lock.sh"
  echo "pip==$("$venv/bin/python" -m pip --version | awk '{print $2}')"
  "$venv/bin/python" -m pip freeze --exclude-editable | grep -v -i '^siltfs[= @]' | LC_ALL=C sort -f
} > constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) pins"
