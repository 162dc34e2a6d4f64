"""What the pages for people read from the store: a handful of SPARQL queries, shaped into records.

The store holds one immutable build, so each result is computed once per app and language
(``memo``); a page then costs at most a few queries even with many measures.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
from flask import current_app

from server.pages.labels import local_name, pick
from server.pages.profiles import Cell, Grid
from server.store.interface import Store

PREFIXES = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX schema: <http://schema.org/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
"""

T = TypeVar("T")


_LOCK = threading.Lock()


def memo(store: Store, key: tuple, compute: Callable[[], T]) -> T:
    """One result per store (= build) and key, kept for the app's life.

    Computed once even when several threads ask at the same time (the others wait for it): at
    400 municipalities the measure records take seconds, and the warm-up thread may be on it.
    Results of an older build are dropped when a newer one is computed.
    """
    cache = current_app.extensions.setdefault("kik.pages.cache", {})
    build = (id(store), store.build.get("build"))
    full_key = (*build, *key)
    if full_key in cache:
        return cache[full_key]
    with _LOCK:
        locks = current_app.extensions.setdefault("kik.pages.locks", {})
        lock = locks.setdefault(full_key, threading.Lock())
    with lock:
        if full_key not in cache:
            value = compute()
            if current_app.extensions.get("kik.store") is not store:
                return value  # a newer build is served by now: keep nothing of this one
            with _LOCK:
                for old in [k for k in cache if k[:2] != build]:
                    del cache[old]
                for old in [k for k in locks if k[:2] != build]:
                    del locks[old]  # an older build's locks go with its results
                cache[full_key] = value
    return cache[full_key]


def _v(row: dict, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def parse_day(text: str) -> date | None:
    """A reference period as a day: ``2019-12-31``, ``2019-12``, ``2019`` (start of the period)."""
    parts = text.strip()[:10].split("-")
    try:
        numbers = [int(p) for p in parts if p]
        return date(numbers[0], numbers[1] if len(numbers) > 1 else 1, numbers[2] if len(numbers) > 2 else 1)
    except (ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# labels


def labels_for(store: Store, iris: set[str], lang: str) -> dict[str, str]:
    """Labels for many IRIs in one query (chosen language, fallback), last path segment otherwise."""
    found = label_literals(store, iris)
    return {i: pick(found.get(i, []), lang) or local_name(i) for i in found}


def label_literals(store: Store, iris: set[str]) -> dict[str, list[ox.Literal]]:
    """Every label literal of the given IRIs (queries of 500 IRIs each), for picking a language later."""
    clean = sorted(i for i in iris if i and not any(ch in i for ch in '<>"{}|^`\\ \n'))
    found: dict[str, list[ox.Literal]] = {i: [] for i in clean}
    for start in range(0, len(clean), 500):
        values = " ".join(f"<{i}>" for i in clean[start:start + 500])
        # ``?p`` as a FILTER, not a second VALUES: Oxigraph then looks up each ?s instead of joining
        # every label in the store (4 s instead of 27 ms for 500 IRIs at 400 municipalities)
        rows = store.select(
            PREFIXES + f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }} "
            "?s ?p ?l FILTER(?p IN (skos:prefLabel, dct:title, rdfs:label)) }"
        )
        for row in rows:
            found[row["s"].value].append(row["l"])
    return found


# ---------------------------------------------------------------------------------------------
# municipalities and concept versions


@dataclass
class Concept:
    iri: str
    label: str
    issued: str | None = None
    accepted: str | None = None
    revision_of: list[str] = field(default_factory=list)


@dataclass
class Municipality:
    iri: str
    label: str
    fictional: bool
    graph: str | None
    concepts: list[Concept]
    current: Concept


def municipalities(store: Store, lang: str) -> list[Municipality]:
    """Every municipality with a concept: real ones first, then fictional; newest version first."""
    return memo(store, ("municipalities", lang), lambda: _municipalities(store, lang))


def _municipalities(store: Store, lang: str) -> list[Municipality]:
    # three small queries instead of one with a property path and four OPTIONALs: Virtuoso 7 drops
    # rows of that one (older concept versions), and each of these is a plain scan for every engine
    versions = store.select(PREFIXES + """
        SELECT DISTINCT ?m ?c WHERE {
          ?current a kik:IntegrationConcept ; kik:municipality ?m .
          ?current prov:wasRevisionOf* ?c .
        }""")
    details = store.select(PREFIXES + """
        SELECT ?c ?issued ?accepted ?prev WHERE {
          ?c a kik:IntegrationConcept .
          { ?c dct:issued ?issued } UNION { ?c dct:dateAccepted ?accepted } UNION { ?c prov:wasRevisionOf ?prev }
        }""")
    places = store.select(PREFIXES + """
        SELECT ?m ?fict ?g WHERE {
          ?m a kik:Municipality .
          { ?m kik:fictional ?fict } UNION { GRAPH ?g { ?m a kik:Municipality } }
        }""")
    concepts: dict[str, dict[str, Concept]] = defaultdict(dict)
    for row in versions:
        m, c = _v(row, "m"), _v(row, "c")
        concepts[m].setdefault(c, Concept(iri=c, label=""))
    by_iri = {c: concept for versions_of in concepts.values() for c, concept in versions_of.items()}
    for row in details:
        concept = by_iri.get(_v(row, "c"))
        if concept is None:
            continue
        concept.issued = concept.issued or _v(row, "issued")
        concept.accepted = concept.accepted or _v(row, "accepted")
        prev = _v(row, "prev")
        if prev and prev not in concept.revision_of:
            concept.revision_of.append(prev)
    info: dict[str, tuple[bool, str | None]] = {}
    for row in places:
        m = _v(row, "m")
        fictional, graph = info.get(m, (False, None))
        info[m] = (fictional or _v(row, "fict") == "true", graph or _v(row, "g"))
    for m in concepts:
        info.setdefault(m, (False, None))
    names = labels_for(store, set(concepts) | {c for cs in concepts.values() for c in cs}, lang)
    result = []
    for m, versions in concepts.items():
        for concept in versions.values():
            concept.label = names.get(concept.iri, local_name(concept.iri))
        older = {p for c in versions.values() for p in c.revision_of}
        ordered = sorted(versions.values(), key=lambda c: (c.issued or "", c.iri), reverse=True)
        heads = [c for c in ordered if c.iri not in older] or ordered
        result.append(Municipality(
            iri=m, label=names.get(m, local_name(m)), fictional=info[m][0], graph=info[m][1],
            concepts=ordered, current=heads[0],
        ))
    result.sort(key=lambda mu: (mu.fictional, mu.label.casefold()))
    return result


# ---------------------------------------------------------------------------------------------
# grids and profiles


@dataclass
class Grids:
    by_iri: dict[str, Grid]
    by_concept: dict[str, str]
    by_challenge: dict[str, str]


def grids(store: Store, lang: str) -> Grids:
    """Every challenge grid with its cells (positions from kik:gridRow/gridColumn/gridIndex)."""
    return memo(store, ("grids", lang), lambda: _grids(store, lang))


def _grids(store: Store, lang: str) -> Grids:
    rows = store.select(PREFIXES + """
        SELECT ?grid ?rows ?cols ?c ?idx ?row ?col ?l WHERE {
          ?grid a kik:ChallengeGrid .
          OPTIONAL { ?grid kik:gridRows ?rows } OPTIONAL { ?grid kik:gridColumns ?cols }
          ?c skos:inScheme ?grid ; kik:gridIndex ?idx ; kik:gridRow ?row ; kik:gridColumn ?col .
          OPTIONAL { ?c skos:prefLabel ?l }
        }""")
    shape: dict[str, tuple[int, int]] = {}
    cells: dict[str, dict[str, tuple[int, int, int]]] = defaultdict(dict)
    names: dict[str, list[ox.Literal]] = defaultdict(list)
    for row in rows:
        grid, challenge = _v(row, "grid"), _v(row, "c")
        cells[grid][challenge] = (_int(_v(row, "idx")), _int(_v(row, "row")), _int(_v(row, "col")))
        shape[grid] = (_int(_v(row, "rows")), _int(_v(row, "cols")))
        if "l" in row:
            names[challenge].append(row["l"])
    by_iri, by_challenge = {}, {}
    for grid, members in cells.items():
        n_rows = shape[grid][0] or max(r for _, r, _ in members.values())
        n_cols = shape[grid][1] or max(c for _, _, c in members.values())
        built = tuple(sorted(
            (Cell(iri=c, index=i, row=r, column=col, label=pick(names[c], lang) or local_name(c))
             for c, (i, r, col) in members.items()),
            key=lambda cell: cell.index,
        ))
        by_iri[grid] = Grid(iri=grid, rows=n_rows, columns=n_cols, cells=built)
        by_challenge.update({c.iri: grid for c in built})
    links = store.select(PREFIXES + "SELECT ?c ?g WHERE { ?c kik:challengeGrid ?g }")
    by_concept = {_v(r, "c"): _v(r, "g") for r in links}
    return Grids(by_iri=by_iri, by_concept=by_concept, by_challenge=by_challenge)


def challenge_counts(store: Store) -> dict[str, int]:
    """How many measures address each challenge (the heat map)."""
    def compute() -> dict[str, int]:
        rows = store.select(PREFIXES + """
            SELECT ?c (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a kik:Measure ; kik:addressesChallenge ?c }
            GROUP BY ?c""")
        return {_v(r, "c"): _int(_v(r, "n")) for r in rows}
    return memo(store, ("counts",), compute)


# ---------------------------------------------------------------------------------------------
# measures with every facet the list filters on


FACETS = {
    "challenges": "kik:addressesChallenge",
    "fields": "kik:inActionField",
    "actors": "prov:wasAssociatedWith",
    "target_groups": "kik:targetGroup",
    "age_ranges": "kik:ageRange",
    "funding": "kik:fundingSource",
    "concepts": "dct:isPartOf",
}


@dataclass
class MeasureRecord:
    iri: str
    title: str
    description: str
    fictional: bool
    texts: str  # every title and description, case-folded, for the text search
    facets: dict[str, frozenset[str]]

    @property
    def challenges(self) -> frozenset[str]:
        return self.facets["challenges"]

    @property
    def concept(self) -> str | None:
        return min(self.facets["concepts"], default=None)


@dataclass
class Measures:
    records: list[MeasureRecord]
    labels: dict[str, str]

    def by_iri(self) -> dict[str, MeasureRecord]:
        return {r.iri: r for r in self.records}


def measures(store: Store, lang: str) -> Measures:
    """All measures with their facets and the labels of every facet value, in ``lang``.

    The statements are read once for both languages and not kept (at 400 municipalities they are
    429 000 terms; the records are what the pages use)."""
    def compute() -> dict[str, Measures]:
        raw, literals = _measure_statements(store)
        return {language: _measures(raw, literals, language) for language in ("de", "en")}
    found = memo(store, ("measures",), compute)
    return found.get(lang) or found["de"]


_MEASURE_PREDICATES = {
    "https://w3id.org/kik/ontology#addressesChallenge": "challenges",
    "https://w3id.org/kik/ontology#inActionField": "fields",
    "http://www.w3.org/ns/prov#wasAssociatedWith": "actors",
    "https://w3id.org/kik/ontology#targetGroup": "target_groups",
    "https://w3id.org/kik/ontology#ageRange": "age_ranges",
    "https://w3id.org/kik/ontology#fundingSource": "funding",
    "http://purl.org/dc/terms/isPartOf": "concepts",
    "https://w3id.org/kik/ontology#servesGoal": "goals",
}


def _measure_statements(store: Store) -> tuple[dict[str, dict[str, list]], dict[str, list[ox.Literal]]]:
    """Every measure's titles, descriptions and facet values, and the label literals of those values:
    the language-independent part."""
    facet_values = ", ".join(FACETS.values())
    # each branch starts from ``?m a kik:Measure`` and filters ``?p`` (a VALUES ?p block would be
    # joined with every triple of those predicates)
    rows = store.select(PREFIXES + f"""
        SELECT ?m ?p ?o WHERE {{
          {{ ?m a kik:Measure ; ?p ?o .
             FILTER(?p IN (dct:title, rdfs:label, dct:description, kik:fictional, {facet_values})) }}
          UNION {{ ?m a kik:Measure ; kik:inActionField ?f . ?f kik:servesGoal ?o . BIND(kik:servesGoal AS ?p) }}
        }}""")
    raw: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    referenced: set[str] = set()
    for row in rows:
        predicate, value = row["p"].value, row["o"]
        raw[row["m"].value][predicate].append(value)
        if predicate in _MEASURE_PREDICATES and isinstance(value, ox.NamedNode):
            referenced.add(value.value)
    return raw, label_literals(store, referenced)


def _measures(raw: dict[str, dict[str, list]], literals: dict[str, list[ox.Literal]], lang: str) -> Measures:
    dct = "http://purl.org/dc/terms/"
    kik = "https://w3id.org/kik/ontology#"
    records = []
    for iri, props in raw.items():
        titles = props.get(dct + "title", []) or props.get("http://www.w3.org/2000/01/rdf-schema#label", [])
        descriptions = props.get(dct + "description", [])
        facets = {
            name: frozenset(o.value for o in props.get(predicate, []) if isinstance(o, ox.NamedNode))
            for predicate, name in _MEASURE_PREDICATES.items()
        }
        records.append(MeasureRecord(
            iri=iri,
            title=pick(titles, lang) or local_name(iri),
            description=pick(descriptions, lang) or "",
            fictional=any(o.value == "true" for o in props.get(kik + "fictional", [])),
            texts=" ".join(o.value for o in [*titles, *descriptions]).casefold(),
            facets=facets,
        ))
    records.sort(key=lambda r: (r.title.casefold(), r.iri))
    labels = {i: pick(found, lang) or local_name(i) for i, found in literals.items()}
    return Measures(records=records, labels=labels)


# ---------------------------------------------------------------------------------------------
# landing page parts


@dataclass
class Goal:
    iri: str
    notation: str
    label: str


def goals(store: Store, concept: str, lang: str) -> list[Goal]:
    """The strategic goals of one concept version, by number."""
    rows = store.select(PREFIXES + f"""
        SELECT ?g ?n ?l WHERE {{
          ?g a kik:StrategicGoal ; dct:isPartOf <{concept}> .
          OPTIONAL {{ ?g skos:notation ?n }} OPTIONAL {{ ?g skos:prefLabel ?l }}
        }}""")
    labels: dict[str, list] = defaultdict(list)
    notation: dict[str, str] = {}
    for row in rows:
        notation[_v(row, "g")] = _v(row, "n") or ""
        if "l" in row:
            labels[_v(row, "g")].append(row["l"])
    found = [Goal(iri=g, notation=n, label=pick(labels[g], lang) or local_name(g)) for g, n in notation.items()]
    return sorted(found, key=lambda goal: (_int(goal.notation, 10_000), goal.notation, goal.iri))


@dataclass
class Figure:
    iri: str
    indicator: str
    indicator_label: str
    period: str
    day: date | None
    value: float
    approximate: bool
    sources: list[tuple[str, str]]
    page: str | None


def figures(store: Store, municipality: Municipality, lang: str) -> list[Figure]:
    """Data Cube observations in the municipality's graph (or about it), oldest first."""
    scope = (f"GRAPH <{municipality.graph}> {{ ?o a qb:Observation }}" if municipality.graph
             else f"?o sdmx-dimension:refArea <{municipality.iri}>")
    rows = store.select(PREFIXES + f"""
        SELECT ?o ?ind ?date ?value ?approx ?src ?page WHERE {{
          {scope}
          ?o kik:indicator ?ind ; sdmx-dimension:refPeriod ?date ; sdmx-measure:obsValue ?value .
          OPTIONAL {{ ?o kik:approximate ?approx }} OPTIONAL {{ ?o dct:source ?src }}
          OPTIONAL {{ ?o kik:sourcePage ?page }}
        }}""")
    found: dict[str, Figure] = {}
    wanted: set[str] = set()
    for row in rows:
        iri = _v(row, "o")
        try:
            value = float(_v(row, "value"))
        except (TypeError, ValueError):
            continue
        figure = found.setdefault(iri, Figure(
            iri=iri, indicator=_v(row, "ind"), indicator_label="", period=_v(row, "date"),
            day=parse_day(_v(row, "date")), value=value, approximate=_v(row, "approx") == "true",
            sources=[], page=_v(row, "page"),
        ))
        source = _v(row, "src")
        if source and source not in [s for s, _ in figure.sources]:
            figure.sources.append((source, ""))
        wanted.update({figure.indicator, *(s for s, _ in figure.sources)})
    names = labels_for(store, wanted, lang)
    for figure in found.values():
        figure.indicator_label = names.get(figure.indicator, local_name(figure.indicator))
        figure.sources = [(s, names.get(s, s)) for s, _ in figure.sources]
    return sorted(found.values(), key=lambda f: (f.indicator_label.casefold(), f.day or date.min, f.iri))


@dataclass
class Document:
    iri: str
    label: str
    concept: str
    format: str | None
    size: str | None
    url: str | None


def documents(store: Store, concepts: list[str], lang: str) -> list[Document]:
    """Published files (PDFs) of the given concept versions."""
    if not concepts:
        return []
    values = " ".join(f"<{c}>" for c in concepts)
    rows = store.select(PREFIXES + f"""
        SELECT ?d ?c ?fmt ?size ?url WHERE {{
          VALUES ?c {{ {values} }}
          ?d a kik:Document . {{ ?d dct:isPartOf ?c }} UNION {{ ?c kik:documents ?d }}
          OPTIONAL {{ ?d dct:format ?fmt }} OPTIONAL {{ ?d schema:contentSize ?size }}
          OPTIONAL {{ ?d dcat:downloadURL|schema:url|dcat:accessURL|foaf:page ?url }}
        }}""")
    found: dict[str, Document] = {}
    for row in rows:
        d = _v(row, "d")
        kind = _v(row, "fmt")
        kind = kind.rstrip("/").rsplit("/", 1)[-1] if kind and "://" in kind else kind
        found.setdefault(d, Document(iri=d, label="", concept=_v(row, "c"), format=kind,
                                     size=_v(row, "size"), url=_v(row, "url")))
    names = labels_for(store, set(found), lang)
    for doc in found.values():
        doc.label = names[doc.iri]
    return sorted(found.values(), key=lambda d: (concepts.index(d.concept), d.label.casefold()))


def completeness(store: Store) -> dict[str, dict[str, Any]]:
    """The build's completeness report (dist/stats.json) by concept IRI; empty when absent."""
    def compute() -> dict[str, dict[str, Any]]:
        dist = getattr(store, "dist", None) or Path(current_app.config["KIK_DIST"])
        try:
            stats = json.loads((Path(dist) / "stats.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {item["concept"]: item for item in stats.get("completeness", []) if "concept" in item}
    return memo(store, ("completeness",), compute)
