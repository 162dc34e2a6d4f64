"""An external SPARQL 1.1 store (Oxigraph server, Fuseki, Virtuoso, QLever) behind the ``Store`` interface.

The views read through ``select``/``ask``/``construct`` as with the embedded store; ``/sparql``
forwards a client's query through ``server.sparql.forwarder.Forwarder`` with the protocol dataset, the time limit and the
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

from server.store.interface import DistUnavailable, QueryTimeout

SELECT_TYPE = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"
# what we ask the store for: one result format per query kind that every SPARQL 1.1 store speaks
ACCEPT = f"{SELECT_TYPE}, {GRAPH_TYPE};q=0.9, text/turtle;q=0.5"
CONNECT_TIMEOUT = 5.0
VIRTUOSO_ASK = "__ASK_RETVAL"
BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
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


@dataclass(frozen=True)
class Reply:
    status: int
    media_type: str
    body: bytes


class Client:
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

    def post(self, form: list[tuple[str, str]], timeout: float, accept: str = ACCEPT) -> Reply:
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
                body = b"".join(chunks)
                if media_type == SELECT_TYPE and response.status_code == 200:
                    body = standard_json_results(body)
                return Reply(response.status_code, media_type, body)
        except requests.Timeout:
            raise QueryTimeout from None
        except requests.RequestException as error:
            raise StoreUnavailable(f"the SPARQL store at {url} cannot be reached ({type(error).__name__})") from error


def standard_json_results(body: bytes) -> bytes:
    """SPARQL JSON results as the SPARQL 1.1 standard writes them, whatever the store's dialect, so the
    views and ``/sparql`` clients see what the embedded store answers. Virtuoso 7 differs thrice: ASK
    comes as a one-column SELECT (``__ASK_RETVAL``: one row = true, none = false;
    openlink/virtuoso-opensource#464), typed literals as SPARQL 1.0's ``"typed-literal"``, and
    xsd:boolean values as ``"1"``/``"0"`` (same value, not the canonical form the views compare with)."""
    if b'"typed-literal"' not in body and VIRTUOSO_ASK.encode() not in body:
        return body
    try:
        data = json.loads(body)
        if data["head"].get("vars") == [VIRTUOSO_ASK]:
            return json.dumps({"head": {}, "boolean": bool(data["results"]["bindings"])}).encode()
        for row in data["results"]["bindings"]:
            for term in row.values():
                if term.get("type") == "typed-literal":
                    term["type"] = "literal"
                if term.get("datatype") == BOOLEAN and term.get("value") in ("1", "0"):
                    term["value"] = "true" if term["value"] == "1" else "false"
    except (ValueError, KeyError, TypeError, AttributeError):
        return body  # not SPARQL JSON results: parse_rows says so
    return json.dumps(data, ensure_ascii=False).encode()


def store_message(reply: Reply) -> str:
    text = reply.body.decode("utf-8", errors="replace").strip()
    return text[:2000] or f"HTTP {reply.status}"


def parse_rows(reply: Reply) -> ox.QuerySolutions | ox.QueryBoolean:
    formats = {SELECT_TYPE: ox.QueryResultsFormat.JSON, "application/json": ox.QueryResultsFormat.JSON,
               "application/sparql-results+xml": ox.QueryResultsFormat.XML,
               "text/tab-separated-values": ox.QueryResultsFormat.TSV}
    if reply.media_type not in formats:
        raise StoreUnavailable(f"the store answered with {reply.media_type or 'no media type'}, not SPARQL results")
    return ox.parse_query_results(reply.body, formats[reply.media_type])


def parse_triples(reply: Reply) -> list[ox.Triple]:
    formats = {GRAPH_TYPE: ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE,
               "application/rdf+xml": ox.RdfFormat.RDF_XML}
    if reply.media_type not in formats:
        raise StoreUnavailable(f"the store answered with {reply.media_type or 'no media type'}, not RDF triples")
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(reply.body, formats[reply.media_type])]


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
        self.client = Client(settings)
        self._manifest = _Manifest(Path(dist))
        self._manifest.load()
        self._served: tuple[dict | None, dict] = (None, {})

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
        """build.json without ``extra_graphs``: ``kg push`` does not load the ontology, shapes and report
        graphs (the store's default graph is the union of all its graphs), so they are not offered here."""
        build = self._manifest.current().build
        source, served = self._served
        if source is not build:  # one dict per build: views key their caches by its identity
            served = {k: v for k, v in build.items() if k != "extra_graphs"}
            self._served = (build, served)
        return served

    @property
    def dist(self) -> Path:
        return Path(self._manifest.current().target)

    def _ask_store(self, query: str, accept: str) -> Reply:
        try:
            reply = self.client.post([("query", query)], self.timeout, accept=accept)
        except QueryTimeout:
            raise StoreUnavailable(f"the SPARQL store at {self.settings.query_url} did not answer within {self.timeout:g} s") from None
        if 400 <= reply.status < 500:
            raise SyntaxError(f"the store rejected the query: {store_message(reply)}")
        if reply.status != 200:
            raise StoreUnavailable(f"the SPARQL store answered HTTP {reply.status}: {store_message(reply)[:300]}")
        return reply

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        results = parse_rows(self._ask_store(query, SELECT_TYPE))
        if isinstance(results, ox.QueryBoolean):
            raise TypeError("expected a SELECT query, got an ASK answer")
        names = [variable.value for variable in results.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in results]

    def ask(self, query: str) -> bool:
        return bool(parse_rows(self._ask_store(query, SELECT_TYPE)))

    def construct(self, query: str) -> list[ox.Triple]:
        return parse_triples(self._ask_store(query, f"{GRAPH_TYPE}, text/turtle;q=0.9"))
