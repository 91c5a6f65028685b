"""``silt mount``: siltfs as a POSIX file system through FUSE (mfusepy over libfuse3).

:mod:`siltfs.mount.ops` holds the FUSE operations over either client,
:mod:`siltfs.mount.files` the open files and their spools, :mod:`siltfs.mount.runner`
the mount point checks and the FUSE loop.
"""
