#!/usr/bin/env bash
# Install siltfs and run the walkthrough on embedded defaults ($SILT_HOME, default ~/.silt):
# mount a local directory, write with each write type, show the states, then run the
# seed scenario (write /A/B/01 ASYNC_THROUGH, rename /A /C, wait, delete) through the CLI.
set -euo pipefail
cd "$(dirname "$0")"
python -m pip install -q .
export SILT_HOME="${SILT_HOME:-$HOME/.silt}"
demo=$(mktemp -d)
trap 'silt fs unmount /walkthrough/lake >/dev/null 2>&1 || true; rm -rf "$demo"' EXIT
mkdir -p "$demo/lake/raw"
echo "already in the lake" > "$demo/lake/raw/existing.txt"
head -c 5000000 /dev/urandom > "$demo/sample.bin"
echo "siltfs home: $SILT_HOME"
set -x
silt fs mkdir -p /walkthrough
silt fs mount /walkthrough/lake "file://$demo/lake"          # files appear without an import
silt fs cat /walkthrough/lake/raw/existing.txt
for wt in MUST_CACHE CACHE_THROUGH THROUGH ASYNC_THROUGH; do
  silt fs put --write-type "$wt" "$demo/sample.bin" "/walkthrough/lake/$wt.bin"
done
silt fs ls -l /walkthrough/lake                                # states right after the writes
silt fs persist /walkthrough/lake/MUST_CACHE.bin
silt fs wait-persisted /walkthrough --timeout 60
silt fs ls -l /walkthrough/lake                                # everything PERSISTED now
ls -l "$demo/lake"
# the seed scenario (Alluxio #18667)
silt fs put "$demo/sample.bin" /walkthrough/A/B/01             # ASYNC_THROUGH (default)
silt fs mv /walkthrough/A /walkthrough/C                       # rename while pending
silt fs wait-persisted /walkthrough --timeout 60
silt fs ls -l -R /walkthrough/C
silt fs get /walkthrough/C/B/01 "$demo/back.bin"
cmp "$demo/sample.bin" "$demo/back.bin"
if silt fs rm -R /walkthrough/A; then exit 1; fi               # FileNotFound: no ghost /A
silt fs rm -R /walkthrough/C
silt fs unmount /walkthrough/lake
silt fs rm -R /walkthrough
silt fs check-consistency /
set +x
echo "UFS root after the walkthrough: $(ls -A "$SILT_HOME/ufs" | wc -l) entries; lake: $(ls "$demo/lake" | tr '\n' ' ')"
