"""``/sparql`` in external mode: forward a client's query to the external store, with our limits in front."""

from __future__ import annotations

import json
import threading

import pyoxigraph as ox

from server.sparql.runner import WorkerFailed, take_slot
from server.sparql.worker import GRAPH_FORMATS, TABULAR_FORMATS, TEXT_TYPES, QueryJob, QueryOutcome
from server.store.external import (
    GRAPH_TYPE,
    SELECT_TYPE,
    Client,
    Reply,
    StoreUnavailable,
    parse_rows,
    parse_triples,
    store_message,
)


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type in TEXT_TYPES else media_type


def _error(status: int, message: str) -> QueryOutcome:
    return QueryOutcome(status, "text/plain; charset=utf-8", message.encode("utf-8"), "error")


GRAPH_ACCEPT = f"{GRAPH_TYPE}, text/turtle;q=0.9"


def _is_graph_query(job: QueryJob) -> bool:
    """Whether the query is a CONSTRUCT or DESCRIBE: the store is asked for RDF then, not for results
    (Virtuoso would answer a CONSTRUCT asked with JSON first as an s/p/o table). Syntax errors are found
    here as in embedded mode (``SyntaxError``). An empty store parses the query: some 40 µs."""
    return isinstance(ox.Store().query(job.query, base_iri=job.base_iri), ox.QueryTriples)


class Forwarder:
    """``/sparql`` in external mode: the same interface as ``QueryRunner`` (``run``, ``timeout``, ``close``).

    Limits stay in front of the store: at most ``workers`` queries at a time (else ``Busy``), a
    time limit for the whole answer (``QueryTimeout``), and the row limit, checked on the answer.
    The store is asked for SPARQL JSON results or N-Triples and the answer is passed through when
    the client asked for that, otherwise re-serialised into the format the client negotiated.
    """

    def __init__(self, client: Client, workers: int, timeout: float, queue_wait: float = 0.0) -> None:
        self.client = client
        self.timeout = timeout
        self.queue_wait = max(0.0, queue_wait)
        self._slots = threading.BoundedSemaphore(max(1, workers))

    def close(self) -> None:
        """Nothing to stop: no worker processes."""

    def run(self, job: QueryJob) -> QueryOutcome:
        """Forward one job; waits up to ``queue_wait`` s for a free slot (as ``QueryRunner``)."""
        take_slot(self._slots, self.queue_wait)
        try:
            # relative IRIs resolve against our endpoint, as in embedded mode (a prologue may hold several BASEs;
            # on the first line, so the store's line numbers stay those of the client's query)
            form = [("query", f"BASE <{job.base_iri}> {job.query}" if job.base_iri else job.query)]
            form += [("default-graph-uri", iri) for iri in job.default_graphs]
            form += [("named-graph-uri", iri) for iri in job.named_graphs]
            try:
                graph = _is_graph_query(job)
            except SyntaxError as error:
                return _error(400, f"SPARQL syntax error: {error}")
            try:
                reply = self.client.post(form, self.timeout, accept=GRAPH_ACCEPT if graph else SELECT_TYPE)
            except StoreUnavailable as error:
                raise WorkerFailed(str(error)) from None
        finally:
            self._slots.release()
        if 400 <= reply.status < 500:
            return _error(400, f"SPARQL syntax error or query not accepted by the store: {store_message(reply)}")
        if reply.status != 200:
            raise WorkerFailed(f"the SPARQL store answered HTTP {reply.status}: {store_message(reply)[:300]}")
        try:
            return self._shape(reply, job)
        except (SyntaxError, ValueError, StoreUnavailable) as error:
            raise WorkerFailed(f"the SPARQL store's answer could not be read: {error}") from None

    def _shape(self, reply: Reply, job: QueryJob) -> QueryOutcome:
        if reply.media_type == GRAPH_TYPE or reply.media_type in ("text/turtle", "application/rdf+xml"):
            return self._graph(reply, job)
        results = parse_rows(reply)
        if isinstance(results, ox.QueryBoolean):
            if job.boolean_type is None:
                return _error(406, "This is an ASK query; accept application/sparql-results+json or +xml.")
            return self._as(reply, job.boolean_type, lambda: results.serialize(format=TABULAR_FORMATS[job.boolean_type]), "ask")
        if job.tabular_type is None:
            return _error(406, "This is a SELECT query; accept one of: " + ", ".join(TABULAR_FORMATS))
        if reply.media_type == SELECT_TYPE:
            rows = len(json.loads(reply.body)["results"]["bindings"])
        else:
            rows = sum(1 for _ in parse_rows(reply))
        if rows > job.max_rows:
            return _error(400, f"The result has more than {job.max_rows} rows (this endpoint's limit). "
                               f"Add LIMIT {job.max_rows} (and OFFSET to page) or narrow the query.")
        return self._as(reply, job.tabular_type, lambda: results.serialize(format=TABULAR_FORMATS[job.tabular_type]), "select")

    def _graph(self, reply: Reply, job: QueryJob) -> QueryOutcome:
        if job.graph_type is None:
            return _error(406, "This is a CONSTRUCT or DESCRIBE query; accept one of: " + ", ".join(GRAPH_FORMATS))
        triples = parse_triples(reply)
        if len(triples) > job.max_rows:
            return _error(400, f"The result has more than {job.max_rows} triples (this endpoint's limit). "
                               "Add LIMIT or narrow the query, or download the dumps.")
        return self._as(reply, job.graph_type, lambda: ox.serialize(triples, format=GRAPH_FORMATS[job.graph_type]), "graph")

    @staticmethod
    def _as(reply: Reply, media_type: str, serialise, kind: str) -> QueryOutcome:
        body = reply.body if reply.media_type == media_type else serialise()
        return QueryOutcome(200, _content_type(media_type), body, kind)
