"""Deterministic generator of fictional municipalities for benchmarks, demos and scale tests.

Each generated folder (``gen-0001`` …) has the format of ``docs/model.md`` (``datensatz.toml``,
Turtle for the stable structure, ``massnahmen.csv``) and the shape of Musterstadt: a concept with
predecessors, 6 goals, 18 action fields, the 3×6 challenge grid, actors of every kind, target groups,
age ranges, funding sources, steering logics, documents, a Data Cube of figures and 48 measures.
Everything lives under ``https://w3id.org/kik/fiktiv/gen-NNNN/`` and says it is fictional.

Determinism: municipality ``i`` depends only on ``(seed, i)``, so the same ``seed`` gives
byte-identical files whatever ``n`` is. Turtle is written by pyoxigraph (fast enough for hundreds of
municipalities per second), the table by :mod:`csv`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from kg.namespace import FICTIONAL_BASE, PREFIXES

# --- vocabulary -------------------------------------------------------------------------------

_KIK = PREFIXES["kik"]
_RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _iri(prefix: str, local: str) -> NamedNode:
    return NamedNode(PREFIXES[prefix] + local)


def _kik(local: str) -> NamedNode:
    return NamedNode(_KIK + local)


RDFS_LABEL = _iri("rdfs", "label")
PREF_LABEL = _iri("skos", "prefLabel")
NOTATION = _iri("skos", "notation")
IN_SCHEME = _iri("skos", "inScheme")
TOP_CONCEPT_OF = _iri("skos", "topConceptOf")
CONCEPT_SCHEME = _iri("skos", "ConceptScheme")
DCT_TITLE = _iri("dct", "title")
DCT_SOURCE = _iri("dct", "source")
DCT_ISSUED = _iri("dct", "issued")
DCT_IS_PART_OF = _iri("dct", "isPartOf")
DCT_FORMAT = _iri("dct", "format")
DCT_SPATIAL = _iri("dct", "spatial")
REVISION_OF = _iri("prov", "wasRevisionOf")
UNIT_OF = _iri("org", "unitOf")
SUB_ORG_OF = _iri("org", "subOrganizationOf")
CONTENT_SIZE = _iri("schema", "contentSize")
QB_OBSERVATION = _iri("qb", "Observation")
QB_DATASET_CLASS = _iri("qb", "DataSet")
QB_DSD = _iri("qb", "DataStructureDefinition")
QB_STRUCTURE = _iri("qb", "structure")
QB_COMPONENT = _iri("qb", "component")
QB_DIMENSION = _iri("qb", "dimension")
QB_MEASURE = _iri("qb", "measure")
QB_ATTRIBUTE = _iri("qb", "attribute")
QB_ORDER = _iri("qb", "order")
QB_DATASET = _iri("qb", "dataSet")
REF_PERIOD = _iri("sdmx-dimension", "refPeriod")
REF_AREA = _iri("sdmx-dimension", "refArea")
OBS_VALUE = _iri("sdmx-measure", "obsValue")
FICTIONAL = _kik("fictional")

XSD_DATE = _iri("xsd", "date")
XSD_BOOLEAN = _iri("xsd", "boolean")
XSD_INTEGER = _iri("xsd", "integer")
TRUE = Literal("true", datatype=XSD_BOOLEAN)
FALSE = Literal("false", datatype=XSD_BOOLEAN)

MEASURE_COUNT = 48
GRID_ROWS, GRID_COLUMNS = 3, 6
ROLES = ("traeger", "partner", "foerderer", "kontakt")
CSV_HEADER: tuple[str, ...] = (
    ("id", "titel", "titel_en", "beschreibung")
    + tuple(f"H{i}" for i in range(1, GRID_ROWS * GRID_COLUMNS + 1))
    + ("handlungsfelder", "akteure", "zielgruppen", "altersbereich", "finanzierung",
       "steuerungslogik", "beginn", "ende", "quelle", "seite")
)

# --- content pools (German, English); all combinations are fictional ----------------------------

# The 18 challenge names of seed 002; a fictional city may use the same grid.
CHALLENGES: tuple[tuple[str, str], ...] = (
    ("Sprachliche Verständigung", "Linguistic communication"),
    ("Bildungsintegration", "Educational integration"),
    ("Arbeitsintegration", "Labour market integration"),
    ("Praktische Unterstützung und Orientierung", "Practical support and orientation"),
    ("Soziale Eingebundenheit und Partizipation", "Social inclusion and participation"),
    ("Nutzung regionaler Strukturen und Netzwerke", "Use of regional structures and networks"),
    ("Selbstbestimmung, Eigenverantwortung und Selbstständigkeit",
     "Self-determination, personal responsibility and independence"),
    ("Kulturelles Engagement", "Cultural engagement"),
    ("Wissen", "Knowledge"),
    ("Handlungskompetenz (Zuwanderer & Fachkräfte)", "Capacity to act (immigrants & professionals)"),
    ("Stereotype / Ressentiments", "Stereotypes / resentment"),
    ("Werte und Einstellungen", "Values and attitudes"),
    ("Zugänge und Veränderungsmotivation", "Access and motivation to change"),
    ("Schutz und Gesundheit", "Protection and health"),
    ("Sicherheit und Ordnung", "Safety and order"),
    ("Evaluation und Weiterentwicklung", "Evaluation and further development"),
    ("Transparenz und Kooperation", "Transparency and cooperation"),
    ("Interkulturelle Systementwicklung", "Intercultural system development"),
)

GOALS: tuple[tuple[str, str], ...] = (
    ("Teilhabe in allen Lebensbereichen stärken", "Strengthen participation in all areas of life"),
    ("Sprache und Bildung von Anfang an fördern", "Promote language and education from the start"),
    ("Zugang zu Ausbildung und Arbeit verbessern", "Improve access to training and work"),
    ("Zusammenleben in den Quartieren gestalten", "Shape living together in the neighbourhoods"),
    ("Interkulturelle Öffnung der Verwaltung voranbringen",
     "Advance the intercultural opening of the administration"),
    ("Integrationsmanagement steuern und weiterentwickeln",
     "Steer and develop integration management"),
    ("Selbstständigkeit der Zugewanderten fördern", "Foster the independence of immigrants"),
    ("Unterstützungsstrukturen verbessern", "Improve support structures"),
    ("Vielfalt als Stärke der Stadt sichtbar machen", "Make diversity visible as a strength"),
    ("Diskriminierung abbauen", "Reduce discrimination"),
    ("Gesundheit und Wohlbefinden sichern", "Secure health and well-being"),
    ("Bürgerschaftliches Engagement stärken", "Strengthen civic engagement"),
)

ACTION_FIELDS: tuple[tuple[str, str], ...] = (
    ("Frühkindliche Bildung", "Early childhood education"),
    ("Schule und Übergänge", "School and transitions"),
    ("Sprachkurse für Erwachsene", "Language courses for adults"),
    ("Ausbildung und Beruf", "Vocational training and work"),
    ("Anerkennung von Abschlüssen", "Recognition of qualifications"),
    ("Gesundheit", "Health"),
    ("Pflege und Alter", "Care and old age"),
    ("Wohnen", "Housing"),
    ("Sport", "Sport"),
    ("Kultur", "Culture"),
    ("Religion und Dialog", "Religion and dialogue"),
    ("Ehrenamt", "Volunteering"),
    ("Politische Partizipation", "Political participation"),
    ("Erstorientierung", "Initial orientation"),
    ("Frauen und Familien", "Women and families"),
    ("Kinder- und Jugendhilfe", "Child and youth welfare"),
    ("Antidiskriminierung", "Anti-discrimination"),
    ("Demokratieförderung", "Promotion of democracy"),
    ("Interkulturelle Öffnung", "Intercultural opening"),
    ("Qualifizierung von Fachkräften", "Training of professionals"),
    ("Netzwerke und Kooperation", "Networks and cooperation"),
    ("Monitoring", "Monitoring"),
    ("Sprachmittlung", "Language mediation"),
    ("Quartiersentwicklung", "Neighbourhood development"),
    ("Sicherheit im Alltag", "Everyday safety"),
    ("Medien und Information", "Media and information"),
    ("Migrantenselbstorganisationen", "Migrant organisations"),
    ("Übergang in Arbeit", "Transition to work"),
)

# (slug, class, German name, English name); the municipality name is appended.
ACTORS: tuple[tuple[str, str, str, str], ...] = (
    ("integrationszentrum", "AdministrativeUnit", "Kommunales Integrationszentrum", "Municipal Integration Centre"),
    ("jugendamt", "AdministrativeUnit", "Jugendamt", "Youth Welfare Office"),
    ("schulamt", "AdministrativeUnit", "Schulverwaltungsamt", "School Administration Office"),
    ("gesundheitsamt", "AdministrativeUnit", "Gesundheitsamt", "Public Health Office"),
    ("sozialamt", "AdministrativeUnit", "Sozialamt", "Social Welfare Office"),
    ("volkshochschule", "AdministrativeUnit", "Volkshochschule", "Adult Education Centre"),
    ("integrationsrat", "CouncilBody", "Integrationsrat", "Integration Council"),
    ("sozialausschuss", "CouncilBody", "Ausschuss für Soziales", "Social Affairs Committee"),
    ("jobcenter", "PublicAuthority", "Jobcenter", "Job Centre"),
    ("landesministerium", "PublicAuthority", "Landesministerium für Integration", "State Ministry for Integration"),
    ("wohlfahrtsverband", "CivilSocietyOrganisation", "Wohlfahrtsverband", "Welfare Association"),
    ("sportbund", "CivilSocietyOrganisation", "Stadtsportbund", "City Sports Federation"),
    ("migrantenverbund", "CivilSocietyOrganisation", "Verbund der Migrantenorganisationen", "Alliance of Migrant Organisations"),
    ("buergerstiftung", "CivilSocietyOrganisation", "Bürgerstiftung", "Community Foundation"),
    ("nachbarschaftsverein", "CivilSocietyOrganisation", "Nachbarschaftsverein", "Neighbourhood Association"),
    ("landesprogramm", "Programme", "Landesprogramm Vielfalt", "State Programme Diversity"),
)

TARGET_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("neuzugewanderte", "Neuzugewanderte", "Newcomers"),
    ("gefluechtete", "Geflüchtete", "Refugees"),
    ("eu-zugewanderte", "Zugewanderte aus EU-Staaten", "Immigrants from EU states"),
    ("kinder", "Kinder", "Children"),
    ("jugendliche", "Jugendliche", "Young people"),
    ("eltern", "Eltern", "Parents"),
    ("frauen", "Frauen", "Women"),
    ("senioren", "Seniorinnen und Senioren", "Older people"),
    ("fachkraefte", "Fachkräfte", "Professionals"),
    ("ehrenamtliche", "Ehrenamtliche", "Volunteers"),
    ("stadtgesellschaft", "Stadtgesellschaft", "Urban community"),
)

# (id, minAge, maxAge or None)
AGE_RANGES: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5), ("6-10", 6, 10), ("11-17", 11, 17), ("18-26", 18, 26),
    ("27-64", 27, 64), ("65-plus", 65, None), ("alle", 0, None),
)

FUNDING: tuple[tuple[str, str, str], ...] = (
    ("kommunal", "kommunaler Haushalt", "municipal budget"),
    ("land", "Landesmittel", "state funds"),
    ("bund", "Bundesmittel", "federal funds"),
    ("eu", "EU-Fördermittel", "EU funding"),
    ("stiftung", "Stiftungsmittel", "foundation funds"),
    ("spenden", "Spenden und Eigenmittel", "donations and own funds"),
)

STEERING: tuple[tuple[str, str, str], ...] = (
    ("kommunal", "kommunale Regelsteuerung", "regular municipal steering"),
    ("netzwerk", "Netzwerksteuerung", "network governance"),
    ("projekt", "befristete Projektförderung", "fixed-term project funding"),
    ("auftrag", "Leistungsvereinbarung mit freien Trägern", "service agreement with independent providers"),
    ("ehrenamt", "bürgerschaftliche Selbstorganisation", "civic self-organisation"),
)

INDICATORS: tuple[tuple[str, str, str, float, bool], ...] = (
    # slug, German, English, share of the population, approximate
    ("einwohner", "Einwohnerinnen und Einwohner", "Inhabitants", 1.0, False),
    ("auslaender", "Ausländerinnen und Ausländer", "Foreign nationals", 0.14, True),
    ("gefluechtete", "Geflüchtete", "Refugees", 0.02, False),
    ("migrationshintergrund", "Menschen mit Migrationshintergrund", "People with a migration background", 0.3, True),
)

MEASURE_FORMATS: tuple[tuple[str, str], ...] = (
    ("Sprachcafé", "Language café"), ("Beratungsstelle", "Advice centre"),
    ("Workshopreihe", "Workshop series"), ("Patenschaftsprogramm", "Mentorship programme"),
    ("Lernwerkstatt", "Learning workshop"), ("Begegnungsfest", "Community festival"),
    ("Qualifizierungskurs", "Training course"), ("Netzwerktreffen", "Network meeting"),
    ("Informationsreihe", "Information series"), ("Lotsenprojekt", "Guide project"),
    ("Fachtag", "Conference"), ("Elternkurs", "Parents' course"),
)
MEASURE_TOPICS: tuple[tuple[str, str], ...] = (
    ("Ausbildung und Beruf", "training and work"), ("Gesundheit", "health"),
    ("Wohnen", "housing"), ("Schule", "school"), ("Demokratie", "democracy"),
    ("Sport und Bewegung", "sport and exercise"), ("Kultur", "culture"),
    ("Alltagsdeutsch", "everyday German"), ("Kinderschutz", "child protection"),
    ("Ehrenamt", "volunteering"), ("Vielfalt in der Verwaltung", "diversity in administration"),
    ("digitale Teilhabe", "digital participation"),
)
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("Nordstadt", "north district"), ("Südstadt", "south district"), ("Weststadt", "west district"),
    ("Oststadt", "east district"), ("Innenstadt", "city centre"), ("gesamtstädtisch", "city-wide"),
)


# --- one municipality -------------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratedMunicipality:
    """What is written to one folder: its id, base, concept IRI, triples and table rows."""

    slug: str
    base: str
    name: str
    concept: str
    triples: list[Triple]
    rows: list[list[str]]


class _Builder:
    """Collects triples for one municipality; every resource gets the fictional flag and source."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.source = NamedNode(base + "quelle/erfunden")
        self.triples: list[Triple] = []

    def node(self, path: str) -> NamedNode:
        return NamedNode(self.base + path)

    def add(self, s, p, o) -> None:
        self.triples.append(Triple(s, p, o))

    def resource(self, path: str, cls: NamedNode, de: str, en: str, label=PREF_LABEL) -> NamedNode:
        """Declare a fictional resource with German and English labels marked as fictional."""
        node = self.node(path)
        self.add(node, _RDF_TYPE, cls)
        self.add(node, label, Literal(f"{de} (fiktiv)", language="de"))
        self.add(node, label, Literal(f"{en} (fictional)", language="en"))
        self.add(node, FICTIONAL, TRUE)
        self.add(node, DCT_SOURCE, self.source)
        return node


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)


def build_municipality(index: int, seed: int = 0) -> GeneratedMunicipality:
    """Generate municipality ``index`` (1-based) from ``(seed, index)`` alone."""
    rng = random.Random(f"kik-generate:{seed}:{index}")
    slug = f"gen-{index:04d}"
    base = f"{FICTIONAL_BASE}{slug}/"
    name = f"Generierte Stadt {index:04d}"
    b = _Builder(base)

    b.resource("quelle/erfunden", _kik("Source"), "Erfundene Beispieldaten", "Invented example data",
               label=DCT_TITLE)
    b.add(b.source, _kik("sourceKind"), Literal("fiktiv"))
    city = b.resource("stadt", _kik("Municipality"), name, f"Generated city {index:04d}", label=RDFS_LABEL)

    # concept versions: 2–3, newest last
    last_year = rng.randint(2018, 2024)
    years = sorted({last_year - rng.randint(3, 5), last_year} | (
        {last_year - rng.randint(6, 9)} if rng.random() < 0.5 else set()))
    concept = None
    for year in years:
        path = f"konzept/{year}"
        node = b.resource(path, _kik("IntegrationConcept"), f"Integrationskonzept {name} {year}",
                          f"Integration concept of generated city {index:04d} {year}", label=DCT_TITLE)
        b.add(node, DCT_ISSUED, Literal(f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                                        datatype=XSD_DATE))
        b.add(node, _kik("municipality"), city)
        if concept is not None:
            b.add(node, REVISION_OF, concept)
        doc = b.resource(f"dokument/integrationskonzept-{year}", _kik("Document"),
                         f"Integrationskonzept {year} (PDF)", f"Integration concept {year} (PDF)",
                         label=DCT_TITLE)
        b.add(doc, DCT_FORMAT, Literal("application/pdf"))
        b.add(doc, CONTENT_SIZE, Literal(f"{rng.randint(8, 60) / 10:.1f} MB"))
        b.add(doc, DCT_IS_PART_OF, node)
        concept = node
    assert concept is not None
    cpath = f"konzept/{last_year}"
    for prop, count in (("declaredGoalCount", 6), ("declaredActionFieldCount", 18),
                        ("declaredChallengeCount", 18), ("declaredMeasureCount", MEASURE_COUNT)):
        b.add(concept, _kik(prop), _integer(count))

    # goals
    goal_scheme = b.resource(f"{cpath}/ziele", CONCEPT_SCHEME, f"Ziele {name}", "Goals")
    b.add(goal_scheme, DCT_IS_PART_OF, concept)
    goals = []
    for n, (de, en) in enumerate(rng.sample(GOALS, 6), 1):
        goal = b.resource(f"{cpath}/ziel/{n}", _kik("StrategicGoal"), de, en)
        b.add(goal, NOTATION, Literal(str(n)))
        b.add(goal, IN_SCHEME, goal_scheme)
        b.add(goal, TOP_CONCEPT_OF, goal_scheme)
        b.add(goal, DCT_IS_PART_OF, concept)
        goals.append(goal)

    # action fields, each serving one or two goals; the first six cover every goal once
    field_scheme = b.resource(f"{cpath}/handlungsfelder", CONCEPT_SCHEME, f"Handlungsfelder {name}",
                              "Action fields")
    b.add(field_scheme, DCT_IS_PART_OF, concept)
    for n, (de, en) in enumerate(rng.sample(ACTION_FIELDS, 18), 1):
        field = b.resource(f"{cpath}/handlungsfeld/{n}", _kik("ActionField"), de, en)
        b.add(field, NOTATION, Literal(str(n)))
        b.add(field, IN_SCHEME, field_scheme)
        b.add(field, DCT_IS_PART_OF, concept)
        served = {n - 1} if n <= 6 else {rng.randrange(6)}
        if rng.random() < 0.3:
            served.add(rng.randrange(6))
        for g in sorted(served):
            b.add(field, _kik("servesGoal"), goals[g])

    # challenge grid
    grid = b.resource(f"{cpath}/herausforderungen", _kik("ChallengeGrid"), f"Herausforderungen {name}",
                      "Challenges")
    b.add(grid, _kik("gridRows"), _integer(GRID_ROWS))
    b.add(grid, _kik("gridColumns"), _integer(GRID_COLUMNS))
    b.add(grid, DCT_IS_PART_OF, concept)
    b.add(concept, _kik("challengeGrid"), grid)
    for n, (de, en) in enumerate(CHALLENGES, 1):
        ch = b.resource(f"{cpath}/herausforderung/{n}", _kik("Challenge"), de, en)
        b.add(ch, NOTATION, Literal(str(n)))
        b.add(ch, IN_SCHEME, grid)
        b.add(ch, _kik("gridIndex"), _integer(n))
        b.add(ch, _kik("gridRow"), _integer((n - 1) // GRID_COLUMNS + 1))
        b.add(ch, _kik("gridColumn"), _integer((n - 1) % GRID_COLUMNS + 1))
        b.add(ch, DCT_IS_PART_OF, concept)

    # actors: the integration centre always, then a random selection of the rest
    chosen = [ACTORS[0]] + sorted(rng.sample(ACTORS[1:], rng.randint(8, len(ACTORS) - 1)))
    actor_slugs = []
    for a_slug, cls, de, en in chosen:
        actor = b.resource(f"akteur/{a_slug}", _kik(cls), f"{de} {name}", f"{en}, generated city {index:04d}")
        if cls == "AdministrativeUnit":
            b.add(actor, UNIT_OF, city)
        elif cls == "CouncilBody":
            b.add(actor, SUB_ORG_OF, city)
        actor_slugs.append(a_slug)

    # target groups, age ranges, funding sources, steering logics
    for tg, de, en in TARGET_GROUPS:
        b.resource(f"zielgruppe/{tg}", _kik("TargetGroup"), de, en)
    for ar, lo, hi in AGE_RANGES:
        de = f"{lo} bis {hi} Jahre" if hi is not None else ("alle Altersgruppen" if ar == "alle" else f"ab {lo} Jahren")
        en = f"{lo} to {hi} years" if hi is not None else ("all ages" if ar == "alle" else f"{lo} years and older")
        node = b.resource(f"altersbereich/{ar}", _kik("AgeRange"), de, en)
        b.add(node, _kik("minAge"), _integer(lo))
        if hi is not None:
            b.add(node, _kik("maxAge"), _integer(hi))
    for fid, de, en in FUNDING:
        b.resource(f"finanzierung/{fid}", _kik("FundingSource"), de, en)
    for sid, de, en in STEERING:
        b.resource(f"steuerung/{sid}", _kik("SteeringLogic"), de, en)

    _add_figures(b, rng, city, name, index, last_year)
    rows = _measure_rows(rng, b.source, actor_slugs, last_year)
    return GeneratedMunicipality(slug, base, name, str(concept.value), b.triples, rows)


def _add_figures(b: _Builder, rng: random.Random, city: NamedNode, name: str, index: int,
                 last_year: int) -> None:
    """A Data Cube of invented figures for five years, shaped like the Hamm figures."""
    dsd = b.resource("kennzahlen/struktur", QB_DSD, f"Struktur der Kennzahlen {name}",
                     "Structure of the key figures", label=RDFS_LABEL)
    components = ((QB_DIMENSION, _kik("indicator"), 1), (QB_DIMENSION, REF_PERIOD, 2),
                  (QB_DIMENSION, REF_AREA, 3), (QB_MEASURE, OBS_VALUE, None),
                  (QB_ATTRIBUTE, _kik("approximate"), None))
    for k, (kind, prop, order) in enumerate(components, 1):
        comp = BlankNode(f"component{k}")
        b.add(dsd, QB_COMPONENT, comp)
        b.add(comp, kind, prop)
        if order is not None:
            b.add(comp, QB_ORDER, _integer(order))
    dataset = b.resource("kennzahlen", QB_DATASET_CLASS, f"Kennzahlen {name}",
                         f"Key figures of generated city {index:04d}", label=RDFS_LABEL)
    b.add(dataset, QB_STRUCTURE, dsd)
    b.add(dataset, DCT_SPATIAL, city)
    population = rng.randint(20_000, 600_000)
    for slug, de, en, share, approximate in INDICATORS:
        indicator = b.resource(f"indikator/{slug}", _kik("Indicator"), de, en)
        value = population * share * rng.uniform(0.8, 1.2)
        for year in range(last_year - 4, last_year + 1):
            value *= rng.uniform(0.97, 1.06)
            shown = round(value, -2) if approximate else round(value)
            obs = b.resource(f"kennzahl/{slug}-{year}", QB_OBSERVATION,
                             f"{de} am 31.12.{year}", f"{en} on 31 Dec {year}", label=RDFS_LABEL)
            b.add(obs, QB_DATASET, dataset)
            b.add(obs, _kik("indicator"), indicator)
            b.add(obs, REF_PERIOD, Literal(f"{year}-12-31", datatype=XSD_DATE))
            b.add(obs, REF_AREA, city)
            b.add(obs, OBS_VALUE, _integer(int(shown)))
            b.add(obs, _kik("approximate"), TRUE if approximate else FALSE)


def _measure_rows(rng: random.Random, source: NamedNode, actor_slugs: list[str],
                  last_year: int) -> list[list[str]]:
    """48 measures with seeded profiles; about one in 25 has an unknown (empty) profile."""
    cells = GRID_ROWS * GRID_COLUMNS
    rows = []
    for k in range(1, MEASURE_COUNT + 1):
        (fmt_de, fmt_en), (top_de, top_en), (dis_de, dis_en) = (
            rng.choice(MEASURE_FORMATS), rng.choice(MEASURE_TOPICS), rng.choice(DISTRICTS))
        profile = set() if rng.random() < 0.04 else set(rng.sample(range(1, cells + 1), rng.randint(1, 8)))
        fields = sorted(rng.sample(range(1, 19), rng.randint(1, 3)))
        actors = rng.sample(actor_slugs, rng.randint(1, 3))
        roles = ["traeger"] + [rng.choice(ROLES[1:]) for _ in actors[1:]]
        begin = rng.randint(last_year - 2, last_year + 2)
        begin_text = str(begin) if rng.random() < 0.7 else f"{begin}-{rng.randint(1, 12):02d}-01"
        end_text = str(begin + rng.randint(0, 5)) if rng.random() < 0.5 else ""
        rows.append(
            [f"m{k:02d}",
             f"{fmt_de} {top_de} – {dis_de} (fiktiv)",
             f"{fmt_en}: {top_en} – {dis_en} (fictional)",
             f"Erfundene Maßnahme Nr. {k} zum Thema {top_de} ({dis_de}).",
             *("x" if i in profile else "" for i in range(1, cells + 1)),
             ";".join(map(str, fields)),
             ";".join(f"{a}:{r}" for a, r in zip(actors, roles)),
             ";".join(t[0] for t in rng.sample(TARGET_GROUPS, rng.randint(1, 2))),
             ";".join(a[0] for a in rng.sample(AGE_RANGES, rng.randint(1, 2))),
             ";".join(f[0] for f in rng.sample(FUNDING, rng.randint(1, 2))),
             rng.choice(STEERING)[0],
             begin_text, end_text, str(source.value), str(10 + 2 * k)])
    return rows


# --- writing ----------------------------------------------------------------------------------

def _toml_string(value: str) -> str:
    """A TOML basic string: JSON string escapes are a subset TOML accepts."""
    return json.dumps(value, ensure_ascii=False)


def _datensatz_toml(m: GeneratedMunicipality) -> str:
    lines = [
        f"# {m.name}: generated by kg.generate; every fact in this folder is fictional.",
        f"id = {_toml_string(m.slug)}",
        f"base = {_toml_string(m.base)}",
        f"concept = {_toml_string(m.concept)}",
        "fictional = true",
        f"title_de = {_toml_string(f'{m.name} (fiktiv): Integrationskonzept als Wissensgraph')}",
        f"title_en = {_toml_string(f'Generated city {m.slug[4:]} (fictional): integration concept as a knowledge graph')}",
    ]
    return "\n".join(lines) + "\n"


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


_TURTLE_PREFIXES = {p: PREFIXES[p] for p in (
    "kik", "qb", "sdmx-dimension", "sdmx-measure", "schema", "skos", "org", "prov", "dct", "rdfs", "xsd")}


def write_municipality(m: GeneratedMunicipality, folder: Path) -> None:
    """Write one municipality folder: datensatz.toml, struktur.ttl, massnahmen.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datensatz.toml").write_text(_datensatz_toml(m), encoding="utf-8")
    header = f"# {m.name}: generated by kg.generate; every resource here is fictional.\n".encode()
    turtle = serialize(m.triples, format=RdfFormat.TURTLE, prefixes=_TURTLE_PREFIXES)
    (folder / "struktur.ttl").write_bytes(header + turtle)
    (folder / "massnahmen.csv").write_text(_csv_text(m.rows), encoding="utf-8", newline="")


def generate_municipalities(n: int, out_dir: Path, seed: int = 0, progress=None) -> list[Path]:
    """Write ``n`` fictional municipality folders ``gen-0001`` … into ``out_dir``; return them.

    ``progress``, if given, is called with ``(done, n)`` after each folder.
    """
    if n < 0:
        raise ValueError(f"number of municipalities must be 0 or more, got {n}")
    if n > 9999:
        raise ValueError(f"at most 9999 municipalities (ids gen-0001 … gen-9999), got {n}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir} exists and is not a directory; choose another output folder")
    folders = []
    for index in range(1, n + 1):
        m = build_municipality(index, seed)
        folder = out_dir / m.slug
        write_municipality(m, folder)
        folders.append(folder)
        if progress is not None:
            progress(index, n)
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kg.generate N OUT_DIR [--seed S]``."""
    parser = argparse.ArgumentParser(
        prog="kg generate", description="Write N fictional municipalities (gen-0001 …) to OUT_DIR.")
    parser.add_argument("n", type=int, metavar="N", help="number of municipalities (0–9999)")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder to write into")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if not 0 <= args.n <= 9999:
        parser.error(f"N must be between 0 and 9999, got {args.n}")

    step = max(1, args.n // 10)

    def report(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            print(f"{done}/{total} municipalities written", flush=True)

    try:
        folders = generate_municipalities(args.n, args.out_dir, args.seed, progress=report)
    except OSError as error:
        print(f"error: cannot write to {args.out_dir}: {error}", file=sys.stderr)
        return 2
    print(f"{len(folders)} fictional municipalities in {args.out_dir} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
