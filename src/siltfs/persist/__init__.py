"""The persistence protocol of ASYNC_THROUGH writes (being gathered here, issue 13)."""
