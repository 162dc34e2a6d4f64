"""The server with an external SPARQL 1.1 store: a real ``oxigraph serve`` on loopback, ``kg push``,
then the same HTTP requests against our server in embedded and in external mode, with equal answers."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic
from tests.serving import serving

from kg.cli import main as kg_main
from server import create_app
from server.store.external import StoreUnavailable

PUBLIC = "http://kik.test/"
READY_WITHIN = 30.0


def _oxigraph_binary() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    path = str(found) if found.is_file() else shutil.which("oxigraph")
    assert path, "the `oxigraph` command is missing: pip install oxigraph (the test extras list it)"
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def oxigraph_serve(location: Path) -> Iterator[str]:
    """``oxigraph serve`` with a union default graph on a free loopback port; yields its base URL."""
    port = _free_port()
    log = (location.parent / f"oxigraph-{port}.log").open("w+b")
    process = subprocess.Popen(
        [_oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"oxigraph serve exited with {process.returncode}: {log.read().decode(errors='replace')}")
            try:
                if requests.get(f"{base}/query", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"oxigraph serve did not answer on {base} within {READY_WITHIN:g} s")
            time.sleep(0.1)
        yield base
    finally:
        process.kill()
        process.wait(timeout=10)
        log.close()


def _settings(dist: Path, **more) -> dict:
    return {"KIK_DIST": str(dist), "TESTING": True, "KIK_PUBLIC_BASE": PUBLIC, **more}


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> Iterator[str]:
    with oxigraph_serve(tmp_path_factory.mktemp("oxigraph") / "db") as base:
        yield base


@pytest.fixture(scope="module")
def pushed(oxigraph, dist_dir) -> str:
    """The build pushed into the store (twice: a second push must replace, not add)."""
    for _ in range(2):
        assert kg_main(["push", "--dist", str(dist_dir), "--store", f"{oxigraph}/store", "--quiet"]) == 0
    return oxigraph


@pytest.fixture(scope="module")
def servers(pushed, dist_dir) -> Iterator[tuple[str, str]]:
    """(embedded, external) base URLs of two servers on the same build."""
    embedded = create_app(_settings(dist_dir))
    external = create_app(_settings(dist_dir, KIK_STORE_QUERY_URL=f"{pushed}/query"))
    with serving(embedded) as a, serving(external) as b:
        yield a, b


def _store_count(base: str, query: str) -> int:
    response = requests.post(f"{base}/query", data={"query": query},
                             headers={"Accept": "application/sparql-results+json"}, timeout=10)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _rows(response: requests.Response) -> set[tuple]:
    body = response.json()
    names = body["head"]["vars"]
    return {tuple(json.dumps(row.get(n), sort_keys=True) for n in names) for row in body["results"]["bindings"]}


def test_push_puts_one_graph_per_concept_and_replaces_on_repeat(pushed, dist_dir):
    build = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    for graph, triples in build["graphs"].items():
        assert _store_count(pushed, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") == triples
    assert "https://w3id.org/kik/hamm/" in build["graphs"]
    assert "https://w3id.org/kik/fiktiv/musterstadt/" in build["graphs"]


def test_push_prune_deletes_graphs_the_build_no_longer_has(tmp_path, dist_dir):
    stale = "https://w3id.org/kik/fiktiv/abgeschafft/"
    foreign = "http://example.org/other-data/"
    with oxigraph_serve(tmp_path / "db") as base:
        for graph in (stale, foreign):
            put = requests.put(f"{base}/store", params={"graph": graph}, data=b"<http://a.example/> <http://b.example/> <http://c.example/> .",
                               headers={"Content-Type": "application/n-triples"}, timeout=10)
            assert put.status_code in (201, 204)
        code = kg_main(["push", "--dist", str(dist_dir), "--store", f"{base}/store", "--query", f"{base}/query",
                        "--prune", "--quiet"])
        assert code == 0
        assert _store_count(base, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{stale}> {{ ?s ?p ?o }} }}") == 0
        assert _store_count(base, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{foreign}> {{ ?s ?p ?o }} }}") == 1


def test_push_to_unreachable_store_exits_2_with_message(dist_dir, capsys):
    code = kg_main(["push", "--dist", str(dist_dir), "--store", f"http://127.0.0.1:{_free_port()}/store"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "--store" in err


def test_push_without_store_or_build_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("KIK_STORE_GSP_URL", raising=False)
    assert kg_main(["push", "--dist", str(tmp_path)]) == 2
    assert "--store" in capsys.readouterr().err
    assert kg_main(["push", "--dist", str(tmp_path), "--store", "http://127.0.0.1:9/store"]) == 2
    assert "kg build" in capsys.readouterr().err


def test_push_to_query_endpoint_names_the_gsp_endpoint(pushed, dist_dir, capsys):
    assert kg_main(["push", "--dist", str(dist_dir), "--store", f"{pushed}/query", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 404" in err or "HTTP 405" in err
    assert "/store" in err


QUERIES = [
    "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT ?m ?t WHERE { ?m a kik:Measure ; <http://purl.org/dc/terms/title> ?t }",
    "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT ?g (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH ?g { ?m a kik:Measure } } GROUP BY ?g",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
]


@pytest.mark.parametrize("query", QUERIES)
def test_sparql_select_equals_embedded(servers, query):
    assert len(servers) == 2
    answers = [requests.get(base + "sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30) for base in servers]
    for response in answers:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    assert _rows(answers[0]) == _rows(answers[1])
    assert _rows(answers[1])


def test_sparql_graph_across_municipalities_in_external_mode(servers):
    query = ("PREFIX kik: <https://w3id.org/kik/ontology#> SELECT DISTINCT ?g WHERE { GRAPH ?g { ?c a kik:IntegrationConcept } }")
    response = requests.post(servers[1] + "sparql", data={"query": query}, headers={"Accept": "text/csv"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    graphs = set(response.text.split()[1:])
    assert {"https://w3id.org/kik/hamm/", "https://w3id.org/kik/fiktiv/musterstadt/"} <= graphs


def test_sparql_ask_and_construct_in_other_formats(servers):
    _, external = servers
    ask = requests.get(external + "sparql", params={"query": "ASK { ?s a <https://w3id.org/kik/ontology#Measure> }"},
                       headers={"Accept": "application/sparql-results+xml"}, timeout=30)
    assert ask.status_code == 200 and "<boolean>true</boolean>" in ask.text
    query = "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s ?t LIMIT 20"
    graphs = []
    for base in servers:
        response = requests.get(base + "sparql", params={"query": query}, headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
        graphs.append(Graph().parse(data=response.text, format="turtle"))
    assert len(graphs[1]) == 20
    assert isomorphic(graphs[0], graphs[1])


def test_refusals_and_limits_stay_in_front_of_the_store(pushed, dist_dir):
    app = create_app(_settings(dist_dir, KIK_STORE_QUERY_URL=f"{pushed}/query", KIK_MAX_RESULT_ROWS=3))
    client = app.test_client()
    update = client.post("/sparql", data={"update": "DROP ALL"})
    assert update.status_code == 400 and "read-only" in update.get_data(as_text=True)
    as_query = client.get("/sparql", query_string={"query": "CLEAR ALL"})
    assert as_query.status_code == 400 and "read-only" in as_query.get_data(as_text=True)
    service = client.get("/sparql", query_string={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert service.status_code == 400 and "SERVICE" in service.get_data(as_text=True)
    too_many = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10"})
    assert too_many.status_code == 400 and "more than 3 rows" in too_many.get_data(as_text=True)
    broken = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s "})
    assert broken.status_code == 400 and "syntax" in broken.get_data(as_text=True)
    # the store still holds every graph: nothing above reached it as an update
    assert _store_count(pushed, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == \
        json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))["triples"]


def _measure_path(base: str) -> str:
    query = "SELECT ?m WHERE { ?m a <https://w3id.org/kik/ontology#Measure> } ORDER BY ?m LIMIT 1"
    response = requests.get(base + "sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
    iri = response.json()["results"]["bindings"][0]["m"]["value"]
    return iri.removeprefix("https://w3id.org/kik/")


def test_dereference_measure_turtle_and_html_equal_embedded(servers):
    path = _measure_path(servers[1])
    turtle = [requests.get(base + path, headers={"Accept": "text/turtle"}, timeout=30) for base in servers]
    for response in turtle:
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    graphs = [Graph().parse(data=r.text, format="turtle") for r in turtle]
    assert len(graphs[1]) > 5
    assert isomorphic(graphs[0], graphs[1])
    html = [requests.get(base + path, headers={"Accept": "text/html"}, timeout=30) for base in servers]
    assert [r.status_code for r in html] == [200, 200]
    assert html[0].text == html[1].text


@pytest.mark.parametrize("path", ["", "catalog", "massnahmen", "download/"])
def test_pages_and_catalog_equal_embedded(servers, path):
    answers = [requests.get(base + path, headers={"Accept": "text/html"}, timeout=60) for base in servers]
    assert [r.status_code for r in answers] == [200, 200]
    assert answers[0].text == answers[1].text


def test_catalog_turtle_equal_embedded(servers):
    graphs = []
    for base in servers:
        response = requests.get(base + "catalog", headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 200
        graphs.append(Graph().parse(data=response.text, format="turtle"))
    assert len(graphs[1]) > 10
    assert isomorphic(graphs[0], graphs[1])


def test_health_names_the_build(servers, dist_dir):
    build = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))
    answer = requests.get(servers[1] + "health", timeout=10).json()
    assert answer["build"] == build["build"]


def test_store_down_at_start_fails_clearly(dist_dir):
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        create_app(_settings(dist_dir, KIK_STORE_QUERY_URL=f"http://127.0.0.1:{_free_port()}/query"))


def test_store_down_while_serving_gives_503_not_500(tmp_path, dist_dir):
    with oxigraph_serve(tmp_path / "db") as base:
        assert kg_main(["push", "--dist", str(dist_dir), "--store", f"{base}/store", "--quiet"]) == 0
        app = create_app(_settings(dist_dir, KIK_STORE_QUERY_URL=f"{base}/query"))
    client = app.test_client()  # the store has been stopped now
    query = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
    assert query.status_code == 503 and "cannot be reached" in query.get_data(as_text=True)
    page = client.get("/massnahmen")
    assert page.status_code == 503


def test_relative_iris_resolve_against_our_endpoint_as_embedded(servers):
    query = "SELECT ?x WHERE { BIND(<beispiel> AS ?x) }"
    answers = [requests.get(base + "sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"},
                            timeout=30).json()["results"]["bindings"][0]["x"]["value"] for base in servers]
    assert answers[0] == answers[1] == PUBLIC + "beispiel"
