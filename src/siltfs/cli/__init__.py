"""The ``silt`` command line.

``main.py`` holds the entry point, the root group and :func:`~siltfs.cli.main.open_fs`;
each command group lives in its own module and is loaded only when it is invoked
(``fs.py`` assembles ``silt fs`` from ``namespace.py``, ``transfer.py``, ``caching.py``
and ``mounts.py``).  Nothing is imported here, so ``python -m siltfs.cli.main`` works.
"""
