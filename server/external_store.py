"""An external SPARQL 1.1 store (Oxigraph server, Fuseki, Virtuoso, QLever) behind the ``Store`` interface.

The views read through ``select``/``ask``/``construct`` as with the embedded store; ``/sparql``
forwards a client's query through ``Forwarder`` with the protocol dataset, the time limit and the
concurrency limit kept here in front of the store. The build's files (downloads, catalog, VoID)
still come from ``dist/`` (``kg push`` loads that same build into the store), so ``build`` and
``dist`` follow the ``dist`` link like the embedded store's publication does.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests

from server.query_runner import QueryTimeout, WorkerFailed, take_slot
from server.query_worker import GRAPH_FORMATS, TABULAR_FORMATS, QueryJob, QueryOutcome
from server.store import DistUnavailable

SELECT_TYPE = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"
# what we ask the store for: one result format per query kind that every SPARQL 1.1 store speaks
ACCEPT = f"{SELECT_TYPE}, {GRAPH_TYPE};q=0.9, text/turtle;q=0.5"
TEXT_TYPES = {"text/csv", "text/tab-separated-values", "text/turtle", "application/n-triples"}
CONNECT_TIMEOUT = 5.0
CHECK_INTERVAL = 1.0


class StoreUnavailable(RuntimeError):
    """The external store cannot be reached or answered with a server error: a 503, not a 500."""


@dataclass(frozen=True)
class StoreSettings:
    """Where the external store answers queries, and how to authenticate (from ``KIK_STORE_*``)."""

    query_url: str
    user: str = ""
    password: str = ""
    auth: str = "basic"  # or "digest" (Virtuoso's /sparql-auth)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StoreSettings | None:
        """The settings when ``KIK_STORE_QUERY_URL`` is set, else None (embedded store)."""
        url = str(config.get("KIK_STORE_QUERY_URL") or "").strip()
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"KIK_STORE_QUERY_URL must be an http(s) URL, got {url!r}")
        auth = str(config.get("KIK_STORE_AUTH") or "basic").lower()
        if auth not in ("basic", "digest"):
            raise ValueError(f"KIK_STORE_AUTH must be 'basic' or 'digest', got {auth!r}")
        return cls(query_url=url, user=str(config.get("KIK_STORE_USER") or ""),
                   password=str(config.get("KIK_STORE_PASSWORD") or ""), auth=auth)

    def requests_auth(self) -> requests.auth.AuthBase | None:
        if not self.user:
            return None
        if self.auth == "digest":
            return requests.auth.HTTPDigestAuth(self.user, self.password)
        return requests.auth.HTTPBasicAuth(self.user, self.password)


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type in TEXT_TYPES else media_type


def _error(status: int, message: str) -> QueryOutcome:
    return QueryOutcome(status, "text/plain; charset=utf-8", message.encode("utf-8"), "error")


@dataclass(frozen=True)
class _Reply:
    status: int
    media_type: str
    body: bytes


class _Client:
    """HTTP to the store's query endpoint: one ``requests.Session`` per thread (sessions are not shared)."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.auth = self.settings.requests_auth()
            self._local.session = session
        return session

    def post(self, form: list[tuple[str, str]], timeout: float, accept: str = ACCEPT) -> _Reply:
        """POST the query form; the whole answer must arrive within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        url = self.settings.query_url
        try:
            with self._session().post(url, data=form, headers={"Accept": accept}, stream=True,
                                      timeout=(min(CONNECT_TIMEOUT, timeout), timeout)) as response:
                chunks = []
                for chunk in response.iter_content(chunk_size=1 << 16):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise QueryTimeout
                media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                return _Reply(response.status_code, media_type, b"".join(chunks))
        except requests.Timeout:
            raise QueryTimeout from None
        except requests.RequestException as error:
            raise StoreUnavailable(f"the SPARQL store at {url} cannot be reached ({type(error).__name__})") from error


def _store_message(reply: _Reply) -> str:
    text = reply.body.decode("utf-8", errors="replace").strip()
    return text[:2000] or f"HTTP {reply.status}"


def _parse_rows(reply: _Reply) -> ox.QuerySolutions | ox.QueryBoolean:
    formats = {SELECT_TYPE: ox.QueryResultsFormat.JSON, "application/json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    if reply.media_type not in formats:
        raise StoreUnavailable(f"the store answered with {reply.media_type or 'no media type'}, not SPARQL results")
    return ox.parse_query_results(reply.body, formats[reply.media_type])


def _parse_triples(reply: _Reply) -> list[ox.Triple]:
    formats = {GRAPH_TYPE: ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE,
               "application/rdf+xml": ox.RdfFormat.RDF_XML}
    if reply.media_type not in formats:
        raise StoreUnavailable(f"the store answered with {reply.media_type or 'no media type'}, not RDF triples")
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(reply.body, formats[reply.media_type])]


class Forwarder:
    """``/sparql`` in external mode: the same interface as ``QueryRunner`` (``run``, ``timeout``, ``close``).

    Limits stay in front of the store: at most ``workers`` queries at a time (else ``Busy``), a
    time limit for the whole answer (``QueryTimeout``), and the row limit, checked on the answer.
    The store is asked for SPARQL JSON results or N-Triples and the answer is passed through when
    the client asked for that, otherwise re-serialised into the format the client negotiated.
    """

    def __init__(self, client: _Client, workers: int, timeout: float, queue_wait: float = 0.0) -> None:
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
                reply = self.client.post(form, self.timeout)
            except StoreUnavailable as error:
                raise WorkerFailed(str(error)) from None
        finally:
            self._slots.release()
        if 400 <= reply.status < 500:
            return _error(400, f"SPARQL syntax error or query not accepted by the store: {_store_message(reply)}")
        if reply.status != 200:
            raise WorkerFailed(f"the SPARQL store answered HTTP {reply.status}: {_store_message(reply)[:300]}")
        try:
            return self._shape(reply, job)
        except (SyntaxError, ValueError, StoreUnavailable) as error:
            raise WorkerFailed(f"the SPARQL store's answer could not be read: {error}") from None

    def _shape(self, reply: _Reply, job: QueryJob) -> QueryOutcome:
        if reply.media_type == GRAPH_TYPE or reply.media_type in ("text/turtle", "application/rdf+xml"):
            return self._graph(reply, job)
        results = _parse_rows(reply)
        if isinstance(results, ox.QueryBoolean):
            if job.boolean_type is None:
                return _error(406, "This is an ASK query; accept application/sparql-results+json or +xml.")
            return self._as(reply, job.boolean_type, lambda: results.serialize(format=TABULAR_FORMATS[job.boolean_type]), "ask")
        if job.tabular_type is None:
            return _error(406, "This is a SELECT query; accept one of: " + ", ".join(TABULAR_FORMATS))
        if reply.media_type == SELECT_TYPE:
            rows = len(json.loads(reply.body)["results"]["bindings"])
        else:
            rows = sum(1 for _ in _parse_rows(reply))
        if rows > job.max_rows:
            return _error(400, f"The result has more than {job.max_rows} rows (this endpoint's limit). "
                               f"Add LIMIT {job.max_rows} (and OFFSET to page) or narrow the query.")
        return self._as(reply, job.tabular_type, lambda: results.serialize(format=TABULAR_FORMATS[job.tabular_type]), "select")

    def _graph(self, reply: _Reply, job: QueryJob) -> QueryOutcome:
        if job.graph_type is None:
            return _error(406, "This is a CONSTRUCT or DESCRIBE query; accept one of: " + ", ".join(GRAPH_FORMATS))
        triples = _parse_triples(reply)
        if len(triples) > job.max_rows:
            return _error(400, f"The result has more than {job.max_rows} triples (this endpoint's limit). "
                               "Add LIMIT or narrow the query, or download the dumps.")
        return self._as(reply, job.graph_type, lambda: ox.serialize(triples, format=GRAPH_FORMATS[job.graph_type]), "graph")

    @staticmethod
    def _as(reply: _Reply, media_type: str, serialise, kind: str) -> QueryOutcome:
        body = reply.body if reply.media_type == media_type else serialise()
        return QueryOutcome(200, _content_type(media_type), body, kind)


@dataclass
class _Manifest:
    """build.json of the build the ``dist`` link points to, re-read when the link moves."""

    link: Path
    target: str = ""
    build: dict = field(default_factory=dict)
    checked: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        target = os.path.realpath(self.link)
        try:
            build = json.loads((Path(target) / "build.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DistUnavailable(f"cannot read {self.link}/build.json: {error}. Run `kg build` and `kg push` first.") from error
        self.target, self.build, self.checked = target, build, time.monotonic()

    def current(self) -> _Manifest:
        if time.monotonic() - self.checked >= CHECK_INTERVAL and self.lock.acquire(blocking=False):
            try:
                self.checked = time.monotonic()
                if os.path.realpath(self.link) != self.target:
                    try:
                        self.load()
                    except DistUnavailable:
                        pass  # keep describing the build we had
            finally:
                self.lock.release()
        return self


class ExternalStore:
    """The ``Store`` interface over HTTP: SPARQL 1.1 Protocol queries, results as pyoxigraph terms.

    The store's default graph must be the union of the named graphs (each store has its own switch
    for that; see docs/external-store.md), as the embedded store's is.
    """

    spec = None  # no query workers: /sparql uses ``forwarder``

    def __init__(self, settings: StoreSettings, dist: Path, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client = _Client(settings)
        self._manifest = _Manifest(Path(dist))
        self._manifest.load()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], check: bool = True) -> ExternalStore:
        """The store the configuration names; with ``check`` it must answer a query now (fail at start)."""
        settings = StoreSettings.from_config(config)
        if settings is None:
            raise ValueError("KIK_STORE_QUERY_URL is not set")
        store = cls(settings, Path(config["KIK_DIST"]), timeout=float(config.get("KIK_QUERY_TIMEOUT", 10.0)))
        if check:
            try:
                store.ask("ASK { }")
            except (StoreUnavailable, SyntaxError) as error:
                raise StoreUnavailable(f"{error}. Start the store (and `kg push`) or fix KIK_STORE_QUERY_URL.") from error
        return store

    @property
    def build(self) -> dict:
        return self._manifest.current().build

    @property
    def dist(self) -> Path:
        return Path(self._manifest.current().target)

    def forwarder(self, workers: int, timeout: float, queue_wait: float = 0.0) -> Forwarder:
        """The ``/sparql`` runner for this store."""
        return Forwarder(self._client, workers, timeout, queue_wait)

    def _ask_store(self, query: str, accept: str) -> _Reply:
        try:
            reply = self._client.post([("query", query)], self.timeout, accept=accept)
        except QueryTimeout:
            raise StoreUnavailable(f"the SPARQL store at {self.settings.query_url} did not answer within {self.timeout:g} s") from None
        if 400 <= reply.status < 500:
            raise SyntaxError(f"the store rejected the query: {_store_message(reply)}")
        if reply.status != 200:
            raise StoreUnavailable(f"the SPARQL store answered HTTP {reply.status}: {_store_message(reply)[:300]}")
        return reply

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        results = _parse_rows(self._ask_store(query, SELECT_TYPE))
        if isinstance(results, ox.QueryBoolean):
            raise TypeError("expected a SELECT query, got an ASK answer")
        names = [variable.value for variable in results.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in results]

    def ask(self, query: str) -> bool:
        return bool(_parse_rows(self._ask_store(query, SELECT_TYPE)))

    def construct(self, query: str) -> list[ox.Triple]:
        return _parse_triples(self._ask_store(query, f"{GRAPH_TYPE}, text/turtle;q=0.9"))
