#!/usr/bin/env bash
# Make sure headless Chromium and its WebDriver are installed (the dashboard's browser test).
#
# Installs Debian's `chromium` and `chromium-driver` with apt-get when `chromium` or
# `chromedriver` is missing.  Runs `apt-get update` only if the packages are unknown to
# apt.  Needs root (or passwordless sudo).  When it cannot install (not root, no apt, no
# network) it warns and exits 0: the browser test then skips itself, or fails with
# SILT_REQUIRE_BROWSER=1.  Set SILT_SKIP_CHROMIUM=1 to do nothing.
set -euo pipefail

if [[ "${SILT_SKIP_CHROMIUM:-}" == "1" ]]; then
    exit 0
fi
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: no apt-get; install chromium + chromedriver yourself (the browser test will skip)" >&2
    exit 0
fi

SUDO=()
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "ensure-chromium: not root; run 'apt-get install chromium chromium-driver' (the browser test will skip)" >&2
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
packages=(chromium chromium-driver)
known() {
    local p
    for p in "${packages[@]}"; do
        apt-cache show "$p" >/dev/null 2>&1 || return 1
    done
}
fail() {
    # a missing browser must not stop the rest of the suite: the browser test skips
    # (SILT_REQUIRE_BROWSER=1 makes it fail instead)
    echo "ensure-chromium: WARNING: $1; the dashboard's browser test will skip" >&2
    exit 0
}
if ! known; then
    echo "ensure-chromium: apt-get update" >&2
    "${SUDO[@]}" apt-get update -qq >/dev/null || fail "apt-get update failed"
fi
echo "ensure-chromium: apt-get install ${packages[*]}" >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
    || fail "apt-get install ${packages[*]} failed"
command -v chromium >/dev/null && command -v chromedriver >/dev/null \
    || fail "chromium/chromedriver still missing after the install"
