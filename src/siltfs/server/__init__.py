"""The master's HTTP API (FastAPI) over an embedded FileSystem.

``create_app(fs, token)`` builds the application; ``silt master`` serves it with uvicorn.
The remote client is :class:`siltfs.client.remote.RemoteFileSystem`.
"""

from siltfs.server.api import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
