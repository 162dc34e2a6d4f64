"""Musterstadt, the fictional example municipality: its files are consistent and complete enough to
exercise every feature that Hamm's incomplete data cannot."""

from __future__ import annotations

import csv
import itertools
import re
import tomllib
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.namespace import KIK, QB, SDMX_DIMENSION, SDMX_MEASURE

FOLDER = Path(__file__).resolve().parent.parent / "data" / "musterstadt"
BASE = "https://w3id.org/kik/fiktiv/musterstadt/"
M = Namespace(BASE)
CONCEPT = M["konzept/2023"]
SOURCE = M["quelle/erfunden"]
HEADER = (["id", "titel", "titel_en", "beschreibung"] + [f"H{i}" for i in range(1, 19)]
          + ["handlungsfelder", "akteure", "zielgruppen", "altersbereich", "finanzierung",
             "steuerungslogik", "beginn", "ende", "quelle", "seite"])
ACTOR_CLASSES = {KIK.Municipality, KIK.AdministrativeUnit, KIK.CouncilBody,
                 KIK.CivilSocietyOrganisation, KIK.PublicAuthority, KIK.Programme}
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
ROLES = {"traeger", "partner", "foerderer", "kontakt"}


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = Graph()
    files = sorted(FOLDER.glob("*.ttl"))
    assert files, f"no Turtle files in {FOLDER}"
    for path in files:
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(FOLDER / "massnahmen.csv", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader)


def split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def profile(row: dict[str, str]) -> set[int]:
    marks = {row[f"H{i}"].strip().lower() for i in range(1, 19)}
    assert marks <= {"", "x"}, f"{row['id']}: profile cells must be 'x' or empty"
    return {i for i in range(1, 19) if row[f"H{i}"].strip().lower() == "x"}


def is_type(g: Graph, node: URIRef, cls: URIRef) -> bool:
    return (node, RDF.type, cls) in g


def test_datensatz_toml(graph):
    meta = tomllib.loads((FOLDER / "datensatz.toml").read_text(encoding="utf-8"))
    assert meta["id"] == "musterstadt" == FOLDER.name
    assert meta["base"] == BASE
    assert meta["fictional"] is True
    assert URIRef(meta["concept"]) == CONCEPT
    assert is_type(graph, CONCEPT, KIK.IntegrationConcept)
    assert "(fiktiv)" in meta["title_de"] and "(fictional)" in meta["title_en"]


def test_every_subject_is_fictional_and_sourced(graph):
    subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
    assert all(str(s).startswith(BASE) for s in subjects), "only Musterstadt IRIs are described"
    for s in subjects:
        assert (s, KIK.fictional, Literal(True)) in graph, f"{s} lacks kik:fictional true"
        assert (s, DCTERMS.source, SOURCE) in graph, f"{s} lacks dct:source {SOURCE}"


def test_labels_say_fictional(graph):
    for s, p, o in graph:
        if p in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
            assert o.language in ("de", "en"), f"{s} {p} {o!r} has no language"
            marker = "(fiktiv" if o.language == "de" else "(fictional"
            assert marker in str(o), f"{s}: label {o!r} does not say it is fictional"
    for s in set(graph.subjects(RDF.type, None)) - {None}:
        if isinstance(s, URIRef):
            langs = {o.language for p in (RDFS.label, SKOS.prefLabel, DCTERMS.title)
                     for o in graph.objects(s, p)}
            assert {"de", "en"} <= langs, f"{s} needs a German and an English label"


def test_source(graph):
    assert is_type(graph, SOURCE, KIK.Source)
    assert Literal("Erfundene Beispieldaten (fiktiv)", lang="de") in set(graph.objects(SOURCE, DCTERMS.title))


def test_concept_versions_and_counts(graph):
    assert (CONCEPT, PROV.wasRevisionOf, M["konzept/2019"]) in graph
    assert is_type(graph, M["konzept/2019"], KIK.IntegrationConcept)
    assert (CONCEPT, KIK.municipality, M["stadt"]) in graph
    assert is_type(graph, M["stadt"], KIK.Municipality)
    declared = {p: int(graph.value(CONCEPT, p)) for p in (
        KIK.declaredGoalCount, KIK.declaredActionFieldCount, KIK.declaredChallengeCount,
        KIK.declaredMeasureCount)}
    assert declared == {KIK.declaredGoalCount: 6, KIK.declaredActionFieldCount: 18,
                        KIK.declaredChallengeCount: 18, KIK.declaredMeasureCount: 48}


def test_goals_and_action_fields(graph):
    goals = set(graph.subjects(RDF.type, KIK.StrategicGoal))
    fields = set(graph.subjects(RDF.type, KIK.ActionField))
    assert goals == {M[f"konzept/2023/ziel/{n}"] for n in range(1, 7)}
    assert fields == {M[f"konzept/2023/handlungsfeld/{n}"] for n in range(1, 19)}
    served = set()
    for field in fields:
        targets = set(graph.objects(field, KIK.servesGoal))
        assert 1 <= len(targets) <= 2, f"{field} serves {len(targets)} goals"
        assert targets <= goals
        served |= targets
    assert served == goals, "every goal is served by some action field"


def test_challenge_grid(graph):
    grid = graph.value(CONCEPT, KIK.challengeGrid)
    assert grid == M["konzept/2023/herausforderungen"]
    assert is_type(graph, grid, KIK.ChallengeGrid)
    assert (int(graph.value(grid, KIK.gridRows)), int(graph.value(grid, KIK.gridColumns))) == (3, 6)
    challenges = list(graph.subjects(RDF.type, KIK.Challenge))
    indices = [int(graph.value(c, KIK.gridIndex)) for c in challenges]
    assert sorted(indices) == list(range(1, 19)), "indices 1..18, each once"
    for c in challenges:
        i = int(graph.value(c, KIK.gridIndex))
        assert c == M[f"konzept/2023/herausforderung/{i}"]
        assert int(graph.value(c, KIK.gridRow)) == (i - 1) // 6 + 1
        assert int(graph.value(c, KIK.gridColumn)) == (i - 1) % 6 + 1
        assert (c, SKOS.inScheme, grid) in graph
        assert graph.value(c, KIK.gridIndex).datatype == XSD_INTEGER


def test_actors_of_every_kind(graph):
    kinds = {cls for cls in ACTOR_CLASSES if any(graph.subjects(RDF.type, cls))}
    assert kinds == ACTOR_CLASSES
    assert len({s for cls in ACTOR_CLASSES for s in graph.subjects(RDF.type, cls)}) >= 12


def test_age_ranges(graph):
    ranges = set(graph.subjects(RDF.type, KIK.AgeRange))
    assert len(ranges) >= 5
    for r in ranges:
        low = graph.value(r, KIK.minAge)
        assert low is not None, f"{r} has no kik:minAge"
        high = graph.value(r, KIK.maxAge)
        if high is not None:
            assert int(low) <= int(high)


def test_data_cube(graph):
    dataset = M["kennzahlen"]
    assert is_type(graph, dataset, QB.DataSet)
    dsd = graph.value(dataset, QB.structure)
    assert dsd == M["kennzahlen/struktur"] and is_type(graph, dsd, QB.DataStructureDefinition)
    parts = {graph.value(c, p) for c in graph.objects(dsd, QB.component)
             for p in (QB.dimension, QB.measure, QB.attribute) if graph.value(c, p) is not None}
    assert parts == {KIK.indicator, SDMX_DIMENSION.refPeriod, SDMX_DIMENSION.refArea,
                     SDMX_MEASURE.obsValue, KIK.approximate}
    observations = set(graph.subjects(QB.dataSet, dataset))
    assert len(observations) >= 12
    periods: dict[URIRef, set] = {}
    for obs in observations:
        assert is_type(graph, obs, QB.Observation)
        indicator = graph.value(obs, KIK.indicator)
        assert is_type(graph, indicator, KIK.Indicator)
        assert graph.value(obs, SDMX_DIMENSION.refArea) == M["stadt"]
        assert isinstance(graph.value(obs, SDMX_MEASURE.obsValue).toPython(), int)
        assert isinstance(graph.value(obs, KIK.approximate).toPython(), bool)
        periods.setdefault(indicator, set()).add(graph.value(obs, SDMX_DIMENSION.refPeriod).toPython())
    assert max(len(p) for p in periods.values()) >= 5, "figures over several years"


def test_measure_rows(rows):
    assert len(rows) == 48
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 48
    for r in rows:
        assert re.fullmatch(r"[a-z0-9-]+", r["id"]), r["id"]
        assert r["titel"].endswith(" (fiktiv)"), r["titel"]
        assert r["titel_en"].endswith(" (fictional)"), r["titel_en"]
        assert r["quelle"] == str(SOURCE)
        assert r["beschreibung"] and r["seite"]
        for column in ("beginn", "ende"):
            assert re.fullmatch(r"(\d{4}(-\d{2}-\d{2})?)?", r[column]), (r["id"], column)
        if r["ende"]:
            assert r["beginn"][:4] <= r["ende"][:4]


def test_measure_references_exist(graph, rows):
    kinds = {"zielgruppen": ("zielgruppe", KIK.TargetGroup), "altersbereich": ("altersbereich", KIK.AgeRange),
             "finanzierung": ("finanzierung", KIK.FundingSource),
             "steuerungslogik": ("steuerung", KIK.SteeringLogic)}
    for r in rows:
        assert split(r["handlungsfelder"]), f"{r['id']} has no action field"
        for n in split(r["handlungsfelder"]):
            assert is_type(graph, M[f"konzept/2023/handlungsfeld/{n}"], KIK.ActionField), (r["id"], n)
        assert split(r["akteure"]), f"{r['id']} has no actor"
        for pair in split(r["akteure"]):
            slug, role = pair.split(":")
            assert role in ROLES, (r["id"], pair)
            node = M[f"akteur/{slug}"]
            assert any(is_type(graph, node, cls) for cls in ACTOR_CLASSES), (r["id"], slug)
        for column, (path, cls) in kinds.items():
            assert split(r[column]), f"{r['id']} has no {column}"
            for ident in split(r[column]):
                assert is_type(graph, M[f"{path}/{ident}"], cls), (r["id"], column, ident)
        assert len(split(r["steuerungslogik"])) == 1


def test_profiles_exercise_queries(rows):
    profiles = {r["id"]: profile(r) for r in rows}
    unknown = [i for i, p in profiles.items() if not p]
    assert 1 <= len(unknown) <= 2, "one or two measures with an unknown profile"
    assert all(1 <= len(p) <= 8 for p in profiles.values() if p)
    addressed = set().union(*profiles.values())
    assert 1 <= len(set(range(1, 19)) - addressed) <= 2, "one or two challenges no measure addresses"
    sharing = [(a, b) for (a, pa), (b, pb) in itertools.combinations(profiles.items(), 2)
               if len(pa & pb) >= 3]
    assert len(sharing) >= 3, "a few measures share at least three challenges"
    assert any(len(p) == 8 for p in profiles.values()) and any(len(p) == 1 for p in profiles.values())


def test_tricky_titles(rows):
    titles = [r["titel"] for r in rows]
    assert any('<script>alert("x")</script>' in t for t in titles)
    assert any("ß" in t and len(set(t) & set("äöüÄÖÜ")) >= 2 for t in titles)


def test_build_finds_48_measures_with_46_or_47_profiles():
    from kg.build import build_dataset

    dataset = build_dataset([FOLDER])
    graph = dataset.graph(URIRef(BASE))
    measures = set(graph.subjects(RDF.type, KIK.Measure))
    assert len(measures) == 48
    assert all((m, DCTERMS.isPartOf, CONCEPT) in graph for m in measures)
    with_profile = {m for m in measures if (m, KIK.addressesChallenge, None) in graph}
    assert 46 <= len(with_profile) <= 47
    escaped = M["massnahme/online-anmeldung"]
    assert any('<script>alert("x")</script>' in str(t) for t in graph.objects(escaped, DCTERMS.title))
