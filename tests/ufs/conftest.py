"""UFS tests that run a whole siltfs on S3 use the client tests' ``make_fs``."""

from __future__ import annotations

from tests.client.conftest import make_fs, metastore_uri  # noqa: F401 - fixtures
