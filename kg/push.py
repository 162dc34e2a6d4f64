"""``kg push``: load the build in dist/ into an external SPARQL 1.1 store.

Each named graph of ``kg.nq`` (one per municipality's concept, plus the shared vocabularies) is
sent with one Graph Store Protocol ``PUT``, which replaces that graph as one operation: a reader of
the store sees a concept either before or after the push, never half of it. Graphs of an earlier
build that this build no longer has are left alone unless ``prune`` is asked for.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests

from kg.namespace import DATASET_BASE

NTRIPLES = "application/n-triples"
GSP_URLS = "Oxigraph: …/store, Fuseki: …/<dataset>/data, Virtuoso: …/sparql-graph-crud-auth"
DEFAULT_GRAPH = "default"  # the key of triples outside any named graph (GSP ``?default``)


class PushError(Exception):
    """The push cannot start or the store refused a graph: what happened and how to fix it."""


@dataclass(frozen=True)
class Target:
    """The store: its Graph Store Protocol endpoint, optionally its query endpoint (for ``prune``)."""

    gsp_url: str
    query_url: str = ""
    user: str = ""
    password: str = ""
    digest: bool = False
    timeout: float = 300.0
    graph_param: str = "graph"  # Virtuoso's /sparql-graph-crud* name it ``graph-uri``

    def auth(self) -> requests.auth.AuthBase | None:
        if not self.user:
            return None
        kind = requests.auth.HTTPDigestAuth if self.digest else requests.auth.HTTPBasicAuth
        return kind(self.user, self.password)


def graphs_of(dump: Path) -> dict[str, list[ox.Triple]]:
    """The triples of an N-Quads dump, by graph IRI (``DEFAULT_GRAPH`` for the default graph)."""
    if not dump.is_file():
        raise PushError(f"{dump}: no build found. Run `kg build` first (or pass --dist).")
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    try:
        for quad in ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS):
            name = DEFAULT_GRAPH if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            graphs[name].append(ox.Triple(quad.subject, quad.predicate, quad.object))
    except SyntaxError as error:
        raise PushError(f"{dump}: not valid N-Quads ({error}). Rebuild with `kg build`.") from error
    return dict(graphs)


def _graph_params(name: str, graph_param: str = "graph") -> dict[str, str]:
    return {"default": ""} if name == DEFAULT_GRAPH else {graph_param: name}


def _explain(response: requests.Response, target: Target) -> str:
    """A refusal in words, with the usual cause for the status."""
    hints = {
        401: "the store wants credentials: pass --user and set KIK_STORE_PASSWORD (Virtuoso: also --digest)",
        403: "the user may not write to this store (Virtuoso: push to …/sparql-graph-crud-auth with --user and "
             "--digest, as a user with the SPARQL_UPDATE role)",
        404: f"no Graph Store Protocol endpoint at this URL ({GSP_URLS})",
        405: f"this URL does not accept PUT: is it the read-only query endpoint, or a read-only Fuseki dataset? ({GSP_URLS})",
        413: "the store refuses a graph this large: raise its request size limit",
    }
    text = response.text.strip()[:300]
    hint = hints.get(response.status_code, "see the store's log")
    return f"the store at {target.gsp_url} answered HTTP {response.status_code}{': ' + text if text else ''}. Fix: {hint}."


def _send(session: requests.Session, target: Target, method: str, name: str, body: bytes | None) -> None:
    headers = {"Content-Type": f"{NTRIPLES}; charset=utf-8"} if body is not None else {}
    try:
        response = session.request(method, target.gsp_url, params=_graph_params(name, target.graph_param), data=body,
                                   headers=headers, timeout=(10, target.timeout))
    except requests.RequestException as error:
        raise PushError(f"the store at {target.gsp_url} cannot be reached ({type(error).__name__}: {error}). "
                        "Fix: start the store or correct --store / KIK_STORE_GSP_URL.") from error
    if method == "DELETE" and response.status_code == 404:
        return  # already gone
    if response.status_code >= 300:
        raise PushError(f"{method} graph <{name}>: {_explain(response, target)}")


def stored_graphs(session: requests.Session, target: Target) -> set[str]:
    """The named graphs the store holds below the dataset base (what ``prune`` may delete)."""
    query = ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
             f'FILTER(STRSTARTS(STR(?g), "{DATASET_BASE}")) }}')
    try:
        response = session.post(target.query_url, data={"query": query},
                                headers={"Accept": "application/sparql-results+json"}, timeout=(10, target.timeout))
    except requests.RequestException as error:
        raise PushError(f"the query endpoint {target.query_url} cannot be reached ({type(error).__name__}). "
                        "Fix: correct --query / KIK_STORE_QUERY_URL.") from error
    if response.status_code != 200:
        raise PushError(f"listing the store's graphs failed: HTTP {response.status_code} from {target.query_url}.")
    try:
        rows = json.loads(response.content)["results"]["bindings"]
    except (ValueError, KeyError) as error:
        raise PushError(f"{target.query_url} did not answer with SPARQL JSON results ({error}).") from error
    return {row["g"]["value"] for row in rows if "g" in row}


def push(dist: Path, target: Target, prune: bool = False, report: Callable[[str], None] = print) -> dict[str, int]:
    """PUT every graph of ``dist/kg.nq`` into the store; returns triples per graph.

    With ``prune``, graphs below the dataset base that the build no longer has are deleted after
    every graph of the build is in place.
    """
    dump = Path(dist) / "kg.nq"
    manifest = Path(dist) / "build.json"
    build_id = "?"
    if manifest.is_file():
        try:
            build_id = json.loads(manifest.read_text(encoding="utf-8")).get("build", "?")
        except ValueError as error:
            raise PushError(f"{manifest}: not valid JSON ({error}). Rebuild with `kg build`.") from error
    if prune and not target.query_url:
        raise PushError("--prune needs the store's query endpoint: pass --query or set KIK_STORE_QUERY_URL.")
    graphs = graphs_of(dump)
    report(f"Build {build_id}: {len(graphs)} Graphen / graphs, {sum(map(len, graphs.values()))} Tripel / triples → {target.gsp_url}")
    counts: dict[str, int] = {}
    with requests.Session() as session:
        session.auth = target.auth()
        for number, name in enumerate(sorted(graphs), 1):
            started = time.monotonic()
            body = ox.serialize(graphs[name], format=ox.RdfFormat.N_TRIPLES)
            _send(session, target, "PUT", name, body)
            counts[name] = len(graphs[name])
            report(f"[{number}/{len(graphs)}] PUT <{name}> {counts[name]} Tripel / triples "
                   f"({len(body) / 1e6:.1f} MB, {time.monotonic() - started:.1f} s)")
        if prune:
            stale = sorted(stored_graphs(session, target) - set(graphs))
            for name in stale:
                _send(session, target, "DELETE", name, None)
                report(f"DELETE <{name}> (nicht mehr im Build / no longer in the build)")
    return counts
