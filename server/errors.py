"""Error answers of the linked-data views: a 4xx with a message a person can act on.

Browsers get a page, everyone else plain text; never a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import make_response, render_template, request


def wants_html() -> bool:
    accept = request.accept_mimetypes
    return bool(accept) and accept.best_match(["text/html", "text/plain"]) == "text/html" and accept["text/html"] > 0


def problem(status: int, title: str, message_de: str, message_en: str = "",
            suggestions: Iterable[tuple[str, str]] = (), allow: str | None = None):
    """An error response; ``suggestions`` are (url, label) pairs that may be what the client wanted."""
    suggestions = list(suggestions)
    if wants_html():
        body = render_template("error.html", status=status, title=title, message_de=message_de,
                               message_en=message_en, suggestions=suggestions)
        response = make_response(body, status)
        response.mimetype = "text/html"
    else:
        lines = [f"{status} {title}", "", message_de]
        if message_en:
            lines.append(message_en)
        if suggestions:
            lines += ["", "Vielleicht / perhaps:"] + [f"  {url}  {label}" for url, label in suggestions]
        response = make_response("\n".join(lines) + "\n", status)
        response.mimetype = "text/plain"
    response.headers["Vary"] = "Accept"
    if allow:
        response.headers["Allow"] = allow
    return response
