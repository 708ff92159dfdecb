"""Middleware every request passes through: request id, errors, security headers, access log.

The access log is our own: method, route pattern, status and duration. It never records the client's
address, user agent, query string or the concrete path (which may hold ids).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from helpline.errors import PublicError, StoreUnavailable
from helpline.log import get_logger

log = get_logger("helpline.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = web.RequestKey("request_id", str)
# What every answer says in its Server header: no language, library or version.
SERVER_NAME = "helpline"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_STATUS_TEXT = {
    400: "The request is not valid.",
    401: "Please sign in.",
    403: "You may not do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    415: "That content type is not accepted here.",
}


def error_response(
    status: int, message: str, request_id: str, details: dict[str, object] | None = None
) -> web.Response:
    return web.json_response({**(details or {}), "error": message, "request_id": request_id}, status=status)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request an id, log it when done, and turn every error into a clear JSON answer."""
    request_id = secrets.token_urlsafe(9)
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        response = await _answer(request, handler, request_id)
    finally:
        structlog.contextvars.clear_contextvars()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    log.info(
        "http.request",
        request_id=request_id,
        method=request.method,
        route=route,
        status=response.status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    response.headers["X-Request-Id"] = request_id
    return response


async def _answer(request: web.Request, handler: Handler, request_id: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except PublicError as exc:
        response = error_response(exc.status, exc.public_message, request_id, exc.details)
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response
    except StoreUnavailable:
        # The database is restarting or out of reach: nothing was half-written (the transaction did not commit).
        log.error("http.store_unavailable")
        message = f"The service is briefly unavailable. Please try again; if it goes on, quote request {request_id}."
        response = error_response(503, message, request_id)
        response.headers["Retry-After"] = "5"
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, _STATUS_TEXT.get(exc.status, "The request could not be handled."), request_id)
    except Exception as exc:  # every unexpected error becomes a 500 without details
        # The traceback is rendered without locals; the exception text is not shown to the user.
        log.exception("http.unhandled", error=type(exc).__name__)
        message = f"Something went wrong on our side. If it keeps happening, quote request {request_id}."
        return error_response(500, message, request_id)


def security_headers(tls: bool) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` hook that puts the security headers on every response."""

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Server"] = SERVER_NAME  # no language, library or version
        # The web chat's pages set their own policy (the widget's iframe may be framed by the host
        # origins in webchat.frame_ancestors, and /widget.js is loaded by other sites); all else is ours.
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("Referrer-Policy", "no-referrer")  # the chat's pages say same-origin (forms.py)
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        headers.setdefault("Cache-Control", "no-store")
        if tls:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"

    return add_headers
