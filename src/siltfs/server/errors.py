"""Errors on the wire: every failure is JSON ``{"code", "message", "path", ...details}``.

- a :class:`~siltfs.errors.SiltError` keeps its ``code`` and its ``status`` (1:1);
- a request FastAPI cannot parse (malformed JSON, wrong types, missing fields) is
  400 ``invalid_argument`` with the validation errors under ``errors``;
- an unknown route is 404 ``not_found``, a wrong method 405 ``method_not_allowed``;
- anything unexpected is 500 ``internal_error`` (and logged with its traceback).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from siltfs.errors import SiltError

log = logging.getLogger("siltfs.server")

HTTP_CODES = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    416: "range_not_satisfiable",
}


def _plain(value: Any) -> Any:
    """*value* made JSON-safe (anything unknown becomes its ``str``)."""
    return json.loads(json.dumps(value, default=str))


def error_response(
    status: int,
    code: str,
    message: str,
    path: str | None = None,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> JSONResponse:
    extra = {k: v for k, v in (details or {}).items() if k not in ("code", "message", "path")}
    body = {"code": code, "message": message, "path": path, **_plain(extra)}
    return JSONResponse(body, status_code=status, headers=headers)


def silt_error_response(exc: SiltError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, exc.path, headers, exc.details)


async def _silt_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SiltError)
    return silt_error_response(exc)


def _describe(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "malformed JSON body"
    loc = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query"))
    msg = str(error.get("msg", "invalid"))
    return f"{loc}: {msg}" if loc else msg


PATH_FIELDS = ("path", "src", "dst")
PATH_SHAPE_ERRORS = ("string_pattern_mismatch", "string_too_short", "string_too_long")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in raw
    ]
    message = "; ".join(_describe(e) for e in errors) or "invalid request"
    for e in raw:  # a malformed namespace path is invalid_path, as for an embedded caller
        loc = e.get("loc", ())
        if loc and loc[-1] in PATH_FIELDS and e.get("type") in PATH_SHAPE_ERRORS:
            value = e.get("input")
            shown = repr(value) if value == "" else str(value)[:200]
            reason = "must be absolute (start with '/')" if value else "is empty"
            return error_response(400, "invalid_path", f"{loc[-1]} {reason}", path=shown)
    return error_response(400, "invalid_argument", message, details={"errors": errors})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:  # every method of every route on this path, not the first's
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return error_response(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods the API document lists for this request's path (templates matched)."""
    documented = request.app.openapi().get("paths", {})
    exact = documented.get(request.url.path)
    if exact is not None:  # /jobs/retry_failed, not also /jobs/{job_id}
        return sorted(m.upper() for m in exact)
    methods: set[str] = set()
    for template, item in documented.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in item}
    return sorted(methods)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SiltError, _silt_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
