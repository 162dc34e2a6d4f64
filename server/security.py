"""Response headers and error answers that keep a public endpoint safe for browsers and operators.

Every response gets a Content-Security-Policy (only our own scripts, styles, images and fetches; no
plug-ins, no framing), ``X-Content-Type-Options: nosniff``, a frame policy and a Referrer-Policy.
Every error a view does not answer itself becomes a short plain message with its status: no stack
trace, no file path. Request bodies are capped at ``KIK_MAX_QUERY_BYTES`` (the only body this
server accepts is a SPARQL query).
"""

from __future__ import annotations

import io
import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)
from werkzeug.wsgi import get_input_stream

from server.errors import problem

log = logging.getLogger(__name__)

# What the pages and the YASGUI editor at /sparql need, nothing more:
# - scripts and styles only from this origin (/static/…, /sparql/yasgui/…); JSON-LD and the
#   examples' JSON are data blocks, which CSP does not run;
# - style attributes: the measures list sets a CSS custom property (style="--cols: …");
# - images: our SVGs and the data: icons inside YASGUI's stylesheet;
# - fetches: YASGUI posts queries to /sparql on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# YASGUI's result table adds <style> elements while it runs, so the editor page alone allows them
EDITOR_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'", 1)
EDITOR_PATH = "/sparql"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
INTERNAL_ERROR = (
    "Der Server konnte diese Anfrage nicht beantworten; der Fehler wurde protokolliert.",
    "The server could not answer this request; the error has been logged.",
)
# headers of an HTTPException's own response that still apply to ours (405 → Allow, 416 → Content-Range)
KEPT_HEADERS = ("Allow", "Content-Range", "Retry-After", "WWW-Authenticate")


def _secure(response: Response) -> Response:
    if request.path == EDITOR_PATH and response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", EDITOR_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _http_error(error: HTTPException):
    """A client or server error werkzeug raised (404, 405, 413, …) as a short message."""
    if error.code is None or error.code >= 500:
        return _internal_error(error)
    response = problem(error.code, error.name, error.description or error.name)
    original = error.get_response()
    for name in KEPT_HEADERS:
        if name in original.headers:
            response.headers[name] = original.headers[name]
    return response


def _internal_error(error: Exception):
    """Anything unexpected: logged with its traceback here, a plain sentence for the client."""
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, HTTPException):
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    name = InternalServerError.name if code == 500 else (error.name if isinstance(error, HTTPException) else "Error")
    body = f"{code} {name}\n\n{INTERNAL_ERROR[0]}\n{INTERNAL_ERROR[1]}\n"
    return Response(body, status=code, mimetype="text/plain")


TOO_LARGE = "kik.body_too_large"


class BoundedBody:
    """WSGI middleware: a body without Content-Length (chunked) is read here, up to the limit, and
    handed on with one, so every view sees the whole body or a 413 (werkzeug would otherwise hand
    views a silently truncated body, and a truncated query must never run)."""

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        if "wsgi.input_terminated" in environ and environ.get("CONTENT_LENGTH"):
            # waitress marks every body terminated and also gives its length: let werkzeug bound the
            # body by that length (as for any request with Content-Length), so a body of exactly the
            # limit is read whole instead of refused while probing for one byte more
            del environ["wsgi.input_terminated"]
        elif "wsgi.input_terminated" in environ:
            limit = self.app.config["MAX_CONTENT_LENGTH"]
            stream = get_input_stream(environ, max_content_length=limit + 1)
            try:
                body = b"".join(iter(lambda: stream.read(1 << 16), b""))
            except RequestEntityTooLarge:
                body = b""
                environ[TOO_LARGE] = True
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["wsgi.input_terminated"]
        return self.wsgi_app(environ, start_response)


def _refuse_large_body() -> None:
    """A body over the bound is refused before any view reads it, with the bound in the message."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.environ.get(TOO_LARGE) or (request.content_length or 0) > limit:
        raise RequestEntityTooLarge(
            f"The request body is larger than {limit} bytes, the most this server accepts "
            "(KIK_MAX_QUERY_BYTES). Send a shorter query, or download the dumps for large work.")


def init_app(app: Flask) -> None:
    """Install the headers, the error handlers and the body limit on ``app``."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["KIK_MAX_QUERY_BYTES"]
    app.wsgi_app = BoundedBody(app.wsgi_app, app)
    app.before_request(_refuse_large_body)
    app.after_request(_secure)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _internal_error)
    from server import openapi

    app.register_blueprint(openapi.bp)
