"""What the pages for people read from the store: a handful of SPARQL queries, shaped into records.

The store holds one immutable build, so each result is computed once per app and language
(``memo``); a page then costs at most a few queries even with many measures. The deployment-wide
data (municipalities, grids, counts, measure records) is language-independent and written by
``kg build`` (``kg.page_summaries``): read from there when the file belongs to the served build,
else asked of the store by the same functions (an external store, an older build).
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

from kg import page_summaries
from kg.page_summaries import Pair, as_int as _int, term_value as _v
from server.pages.labels import local_name, pick
from server.pages.profiles import Cell, Grid
from server.publishing.void import build_file
from server.store.interface import Store

PREFIXES = page_summaries.PREFIXES + """PREFIX qb: <http://purl.org/linked-data/cube#>
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
    found = page_summaries.label_literals(store.select, iris)
    return {i: pick_pair(found.get(i, []), lang) or local_name(i) for i in found}


def pick_pair(pairs: list[Pair], lang: str) -> str | None:
    """``labels.pick``'s choice among ``[value, language]`` pairs sorted by value (the build's page
    data): the one in ``lang``, else German, else one without language, else the first."""
    for wanted in (lang, "de", ""):
        for value, language in pairs:
            if language == wanted:
                return value
    return pairs[0][0] if pairs else None


def summary(store: Store, name: str) -> Any:
    """One section of the build's page data (``kg.page_summaries.SECTIONS``): from the build's
    pages.json when it belongs to the served build, else computed from the store the same way."""
    def compute() -> Any:
        data = memo(store, ("pages.json",), lambda: {k: v for k, v in (build_file(store) or {}).items() if k != "void"})
        found = data.get(name)
        return found if found is not None else page_summaries.SECTIONS[name](store.select)
    return memo(store, ("summary", name), compute)


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
    result = []
    for entry in summary(store, "municipalities"):
        versions = [Concept(iri=c["iri"], label=pick_pair(c["labels"], lang) or local_name(c["iri"]),
                            issued=c["issued"], accepted=c["accepted"], revision_of=list(c["revision_of"]))
                    for c in entry["concepts"]]
        older = {p for c in versions for p in c.revision_of}
        ordered = sorted(versions, key=lambda c: (c.issued or "", c.iri), reverse=True)
        heads = [c for c in ordered if c.iri not in older] or ordered
        result.append(Municipality(
            iri=entry["iri"], label=pick_pair(entry["labels"], lang) or local_name(entry["iri"]),
            fictional=entry["fictional"], graph=entry["graph"], concepts=ordered, current=heads[0],
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
    found = summary(store, "grids")
    names = found["labels"]
    by_iri, by_challenge = {}, {}
    for grid, entry in found["grids"].items():
        members = entry["cells"]
        n_rows = entry["rows"] or max(r for _, r, _ in members.values())
        n_cols = entry["columns"] or max(c for _, _, c in members.values())
        built = tuple(sorted(
            (Cell(iri=c, index=i, row=r, column=col, label=pick_pair(names.get(c, []), lang) or local_name(c))
             for c, (i, r, col) in members.items()),
            key=lambda cell: cell.index,
        ))
        by_iri[grid] = Grid(iri=grid, rows=n_rows, columns=n_cols, cells=built)
        by_challenge.update({c.iri: grid for c in built})
    return Grids(by_iri=by_iri, by_concept=dict(found["by_concept"]), by_challenge=by_challenge)


def challenge_counts(store: Store) -> dict[str, int]:
    """How many measures address each challenge (the heat map)."""
    return summary(store, "challenge_counts")


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

    The build's pages-measures.json (or the same statements read from the store) is shaped into
    records for both languages and not kept: at 400 municipalities the records are what the pages
    use, and the two languages share each record's facets and search text."""
    def compute() -> dict[str, Measures]:
        data = build_file(store, page_summaries.MEASURES_FILE)
        raw = data["measures"] if data else page_summaries.measures(store.select)
        with page_summaries.without_cyclic_gc():
            return _measures(raw)
    found = memo(store, ("measures",), compute)
    return found.get(lang) or found["de"]


def _measures(raw: dict) -> dict[str, Measures]:
    values: list[str] = raw["values"]
    sets: dict[tuple[int, ...], frozenset[str]] = {(): frozenset()}  # equal facet sets shared (memory)
    shared = []  # per record: what both languages' records share (facets, search text)
    for iri, titles, descriptions, fictional, positions in raw["records"]:
        facets = {}
        for name in page_summaries.MEASURE_FACETS:
            key = tuple(positions.get(name, ()))
            facets[name] = sets.get(key) or sets.setdefault(key, frozenset(values[i] for i in key))
        text = " ".join(value for value, _ in [*titles, *descriptions]).casefold()
        shared.append((iri, titles, descriptions, bool(fictional), text, facets))
    found = {}
    for lang in ("de", "en"):
        records = [MeasureRecord(iri=iri, title=pick_pair(titles, lang) or local_name(iri),
                                 description=pick_pair(descriptions, lang) or "", fictional=fictional, texts=text,
                                 facets=facets)
                   for iri, titles, descriptions, fictional, text, facets in shared]
        records.sort(key=lambda r: (r.title.casefold(), r.iri))
        labels = {v: pick_pair(pairs, lang) or local_name(v) for v, pairs in zip(values, raw["labels"])}
        found[lang] = Measures(records=records, labels=labels)
    return found


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
