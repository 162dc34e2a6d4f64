"""The Stadt Hamm dataset states only what its sources state: the seed structure exactly, no invented
measures, profiles or persons, and a source for every resource."""

from __future__ import annotations

import csv
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS

from kg.namespace import CONCEPT_RELATION, KIK, QB, SDMX_ATTRIBUTE, SDMX_DIMENSION, SDMX_MEASURE, WD

REPOSITORY = Path(__file__).resolve().parents[1]
FOLDER = REPOSITORY / "data" / "hamm"
VOCABULARIES = REPOSITORY / "ontology" / "vocabularies.ttl"
BASE = "https://w3id.org/kik/hamm/"
DCAT_START = URIRef("http://www.w3.org/ns/dcat#startDate")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


def h(path: str) -> URIRef:
    return URIRef(BASE + path)


CONCEPT = h("konzept/2018")
GOALS = {
    1: "Förderung der gesellschaftlichen Teilhabe",
    2: "Förderung der Selbständigkeit",
    3: "Verbesserung der Unterstützungsstrukturen",
    4: "Förderung integrationsförderlicher Einstellungen und Haltungen",
    5: "Weitere Professionalisierung der Systeme und Strukturen",
    6: "Weiterentwicklung des Integrationsmanagements",
}
# the table of seed 002, row by row
GRID = [
    ["Sprachliche Verständigung", "Bildungsintegration", "Arbeitsintegration",
     "Praktische Unterstützung und Orientierung", "Soziale Eingebundenheit und Partizipation",
     "Nutzung regionaler Strukturen und Netzwerke"],
    ["Selbstbestimmung, Eigenverantwortung und Selbstständigkeit", "Kulturelles Engagement", "Wissen",
     "Handlungskompetenz (Zuwanderer & Fachkräfte)", "Stereotype / Ressentiments", "Werte und Einstellungen"],
    ["Zugänge und Veränderungsmotivation", "Schutz und Gesundheit", "Sicherheit und Ordnung",
     "Evaluation und Weiterentwicklung", "Transparenz und Kooperation", "Interkulturelle Systementwicklung"],
]
# private persons named in the public sources (project fact sheet); none may appear anywhere in data/hamm
PERSON_NAMES = [
    "Hunsteger-Petermann", "Müller", "Apitzsch", "Zahorodny", "Burkert", "Lenz", "Erkul", "Herter",
    "Bauer", "Opris", "Obszerninks", "Diebäcker", "Zdravkova", "Kinne", "Speckenwirth", "Schulz",
    "Schwibbe", "Ünlü", "Dittmar", "Hesse", "Wolfgang", "Nicolas", "Stefanie", "Oskar", "Ralf-Dieter",
    "Ismail", "Marc", "Ekaterina", "Martina", "Britta", "Günther", "Senol", "Svetlana", "Melissa",
    "Christian", "Theodor",
]
HEADER = (["id", "titel", "titel_en", "beschreibung"] + [f"H{i}" for i in range(1, 19)]
          + ["handlungsfelder", "akteure", "zielgruppen", "altersbereich", "finanzierung",
             "steuerungslogik", "beginn", "ende", "quelle", "seite"])
ACTOR_TYPES = {KIK.Municipality, KIK.AdministrativeUnit, KIK.CouncilBody, KIK.CivilSocietyOrganisation,
               KIK.PublicAuthority, KIK.Programme, KIK.Actor}
ROLES = {URIRef(f"https://w3id.org/kik/vocab/rolle/{r}") for r in ("traeger", "partner", "foerderer", "kontakt")}


@pytest.fixture(scope="module")
def hamm() -> Graph:
    """Only the Hamm Turtle files."""
    g = Graph()
    files = sorted(FOLDER.glob("*.ttl"))
    assert files, f"no Turtle files in {FOLDER}"
    for path in files:
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def graph(hamm: Graph) -> Graph:
    """Hamm plus the shared vocabularies (roles, concept relations) where they exist."""
    g = Graph()
    for triple in hamm:
        g.add(triple)
    if VOCABULARIES.exists():
        g.parse(VOCABULARIES, format="turtle")
    return g


def one(g: Graph, s, p):
    values = list(g.objects(s, p))
    assert len(values) == 1, f"{s} {p}: expected one value, got {values}"
    return values[0]


def test_every_turtle_file_parses():
    for path in sorted(FOLDER.glob("*.ttl")):
        assert len(Graph().parse(path, format="turtle")) > 0, path


def test_datensatz_toml():
    config = tomllib.loads((FOLDER / "datensatz.toml").read_text(encoding="utf-8"))
    assert config["id"] == "hamm"
    assert config["base"] == BASE
    assert config["concept"] == str(CONCEPT)
    assert config["fictional"] is False


def test_measures_table_is_header_only():
    with (FOLDER / "massnahmen.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER
    assert rows[1:] == [], "no source lists any of the 48 measures"


def test_six_goals_with_the_seed_names(hamm: Graph):
    goals = set(hamm.subjects(RDF.type, KIK.StrategicGoal))
    assert goals == {h(f"konzept/2018/ziel/{n}") for n in GOALS}
    for n, name in GOALS.items():
        goal = h(f"konzept/2018/ziel/{n}")
        assert one(hamm, goal, SKOS.notation) == Literal(str(n))
        assert Literal(name, lang="de") in set(hamm.objects(goal, SKOS.prefLabel))
        assert (goal, SKOS.inScheme, h("konzept/2018/ziele")) in hamm
        assert (goal, DCTERMS.isPartOf, CONCEPT) in hamm


def test_eighteen_challenges_with_names_and_grid_positions(hamm: Graph):
    grid = h("konzept/2018/herausforderungen")
    assert (CONCEPT, KIK.challengeGrid, grid) in hamm
    assert (grid, RDF.type, KIK.ChallengeGrid) in hamm
    assert one(hamm, grid, KIK.gridRows).toPython() == 3
    assert one(hamm, grid, KIK.gridColumns).toPython() == 6
    challenges = set(hamm.subjects(RDF.type, KIK.Challenge))
    assert len(challenges) == 18
    for row, names in enumerate(GRID, start=1):
        for column, name in enumerate(names, start=1):
            index = (row - 1) * 6 + column
            c = h(f"konzept/2018/herausforderung/{index}")
            assert c in challenges
            assert Literal(name, lang="de") in set(hamm.objects(c, SKOS.prefLabel)), c
            assert one(hamm, c, KIK.gridIndex).toPython() == index
            assert one(hamm, c, KIK.gridRow).toPython() == row
            assert one(hamm, c, KIK.gridColumn).toPython() == column
            assert one(hamm, c, SKOS.notation) == Literal(str(index))
            assert (c, SKOS.inScheme, grid) in hamm


def test_declared_counts(hamm: Graph):
    expected = {KIK.declaredGoalCount: 6, KIK.declaredActionFieldCount: 18,
                KIK.declaredChallengeCount: 18, KIK.declaredMeasureCount: 48}
    for prop, value in expected.items():
        assert one(hamm, CONCEPT, prop).toPython() == value, prop


def test_nothing_the_sources_do_not_give(hamm: Graph):
    assert not set(hamm.subjects(RDF.type, KIK.Measure)), "no source confirms a measure of 2018 ff."
    assert not set(hamm.subjects(RDF.type, KIK.ActionField)), "the 18 action field names are unknown"
    assert not list(hamm.triples((None, KIK.addressesChallenge, None))), "profiles are unknown"
    assert not list(hamm.triples((None, KIK.inActionField, None)))
    assert not list(hamm.triples((None, KIK.servesGoal, None)))
    assert not list(hamm.triples((CONCEPT, DCTERMS.dateAccepted, None))), "no source gives the 2018 adoption day"
    assert not list(hamm.triples((None, RDF.type, URIRef("http://xmlns.com/foaf/0.1/Person"))))


def test_every_resource_under_the_base_has_a_source(hamm: Graph):
    subjects = {s for s in hamm.subjects() if isinstance(s, URIRef) and str(s).startswith(BASE)}
    assert len(subjects) > 100
    missing = sorted(s for s in subjects if (s, DCTERMS.source, None) not in hamm)
    assert missing == []


def test_every_cited_web_page_is_described(hamm: Graph):
    cited = {o for o in hamm.objects(None, DCTERMS.source) if isinstance(o, URIRef)}
    undescribed = sorted(o for o in cited
                         if (o, RDF.type, KIK.Source) not in hamm or (o, DCTERMS.title, None) not in hamm
                         or (o, KIK.sourceKind, None) not in hamm)
    assert undescribed == []
    assert (h("quelle/seed-000"), URIRef("http://schema.org/url"),
            URIRef("https://hamm.de/migration/kommunales-integrationskonzept")) in hamm
    assert (h("quelle/seed-002"), RDF.type, KIK.Source) in hamm


def test_concept_versions_and_dates(hamm: Graph):
    chain = ["2018", "2016", "2014", "2003"]
    for newer, older in zip(chain, chain[1:]):
        assert (h(f"konzept/{newer}"), PROV.wasRevisionOf, h(f"konzept/{older}")) in hamm
        revision = one(hamm, h(f"konzept/{newer}"), PROV.qualifiedRevision)
        assert one(hamm, revision, PROV.entity) == h(f"konzept/{older}")
        assert (revision, DCTERMS.source, None) in hamm
    assert one(hamm, CONCEPT, DCTERMS.issued) == Literal("2018-06-25", datatype=XSD.date)
    assert one(hamm, h("konzept/2016"), DCTERMS.dateAccepted) == Literal("2016-03", datatype=XSD.gYearMonth)
    assert one(hamm, h("konzept/2014"), DCTERMS.dateAccepted) == Literal("2014-03-25", datatype=XSD.date)
    # every date of a concept version is tied to its own source
    for version in chain:
        for prop in (DCTERMS.issued, DCTERMS.dateAccepted, DCTERMS.created):
            for value in hamm.objects(h(f"konzept/{version}"), prop):
                statements = [s for s in hamm.subjects(RDF.subject, h(f"konzept/{version}"))
                              if (s, RDF.predicate, prop) in hamm and (s, RDF.object, value) in hamm]
                assert statements and all((s, DCTERMS.source, None) in hamm for s in statements), (version, prop)


def test_downloads_of_seed_000(hamm: Graph):
    sizes = {str(one(hamm, d, DCTERMS.title)): str(one(hamm, d, URIRef("http://schema.org/contentSize")))
             for d in hamm.subjects(RDF.type, KIK.Document)}
    assert sizes == {
        "Beschlussvorlage Sprachförderung 2003": "233 KB",
        "Integrationskonzept 2016": "986 KB",
        "Integrationskonzept 2018 ff.": "3.11 MB",
        "Maßnahmen und Projekte nach Altersbereichen sortiert": "1.51 MB",
        "Zahlen, Daten, Fakten zur Zuwanderung": "760 KB",
    }


def test_the_four_figures_of_page_5(hamm: Graph):
    expected = {"einwohner": 180000, "gefluechtete": 2200, "auslaender": 27000, "migrationshintergrund": 60000}
    for indicator, value in expected.items():
        observation = h(f"kennzahl/{indicator}-2018")
        assert (observation, RDF.type, QB.Observation) in hamm
        assert one(hamm, observation, KIK.indicator) == h(f"indikator/{indicator}")
        assert one(hamm, observation, SDMX_MEASURE.obsValue).toPython() == value
        assert one(hamm, observation, SDMX_DIMENSION.refPeriod) == Literal("2018", datatype=XSD.gYear)
        assert one(hamm, observation, SDMX_DIMENSION.refArea) == WD.Q2880
        assert one(hamm, observation, KIK.approximate).toPython() is True
        assert one(hamm, observation, KIK.sourcePage) == Literal("5")
        assert (observation, DCTERMS.source,
                URIRef("https://hamm.de/migration/kommunales-integrationskonzept")) in hamm


def test_every_observation_is_complete_and_dated(hamm: Graph):
    observations = set(hamm.subjects(RDF.type, QB.Observation))
    assert len(observations) >= 4
    dated = {XSD.gYear, XSD.gYearMonth, XSD.date}
    for o in observations:
        assert one(hamm, o, QB.dataSet) == h("kennzahlen")
        assert (one(hamm, o, KIK.indicator), RDF.type, KIK.Indicator) in hamm
        assert one(hamm, o, SDMX_DIMENSION.refPeriod).datatype in dated, o
        assert one(hamm, o, KIK.approximate).datatype == XSD.boolean
        unit = one(hamm, o, SDMX_ATTRIBUTE.unitMeasure)
        value = one(hamm, o, SDMX_MEASURE.obsValue).toPython()
        if unit == URIRef("http://qudt.org/vocab/unit/FRACTION"):
            assert Decimal(0) <= Decimal(str(value)) <= Decimal(1), f"{o}: shares are decimals"
        assert any(str(s).startswith("http") for s in hamm.objects(o, DCTERMS.source)), o


def test_stadt_hamm_identifiers(hamm: Graph):
    stadt = h("stadt")
    assert (stadt, RDF.type, KIK.Municipality) in hamm
    assert (stadt, OWL.sameAs, WD.Q2880) in hamm
    assert one(hamm, stadt, KIK.municipalityKey) == Literal("05915000")
    assert (CONCEPT, KIK.municipality, stadt) in hamm


def test_no_person_names_anywhere():
    patterns = [re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])") for name in PERSON_NAMES]
    files = [p for p in FOLDER.iterdir() if p.is_file()]
    assert files
    found = [(p.name, pattern.pattern) for p in files for pattern in patterns
             if pattern.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_activities_and_their_concept_relation(graph: Graph):
    activities = set(graph.subjects(RDF.type, KIK.IntegrationActivity))
    assert len(activities) == 41
    relations: dict[URIRef, list] = {}
    for a in activities:
        assert str(a).startswith(BASE + "aktivitaet/")
        relation = one(graph, a, KIK.conceptRelation)
        relations.setdefault(relation, []).append(a)
        assert (a, DCTERMS.title, None) in graph and (a, DCTERMS.description, None) in graph, a
        assert (a, DCTERMS.source, None) in graph, a
        related = list(graph.objects(a, KIK.relatedConcept))
        if relation == CONCEPT_RELATION["verknuepft"]:
            assert related == [h("konzept/2016")], a
        else:
            assert related == [], a
    counts = {r.split("/")[-1]: len(items) for r, items in relations.items()}
    assert counts == {"vorlaeufer": 8, "verknuepft": 4, "nur-aktivitaet": 29}
    if VOCABULARIES.exists():
        for relation in relations:
            assert (relation, RDF.type, KIK.ConceptRelation) in graph, relation


def test_actors_roles_and_age_ranges_resolve(graph: Graph):
    for attribution in graph.objects(None, PROV.qualifiedAttribution):
        agent = one(graph, attribution, PROV.agent)
        assert set(graph.objects(agent, RDF.type)) & ACTOR_TYPES, agent
        assert one(graph, attribution, PROV.hadRole) in ROLES
    for activity, agent in graph.subject_objects(PROV.wasAssociatedWith):
        assert any(one(graph, q, PROV.agent) == agent
                   for q in graph.objects(activity, PROV.qualifiedAttribution)), (activity, agent)
    for activity, age in graph.subject_objects(KIK.ageRange):
        assert (age, RDF.type, KIK.AgeRange) in graph
        assert one(graph, age, KIK.minAge).toPython() <= one(graph, age, KIK.maxAge).toPython()


def test_start_years_only_where_stated(hamm: Graph):
    starts = {}
    for activity in hamm.subjects(RDF.type, KIK.IntegrationActivity):
        for period in hamm.objects(activity, DCTERMS.temporal):
            starts[str(activity).rsplit("/", 1)[-1]] = str(one(hamm, period, DCAT_START))
    assert starts == {
        "leitprojekt-sprach-und-integrationsfoerderung": "2001",
        "buergeramt-fuer-migration-und-integration": "2006",
        "komm-an-nrw-in-hamm": "2016",
        "kommunales-integrationsmanagement": "2020",
        "fluechtlings-und-integrationsreport": "2016-03",
        "bildungskoordination-neuzugewanderte": "2016-10",
    }
