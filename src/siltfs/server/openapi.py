"""The OpenAPI document tells the truth about errors.

FastAPI documents 422 for every route with parameters; siltfs answers 400
``invalid_argument`` instead (``siltfs.server.errors``).  :func:`document_errors` rewrites
the generated document once: 422 goes, and every API operation lists the error statuses
the server can answer -- each :mod:`siltfs.errors` status, 401 without the token, 413 for
an over-limit body -- with the one error body ``{"code", "message", "path"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from siltfs.errors import SiltError
from siltfs.server.models import ErrorBody

__all__ = ["document_errors", "error_statuses"]


def error_statuses() -> list[int]:
    """Every status an API operation may answer with an error body."""
    statuses = {400, 401, 413, 500}
    stack: list[type[SiltError]] = [SiltError]
    while stack:
        cls = stack.pop()
        statuses.add(cls.status)
        stack.extend(cls.__subclasses__())
    return sorted(statuses)


def document_errors(app: FastAPI, api_prefix: str) -> None:
    """Make ``app.openapi()`` document siltfs's errors instead of FastAPI's 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema()
        error = {
            "description": "An error of the siltfs.errors tree",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for path, item in doc.get("paths", {}).items():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                if path.startswith(api_prefix):
                    for status in error_statuses():
                        responses.setdefault(str(status), error)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
