#!/usr/bin/env bash
# Make sure FUSE 3 is installed (`silt mount` and tests/mount): Debian's fuse3 package
# (fusermount3, libfuse3.so.3) and /dev/fuse.  Installs with apt-get when missing (root,
# or passwordless sudo); runs `apt-get update` only if apt does not know the package.
# When it cannot install it warns and exits 0: the mount tests then fail with the reason
# (SILT_REQUIRE_FUSE=1) or skip.
set -euo pipefail

have_fuse() {
    command -v fusermount3 >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libfuse3\.so'
}
if have_fuse; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-fuse: no apt-get; install FUSE 3 (fuse3) yourself" >&2
    exit 0
fi
SUDO=()
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "ensure-fuse: not root; run 'apt-get install fuse3'" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show fuse3 >/dev/null 2>&1; then
    "${SUDO[@]}" apt-get update -qq
fi
"${SUDO[@]}" apt-get install -y -qq fuse3 >/dev/null
have_fuse || echo "ensure-fuse: fuse3 installed but libfuse3 not found" >&2
