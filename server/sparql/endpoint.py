"""/sparql: the SPARQL 1.1 Protocol query operation, read-only, with limits; editor and service description.

This module reads the HTTP request (protocol rules, refusals, content negotiation) and writes the
response; evaluation happens in worker processes (``query_runner``) so a time limit can stop it.
"""

from __future__ import annotations

import atexit
import json
import math
import threading
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request, send_from_directory
from werkzeug.datastructures import MIMEAccept

from server.sparql.examples import DEFAULT_DIR, load_examples
from server.publishing.iri import public_base
from server.sparql.checks import READ_ONLY, is_update, service_refusal
from server.sparql.runner import Busy, QueryRunner, QueryTimeout, WorkerFailed
from server.sparql.worker import GRAPH_FORMATS, TABULAR_FORMATS, QueryJob, QueryOutcome
from server.sparql.cache import ResultCache
from server.sparql.forwarder import Forwarder
from server.sparql.service_description import service_description
from server.store import get_store
from server.store.external import ExternalStore

bp = Blueprint("sparql", __name__, template_folder="templates")

YASGUI_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = {"yasgui.min.js", "yasgui.min.css"}

# offered media type → canonical one (aliases that clients such as SPARQLWrapper send)
TABULAR_OFFERS: dict[str, str] = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/sparql-results+xml": "application/sparql-results+xml",
    "text/csv": "text/csv",
    "text/tab-separated-values": "text/tab-separated-values",
    "application/json": "application/sparql-results+json",
}
GRAPH_OFFERS: dict[str, str] = {
    "text/turtle": "text/turtle",
    "application/ld+json": "application/ld+json",
    "application/n-triples": "application/n-triples",
    "application/rdf+xml": "application/rdf+xml",
    "application/x-turtle": "text/turtle",
    "application/json": "application/ld+json",
}
# ``format`` parameter (for links and downloads): name → (SELECT/ASK type, CONSTRUCT/DESCRIBE type)
FORMAT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", None),
    "turtle": (None, "text/turtle"),
    "ttl": (None, "text/turtle"),
    "jsonld": (None, "application/ld+json"),
    "nt": (None, "application/n-triples"),
    "ntriples": (None, "application/n-triples"),
    "rdfxml": (None, "application/rdf+xml"),
    "rdf": (None, "application/rdf+xml"),
    # names SPARQLWrapper sends as its own ``format`` parameter
    "rdf+xml": (None, "application/rdf+xml"),
    "n3": (None, "text/turtle"),  # Turtle is N3
    "json-ld": (None, "application/ld+json"),
}
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
SD_SERIALISATIONS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
HTML_TYPES = ("text/html", "application/xhtml+xml")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Expose-Headers": "Retry-After, Content-Disposition",
    "Access-Control-Max-Age": "86400",
}
_runner_lock = threading.Lock()


class ProtocolError(Exception):
    """A request this endpoint answers with a 4xx/5xx and a plain-text message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def retire_runner(app: Flask) -> None:
    """After a build swap: new queries get workers on the new build; the old pool is closed once
    queries already running on it have had their full time."""
    with _runner_lock:
        old = app.extensions.pop("kik.query_runner", None)
    if old is not None:
        timer = threading.Timer(old.timeout + 5.0, old.close)
        timer.daemon = True
        timer.start()


def get_runner(app: Flask) -> QueryRunner:
    """The app's pool of query workers, created on first use (a server that never gets a query
    starts no processes) and stopped at exit."""
    runner = app.extensions.get("kik.query_runner")
    if runner is not None:
        return runner
    with _runner_lock:
        runner = app.extensions.get("kik.query_runner")
        if runner is None and isinstance(app.extensions["kik.store"], ExternalStore):
            # an external store: forward to its query endpoint, with our limits in front
            runner = Forwarder(
                app.extensions["kik.store"].client, workers=app.config["KIK_MAX_CONCURRENT_QUERIES"], timeout=app.config["KIK_QUERY_TIMEOUT"],
                queue_wait=app.config["KIK_QUERY_QUEUE_SECONDS"])
            app.extensions["kik.query_runner"] = runner
        if runner is None:
            spec = getattr(app.extensions["kik.store"], "spec", None)
            if spec is None:
                raise ProtocolError(503, "This store has no query workers (an external store needs its own endpoint).")
            cache_bytes = int(app.config["KIK_RESULT_CACHE_MB"] * 1024 * 1024)
            runner = QueryRunner(
                spec,
                workers=app.config["KIK_MAX_CONCURRENT_QUERIES"],
                timeout=app.config["KIK_QUERY_TIMEOUT"],
                queue_wait=app.config["KIK_QUERY_QUEUE_SECONDS"],
                cache=ResultCache(cache_bytes) if cache_bytes > 0 else None,
            )
            atexit.register(runner.close)
            app.extensions["kik.query_runner"] = runner
    return runner


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain", headers=headers or {})


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise ProtocolError(400, f"Exactly one '{name}' parameter is allowed; this request has {len(values)}.")
    return values[0] if values else None


def _max_bytes() -> int:
    return current_app.config["KIK_MAX_QUERY_BYTES"]


def _too_large(size: int) -> ProtocolError:
    return ProtocolError(413, f"The request has {size} bytes; this endpoint accepts queries up to {_max_bytes()} bytes.")


def _read_body(limit: int) -> bytes:
    """Up to ``limit`` bytes of the body: a chunked body arrives in parts, and one read may return
    only the first (a truncated query must never run)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = request.stream.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_request() -> tuple[str | None, list[str], list[str]]:
    """The query text (None for a bare GET) and the protocol dataset, by the SPARQL 1.1 Protocol's rules."""
    if request.content_length is not None and request.content_length > _max_bytes():
        raise _too_large(request.content_length)
    args = request.args
    if "update" in args or "using-graph-uri" in args or "using-named-graph-uri" in args:
        raise ProtocolError(400, READ_ONLY)
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method == "GET":
        return _single(args.getlist("query"), "query"), default_graphs, named_graphs

    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        form = request.form
        if "update" in form:
            raise ProtocolError(400, READ_ONLY)
        query = _single(form.getlist("query"), "query")
        if query is None:
            raise ProtocolError(400, "The form has no 'query' parameter.")
        return query, default_graphs + form.getlist("default-graph-uri"), named_graphs + form.getlist("named-graph-uri")
    if mimetype == "application/sparql-query":
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"The query must be sent in UTF-8, not {charset}.")
        body = _read_body(_max_bytes() + 1)
        if len(body) > _max_bytes():
            raise _too_large(len(body))
        try:
            return body.decode("utf-8"), default_graphs, named_graphs
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"The query is not valid UTF-8 (byte {error.start}).") from error
    if mimetype == "application/sparql-update":
        raise ProtocolError(400, READ_ONLY)
    raise ProtocolError(
        415,
        f"Unsupported request type {mimetype or '(none)'}. Send GET ?query=…, POST "
        "application/x-www-form-urlencoded with query=…, or POST application/sparql-query.",
    )


def _accept() -> MIMEAccept:
    """The client's Accept header; a missing header means anything (RFC 9110 §12.5.1)."""
    if request.headers.get("Accept", "").strip():
        return request.accept_mimetypes
    return MIMEAccept([("*/*", 1)])


def _boolean_type(tabular: str | None) -> str | None:
    """ASK answers in JSON or XML: CSV and TSV have no boolean form (SPARQL 1.1 CSV/TSV §1)."""
    if tabular is None or tabular in BOOLEAN_TYPES:
        return tabular
    return _accept().best_match(list(BOOLEAN_TYPES)) or BOOLEAN_TYPES[0]


def _result_types() -> tuple[str | None, str | None, str | None]:
    """(SELECT, CONSTRUCT/DESCRIBE, ASK) media types from ``format`` or the Accept header.

    An explicit ``format`` is obeyed strictly (406 if it does not fit the query). From Accept, a
    client that takes any result type of ours but none of the query's kind gets that kind's default
    (JSON or Turtle), as rdflib's SPARQLStore expects; 406 only when nothing of ours is accepted.
    """
    requested = request.values.get("format")
    if requested:
        name = requested.strip().lower()
        if name in FORMAT_NAMES:
            tabular, graph = FORMAT_NAMES[name]
        elif name in TABULAR_FORMATS:
            tabular, graph = name, None
        elif name in GRAPH_FORMATS:
            tabular, graph = None, name
        else:
            raise ProtocolError(400, f"Unknown format '{requested}'. Use one of: {', '.join(FORMAT_NAMES)} or a media type.")
        return tabular, graph, _boolean_type(tabular)
    accept = _accept()
    tabular = accept.best_match(list(TABULAR_OFFERS))
    graph = accept.best_match(list(GRAPH_OFFERS))
    tabular = TABULAR_OFFERS[tabular] if tabular else None
    graph = GRAPH_OFFERS[graph] if graph else None
    if tabular is None and graph is not None:
        tabular = "application/sparql-results+json"
    if graph is None and tabular is not None:
        graph = "text/turtle"
    return tabular, graph, _boolean_type(tabular)


def _answer(outcome: QueryOutcome, query: str) -> Response:
    if outcome.kind == "error":
        message = outcome.body.decode("utf-8")
        if outcome.status == 400 and message.startswith("SPARQL syntax error") and is_update(query):
            message = READ_ONLY
        return _text(outcome.status, message)
    response = Response(outcome.body, status=outcome.status, content_type=outcome.content_type)
    if request.values.get("format"):
        extension = {"application/sparql-results+json": "srj", "application/sparql-results+xml": "srx",
                     "text/csv": "csv", "text/tab-separated-values": "tsv", "text/turtle": "ttl",
                     "application/ld+json": "jsonld", "application/n-triples": "nt",
                     "application/rdf+xml": "rdf"}[outcome.content_type.split(";")[0]]
        response.headers["Content-Disposition"] = f'inline; filename="result.{extension}"'
    return response


def _query(query: str, default_graphs: list[str], named_graphs: list[str]) -> Response:
    if len(query.encode("utf-8")) > _max_bytes():
        raise _too_large(len(query.encode("utf-8")))
    if not query.strip():
        raise ProtocolError(400, "The query is empty.")
    refusal = service_refusal(query)
    if refusal:
        raise ProtocolError(400, refusal)
    tabular, graph, boolean = _result_types()
    if tabular is None and graph is None:
        raise ProtocolError(406, "None of the accepted types fits. Results: " + ", ".join([*TABULAR_FORMATS, *GRAPH_FORMATS]))
    job = QueryJob(
        query=query,
        default_graphs=tuple(default_graphs),
        named_graphs=tuple(named_graphs),
        tabular_type=tabular,
        graph_type=graph,
        boolean_type=boolean,
        max_rows=current_app.config["KIK_MAX_RESULT_ROWS"],
        base_iri=_endpoint_url(),
    )
    runner = get_runner(current_app._get_current_object())
    timeout = current_app.config["KIK_QUERY_TIMEOUT"]
    try:
        outcome = runner.run(job)
    except Busy:
        limit = current_app.config["KIK_MAX_CONCURRENT_QUERIES"]
        wait = current_app.config["KIK_QUERY_QUEUE_SECONDS"]
        raise ProtocolError(
            503, f"{limit} queries are already running (this endpoint's limit) and none finished within "
                 f"{wait:g} s. Try again in a moment.",
            {"Retry-After": "1"},
        ) from None
    except QueryTimeout:
        raise ProtocolError(
            503,
            f"The query was stopped after {timeout:g} s (this endpoint's time limit). "
            "Narrow it (LIMIT, more specific patterns) or download the dumps and query them locally.",
            {"Retry-After": str(max(1, math.ceil(timeout)))},
        ) from None
    except WorkerFailed as error:
        raise ProtocolError(503, f"The query could not be answered: {error}. Try again.", {"Retry-After": "1"}) from None
    return _answer(outcome, query)


def _endpoint_url() -> str:
    return public_base().rstrip("/") + "/sparql"


def _bare_get() -> Response:
    """Service description for RDF clients, the query editor for browsers."""
    requested = request.args.get("format", "").strip().lower()
    if requested:
        kind = FORMAT_NAMES.get(requested, (None, requested))[1]
        if kind not in SD_SERIALISATIONS:
            raise ProtocolError(400, f"Unknown format '{requested}' for the service description.")
        chosen = kind
    else:
        offers = [*SD_SERIALISATIONS, *HTML_TYPES]
        chosen = _accept().best_match(offers)
        if chosen is None:
            raise ProtocolError(406, "Accept one of: " + ", ".join(offers))
    if chosen in HTML_TYPES:
        return _editor()
    config = current_app.config
    graph = service_description(_endpoint_url(), get_store().build, {
        "timeout": config["KIK_QUERY_TIMEOUT"], "max_rows": config["KIK_MAX_RESULT_ROWS"],
        "concurrent": config["KIK_MAX_CONCURRENT_QUERIES"], "max_bytes": config["KIK_MAX_QUERY_BYTES"],
    })
    body = graph.serialize(format=SD_SERIALISATIONS[chosen], encoding="utf-8")
    return Response(body, content_type=chosen + ("; charset=utf-8" if chosen.startswith("text/") else ""))


def _editor() -> Response:
    examples = load_examples(Path(current_app.config.get("KIK_EXAMPLE_QUERIES", DEFAULT_DIR)))
    yasgui_dir = Path(current_app.config.get("KIK_YASGUI_DIR", YASGUI_DIR))
    config = current_app.config
    wanted = request.args.get("example")
    selected = next((e for e in examples if e.name == wanted), examples[0] if examples else None)
    examples_json = json.dumps([{"title": e.title, "text": e.text} for e in examples], ensure_ascii=False)
    html = render_template(
        "sparql/editor.html",
        examples=examples,
        examples_json=examples_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        selected=selected,
        endpoint="/sparql",
        yasgui=(yasgui_dir / "yasgui.min.js").is_file(),
        formats=[("json", "JSON"), ("xml", "XML"), ("csv", "CSV"), ("tsv", "TSV"),
                 ("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("nt", "N-Triples"), ("rdfxml", "RDF/XML")],
        limits={"timeout": config["KIK_QUERY_TIMEOUT"], "max_rows": config["KIK_MAX_RESULT_ROWS"]},
    )
    return Response(html, mimetype="text/html")


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    """SPARQL 1.1 Protocol query operation (GET, POST form, POST application/sparql-query)."""
    if request.method == "OPTIONS":
        return Response(status=204)
    try:
        query, default_graphs, named_graphs = _read_request()
        if query is None:
            return _bare_get()
        return _query(query, default_graphs, named_graphs)
    except ProtocolError as error:
        return _text(error.status, error.message, error.headers)


@bp.get("/sparql/yasgui/<name>")
def yasgui_asset(name: str) -> Response:
    """The editor's script and style, from node_modules (installed by `npm ci`)."""
    if name not in YASGUI_FILES:
        return _text(404, "No such file.")
    directory = Path(current_app.config.get("KIK_YASGUI_DIR", YASGUI_DIR))
    if not (directory / name).is_file():
        return _text(404, "The editor assets are not installed; run `npm ci` in the repository.")
    return send_from_directory(directory, name, max_age=86400)


@bp.after_request
def _cors_and_vary(response: Response) -> Response:
    """CORS for browser clients on other origins (YASGUI, Comunica) and Vary for caches."""
    if request.path == "/sparql":
        response.headers.update(CORS_HEADERS)
        response.vary.add("Accept")
    return response
