"""Several concepts in one deployment: Hamm, Musterstadt and two generated municipalities in one
build, one named graph each, and pages and queries that work across them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main as kg_main
from kg.generate import generate_municipalities
from server import create_app
from tests.conftest import HAMM, MUSTERSTADT

KIK = "PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> "
VOCAB = "https://w3id.org/kik/vocab/"
BASES = {
    "hamm": "https://w3id.org/kik/hamm/",
    "musterstadt": "https://w3id.org/kik/fiktiv/musterstadt/",
    "gen-0001": "https://w3id.org/kik/fiktiv/gen-0001/",
    "gen-0002": "https://w3id.org/kik/fiktiv/gen-0002/",
}


@pytest.fixture(scope="module")
def multi_dist(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("multi")
    generated = generate_municipalities(2, root / "generated", seed=7)
    dist = root / "dist"
    code = kg_main(["build", str(HAMM), str(MUSTERSTADT), *map(str, generated), "--dist", str(dist), "--quiet"])
    assert code == 0
    return dist


@pytest.fixture(scope="module")
def client(multi_dist):
    return create_app({"KIK_DIST": str(multi_dist), "TESTING": True}).test_client()


def _select(client, query: str) -> list[dict]:
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in row.items()} for row in response.get_json()["results"]["bindings"]]


def test_build_has_one_named_graph_per_concept(multi_dist):
    build = json.loads((multi_dist / "build.json").read_text(encoding="utf-8"))
    assert set(build["graphs"]) == {*BASES.values(), VOCAB}
    for name in ("kg.nq", "kg.trig"):
        quads = list(ox.parse(path=str(multi_dist / name)))
        by_graph: dict[str, int] = {}
        for quad in quads:
            assert not isinstance(quad.graph_name, ox.DefaultGraph), f"{name}: a triple outside every named graph"
            by_graph[quad.graph_name.value] = by_graph.get(quad.graph_name.value, 0) + 1
        assert by_graph == build["graphs"], name


def test_every_municipality_resource_lives_in_its_own_graph(multi_dist):
    for quad in ox.parse(path=str(multi_dist / "kg.nq")):
        subject = quad.subject.value if isinstance(quad.subject, ox.NamedNode) else ""
        for base in BASES.values():
            if subject.startswith(base):
                assert quad.graph_name.value == base, f"{subject} in {quad.graph_name.value}"


def test_sparql_graph_across_municipalities(client):
    rows = _select(client, KIK + "SELECT ?g (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH ?g { ?m a kik:Measure } } GROUP BY ?g")
    measures = {row["g"]: int(row["n"]) for row in rows}
    assert measures[BASES["gen-0001"]] == 48 and measures[BASES["gen-0002"]] == 48
    assert measures[BASES["musterstadt"]] > 0
    assert set(measures) <= set(BASES.values())
    # one query joins two municipalities' graphs: challenges both concepts' measures address, by grid number
    rows = _select(client, KIK + f"""SELECT DISTINCT ?i WHERE {{
        GRAPH <{BASES['gen-0001']}> {{ ?a a kik:Measure ; kik:addressesChallenge ?ca . ?ca kik:gridIndex ?i }}
        GRAPH <{BASES['musterstadt']}> {{ ?b a kik:Measure ; kik:addressesChallenge ?cb . ?cb kik:gridIndex ?i }}
    }}""")
    assert rows and all(1 <= int(row["i"]) <= 18 for row in rows)
    # the default graph is the union: the same count without GRAPH
    total = _select(client, KIK + "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a kik:Measure }")
    assert int(total[0]["n"]) == sum(measures.values())


def _profile(client, measure: str) -> dict[int, str]:
    rows = _select(client, KIK + f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?i ?l WHERE {{ <{measure}> kik:addressesChallenge ?c . ?c kik:gridIndex ?i ; skos:prefLabel ?l
        FILTER(lang(?l) = "de") }}""")
    return {int(row["i"]): row["l"].removesuffix(" (fiktiv)") for row in rows}


def _first_measure(client, base: str) -> str:
    rows = _select(client, KIK + f"""SELECT ?m WHERE {{ GRAPH <{base}> {{ ?m a kik:Measure ; kik:addressesChallenge ?c }} }}
        GROUP BY ?m HAVING (COUNT(?c) >= 3) ORDER BY ?m LIMIT 1""")
    return rows[0]["m"]


def test_compare_measures_of_two_municipalities(client):
    a = _first_measure(client, BASES["musterstadt"])
    # a measure of another municipality that shares a grid number with ``a`` and differs in another
    b = _select(client, KIK + f"""SELECT ?b WHERE {{
        <{a}> kik:addressesChallenge/kik:gridIndex ?i .
        GRAPH <{BASES['gen-0001']}> {{ ?b a kik:Measure ; kik:addressesChallenge/kik:gridIndex ?i }}
        FILTER EXISTS {{ ?b kik:addressesChallenge/kik:gridIndex ?j FILTER NOT EXISTS {{ <{a}> kik:addressesChallenge/kik:gridIndex ?j }} }}
    }} ORDER BY ?b LIMIT 1""")[0]["b"]
    response = client.get("/vergleich", query_string=[("m", a), ("m", b)])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "compare-across" in page
    assert "Musterstadt" in page and "gen-0001" in page
    pa, pb = _profile(client, a), _profile(client, b)
    # same number, same name: the fictional grids repeat seed 002's names, so they are comparable
    expected = {i for i in pa.keys() & pb.keys() if pa[i] == pb[i]}
    assert expected and pa.keys() != pb.keys()
    shared = page[page.index('class="shared'):page.index('id="sim-h"')]
    assert {int(i) for i in re.findall(r'data-index="(\d+)"', shared)} == expected
    score = re.search(r'data-score="([0-9.]+)"', page)
    union = len(pa.keys() | pb.keys())
    assert score and float(score.group(1)) == pytest.approx(round(len(expected) / union, 4))


def test_compare_within_one_municipality_has_no_cross_note(client):
    rows = _select(client, KIK + f"SELECT ?m WHERE {{ GRAPH <{BASES['gen-0002']}> {{ ?m a kik:Measure }} }} ORDER BY ?m LIMIT 2")
    response = client.get("/vergleich", query_string=[("m", rows[0]["m"]), ("m", rows[1]["m"])])
    assert response.status_code == 200
    assert "compare-across" not in response.get_data(as_text=True)


def test_compare_form_groups_measures_by_municipality(client):
    page = client.get("/vergleich").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)"', page)
    with_measures = _select(client, KIK + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?m a kik:Measure } }")
    assert len(set(groups)) == len(with_measures) >= 3  # one group per municipality with measures …
    assert len(groups) == 4 * len(set(groups))  # … in each of the four selects
    assert "Generierte Stadt 0002 (fiktiv)" in groups


def _panels(page: str) -> dict[str, dict[int, int]]:
    panels = {}
    for iri, body in re.findall(r'data-municipality="([^"]+)"(.*?)</section>', page, flags=re.DOTALL):
        panels[iri] = {int(i): int(n) for i, n in re.findall(r'data-index="(\d+)" data-count="(\d+)"', body)}
    return panels


def test_grids_side_by_side(client):
    response = client.get("/raster")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    panels = _panels(page)
    municipalities = _select(client, KIK + "SELECT ?m WHERE { ?c a kik:IntegrationConcept ; kik:municipality ?m }")
    assert set(panels) == {row["m"] for row in municipalities}
    for base in ("gen-0001", "musterstadt"):
        iri = next(m for m in panels if m.startswith(BASES[base]))
        rows = _select(client, KIK + f"""SELECT ?i (COUNT(DISTINCT ?m) AS ?n) WHERE {{
            GRAPH <{BASES[base]}> {{ ?m a kik:Measure ; kik:addressesChallenge ?c . ?c kik:gridIndex ?i }} }} GROUP BY ?i""")
        expected = {i: 0 for i in range(1, 19)} | {int(r["i"]): int(r["n"]) for r in rows}
        assert panels[iri] == expected
    top = max(n for cells in panels.values() for n in cells.values())
    assert f"({top} " in page  # the shared scale names its top


def test_grids_choose_municipalities_and_scale(client):
    page = client.get("/raster").get_data(as_text=True)
    chosen = sorted(_panels(page))[:2]
    response = client.get("/raster", query_string=[("k", chosen[0]), ("k", chosen[1]), ("skala", "eigen"), ("lang", "en")])
    assert response.status_code == 200
    assert sorted(_panels(response.get_data(as_text=True))) == chosen
    assert "Colour scale per municipality" in response.get_data(as_text=True)
    assert client.get("/raster", query_string={"k": "https://w3id.org/kik/fiktiv/nirgendwo/stadt"}).status_code == 404
    assert client.get("/raster", query_string={"skala": "bunt"}).status_code == 400


def test_landing_lists_every_municipality_and_links_the_grids(client):
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'<tr class="municipality-row"[^>]*>\s*<th scope="row"><a href="(/kommune/[^"]+)"', page)
    assert len(links) == 4
    assert 'href="/raster"' in page
    for link in links:  # each municipality's own page holds its block
        own = client.get(link).get_data(as_text=True)
        assert own.count('class="municipality"') == 1 and 'class="grid heat"' in own
