#!/usr/bin/env bash
# Make sure FUSE 3 is installed (`silt mount` and tests/mount): Debian's fuse3 package
# (fusermount3, libfuse3.so.3) and /dev/fuse; and rclone, the `mount` bench suite's
# other FUSE file system (`rclone mount --vfs-cache-mode writes`, tests/bench); and
# rsync, which tests/mount/test_programs.py runs on the mount.
# Installs with apt-get when missing (root, or passwordless sudo); runs `apt-get update`
# only if apt does not know a package.  When it cannot install them it warns and exits
# 0: the tests that need them then fail with the reason (SILT_REQUIRE_FUSE=1) or skip.
set -euo pipefail

# grep without -q: -q exits at the first match, ldconfig then dies of SIGPIPE and
# pipefail makes the test fail on a machine that has libfuse3
have_fuse() {
    command -v fusermount3 >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep 'libfuse3\.so' >/dev/null
}
have_rclone() {
    command -v rclone >/dev/null 2>&1
}
have_rsync() {
    command -v rsync >/dev/null 2>&1
}
if have_fuse && have_rclone && have_rsync; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-fuse: no apt-get; install FUSE 3 (fuse3) and rclone yourself" >&2
    exit 0
fi
SUDO=()
if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "ensure-fuse: not root; run 'apt-get install fuse3 rclone'" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
packages=()
have_fuse || packages+=(fuse3)
have_rclone || packages+=(rclone)
have_rsync || packages+=(rsync)
for p in "${packages[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then
        "${SUDO[@]}" apt-get update -qq
        break
    fi
done
"${SUDO[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
have_fuse || echo "ensure-fuse: fuse3 installed but libfuse3 not found" >&2
have_rclone || echo "ensure-fuse: rclone installed but not on PATH" >&2
have_rsync || echo "ensure-fuse: rsync installed but not on PATH" >&2
