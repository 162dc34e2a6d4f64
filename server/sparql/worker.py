"""What runs inside a query worker process: open the data once, then answer one query at a time.

A worker is a separate process so that a runaway query can be stopped by killing it: Oxigraph
cannot be interrupted from Python. Everything a worker returns is already serialised, so the time
limit covers evaluation and serialisation alike.
"""

from __future__ import annotations

import itertools
import os
import signal
from dataclasses import dataclass

import pyoxigraph as ox

from server.store.embedded import StoreSpec, open_store

TABULAR_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
TEXT_TYPES = {"text/csv", "text/tab-separated-values", "text/turtle", "application/n-triples"}


@dataclass(frozen=True)
class QueryJob:
    """One query with its protocol dataset and the formats the client accepts for each result kind.

    ``tabular_type`` / ``graph_type`` / ``boolean_type`` (SELECT / CONSTRUCT and DESCRIBE / ASK) are
    None when the client accepts no format for that kind. CSV and TSV define no boolean form, so ASK
    has its own type (JSON or XML).
    """

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    tabular_type: str | None = "application/sparql-results+json"
    graph_type: str | None = "text/turtle"
    boolean_type: str | None = "application/sparql-results+json"
    max_rows: int = 100_000
    base_iri: str | None = None  # relative IRIs in the query resolve against the endpoint URL


@dataclass(frozen=True)
class QueryOutcome:
    """A finished answer: HTTP status, media type and body; ``kind`` tells SELECT/ASK/graph/error apart."""

    status: int
    content_type: str
    body: bytes
    kind: str


class TooManyRows(Exception):
    """The result has more rows than the configured limit."""


class _RowCounter:
    """A binary sink for TSV results that stops the serialiser once there are more rows than allowed.

    TSV escapes line breaks inside terms, so one line is one row (plus the header line).
    """

    def __init__(self, max_rows: int) -> None:
        self.chunks: list[bytes] = []
        self.lines = 0
        self.max_lines = max_rows + 1

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        if self.lines > self.max_lines:
            raise TooManyRows
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _error(status: int, message: str) -> QueryOutcome:
    return QueryOutcome(status, "text/plain; charset=utf-8", message.encode("utf-8"), "error")


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type in TEXT_TYPES else media_type


def _too_many(max_rows: int) -> QueryOutcome:
    return _error(
        400,
        f"The result has more than {max_rows} rows (this endpoint's limit). "
        f"Add LIMIT {max_rows} (and OFFSET to page) or narrow the query.",
    )


def _dataset_options(job: QueryJob) -> dict:
    """The protocol dataset, if given, replaces the query's own (SPARQL 1.1 Protocol §2.1.4)."""
    if job.default_graphs or job.named_graphs:
        return {
            "default_graph": [ox.NamedNode(iri) for iri in job.default_graphs],
            "named_graphs": [ox.NamedNode(iri) for iri in job.named_graphs],
        }
    return {}


def _solutions(results: ox.QuerySolutions, job: QueryJob) -> QueryOutcome:
    if job.tabular_type is None:
        return _error(406, "This is a SELECT query; accept one of: " + ", ".join(TABULAR_FORMATS))
    counter = _RowCounter(job.max_rows)
    try:
        results.serialize(counter, ox.QueryResultsFormat.TSV)
    except TooManyRows:
        return _too_many(job.max_rows)
    except OSError as error:
        if isinstance(error.__cause__, TooManyRows) or isinstance(error.__context__, TooManyRows) or "TooManyRows" in repr(error):
            return _too_many(job.max_rows)
        raise
    tsv = b"".join(counter.chunks)
    if job.tabular_type == "text/tab-separated-values":
        body = tsv
    else:
        body = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV).serialize(format=TABULAR_FORMATS[job.tabular_type])
    return QueryOutcome(200, _content_type(job.tabular_type), body, "select")


def _boolean(result: ox.QueryBoolean, job: QueryJob) -> QueryOutcome:
    media_type = job.boolean_type
    if media_type is None:
        return _error(406, "This is an ASK query; accept application/sparql-results+json or +xml.")
    return QueryOutcome(200, _content_type(media_type), result.serialize(format=TABULAR_FORMATS[media_type]), "ask")


def _triples(results: ox.QueryTriples, job: QueryJob) -> QueryOutcome:
    if job.graph_type is None:
        return _error(406, "This is a CONSTRUCT or DESCRIBE query; accept one of: " + ", ".join(GRAPH_FORMATS))
    triples = list(itertools.islice(results, job.max_rows + 1))
    if len(triples) > job.max_rows:
        return _error(
            400,
            f"The result has more than {job.max_rows} triples (this endpoint's limit). "
            "Add LIMIT or narrow the query, or download the dumps.",
        )
    body = ox.serialize(triples, format=GRAPH_FORMATS[job.graph_type])
    return QueryOutcome(200, _content_type(job.graph_type), body, "graph")


def run(store: ox.Store, job: QueryJob) -> QueryOutcome:
    """Evaluate and serialise one query; every failure becomes a 4xx outcome with the engine's message.

    ``store`` comes from ``open_store(spec, materialize_union=True)``: its default graph is already
    the union where the spec asks for one.
    """
    try:
        results = store.query(job.query, base_iri=job.base_iri, **_dataset_options(job))
        if isinstance(results, ox.QuerySolutions):
            return _solutions(results, job)
        if isinstance(results, ox.QueryBoolean):
            return _boolean(results, job)
        return _triples(results, job)
    except SyntaxError as error:
        return _error(400, f"SPARQL syntax error: {error}")
    except (OSError, RuntimeError, ValueError, TypeError) as error:
        return _error(400, f"The query could not be evaluated: {error}")


def serve(conn, spec: StoreSpec) -> None:
    """Worker main loop: load the data, say ready, then answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the parent, which stops us
    try:
        store = open_store(spec, materialize_union=True)
    except (OSError, ValueError, SyntaxError) as error:
        conn.send(("failed", str(error)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(run(store, job))
        except (BrokenPipeError, OSError):
            return
