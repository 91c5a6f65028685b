#!/usr/bin/env bash
# Install siltfs and run the walkthrough on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")"
python -m pip install -q .
export SILT_HOME="${SILT_HOME:-$HOME/.silt}"
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
head -c 5000000 /dev/urandom > "$demo/sample.bin"
echo "siltfs home: $SILT_HOME"
set -x
silt fs mkdir -p /walkthrough/A/B
silt fs put "$demo/sample.bin" /walkthrough/A/B/01          # ASYNC_THROUGH: cached, persisted in the background
silt fs mv /walkthrough/A /walkthrough/C                      # rename while the persist is pending
silt fs wait-persisted /walkthrough --timeout 60
silt fs ls -l -R /walkthrough
silt fs stat /walkthrough/C/B/01
silt fs get /walkthrough/C/B/01 "$demo/back.bin"
cmp "$demo/sample.bin" "$demo/back.bin"
silt fs rm -R /walkthrough
set +x
echo "UFS root after cleanup: $(ls -A "$SILT_HOME/ufs" | wc -l) entries under $SILT_HOME/ufs"
