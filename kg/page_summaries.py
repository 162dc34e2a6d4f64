"""The page data of a build, computed once by ``kg build`` instead of on a server's first request.

At 400 municipalities the pages' data takes seconds of SPARQL over the union (the measure records
alone read 429 000 statements; VoID counts the whole store). The build has just written the store,
so it asks these queries there once and writes the answers, language-independent, beside the dumps:

- ``pages.json``: municipalities with their concept versions, grids with cells, measures per
  challenge and per concept, VoID statistics;
- ``pages-measures.json``: every measure's titles, descriptions and facet values, and the label
  literals of every facet value (apart, so that the server can drop them once it has its records).

build.json lists both with their bytes and checksum; a server uses a file only when the manifest of
the build it serves lists it so (not a stale copy) and otherwise asks its store the same queries
through the same functions here (``Select``: a query → rows of terms).
Literals are ``[value, language]`` pairs (``""`` without a language); every list is sorted, so the
same store always gives the same bytes (tests/test_build_incremental.py).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from kg.namespace import DATASET_BASE, PREFIXES as NAMESPACES, WD

SUMMARY_FILE = "pages.json"
MEASURES_FILE = "pages-measures.json"
FORMAT = 1

Row = dict[str, Any]  # variable → pyoxigraph term
Select = Callable[[str], Iterable[Row]]  # a list (server stores) or rows as they come
Pair = list[str]  # [value, language]

PREFIXES = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def select_from(store: ox.Store) -> Select:
    """Queries over an Oxigraph store whose default graph is the union (the build's on-disk store).
    Rows are made as they are read (the measures' 429 000 at 400 municipalities are never all held)."""
    def select(query: str) -> Iterator[Row]:
        solutions = store.query(query)
        names = [variable.value for variable in solutions.variables]
        return ({name: solution[name] for name in names if solution[name] is not None} for solution in solutions)
    return select


def term_value(row: Row, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value


def as_int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def pair(term: Any) -> Pair:
    """A literal as ``[value, language]``."""
    return [term.value, getattr(term, "language", None) or ""]


def _sorted_pairs(pairs: list[Pair]) -> list[Pair]:
    return sorted({tuple(p): p for p in pairs}.values())


# ---------------------------------------------------------------------------------------------
# labels


def label_literals(select: Select, iris: set[str]) -> dict[str, list[Pair]]:
    """Every label of the given IRIs (queries of 500 IRIs each), for picking a language later."""
    clean = sorted(i for i in iris if i and not any(ch in i for ch in '<>"{}|^`\\ \n'))
    found: dict[str, list[Pair]] = {i: [] for i in clean}
    for start in range(0, len(clean), 500):
        values = " ".join(f"<{i}>" for i in clean[start:start + 500])
        # ``?p`` as a FILTER, not a second VALUES: Oxigraph then looks up each ?s instead of joining
        # every label in the store (4 s instead of 27 ms for 500 IRIs at 400 municipalities)
        rows = select(
            PREFIXES + f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }} "
            "?s ?p ?l FILTER(?p IN (skos:prefLabel, dct:title, rdfs:label)) }"
        )
        for row in rows:
            if isinstance(row["l"], ox.Literal):
                found[row["s"].value].append(pair(row["l"]))
    return {i: _sorted_pairs(p) for i, p in found.items()}


# ---------------------------------------------------------------------------------------------
# municipalities and concept versions


def municipalities(select: Select) -> list[dict]:
    """Every municipality with a concept: IRI, fictional, named graph, labels, and each concept
    version with its labels, issued/accepted dates and the versions it revises."""
    # three small queries instead of one with a property path and four OPTIONALs: Virtuoso 7 drops
    # rows of that one (older concept versions), and each of these is a plain scan for every engine
    versions = select(PREFIXES + """
        SELECT DISTINCT ?m ?c WHERE {
          ?current a kik:IntegrationConcept ; kik:municipality ?m .
          ?current prov:wasRevisionOf* ?c .
        }""")
    details = select(PREFIXES + """
        SELECT ?c ?issued ?accepted ?prev WHERE {
          ?c a kik:IntegrationConcept .
          { ?c dct:issued ?issued } UNION { ?c dct:dateAccepted ?accepted } UNION { ?c prov:wasRevisionOf ?prev }
        }""")
    places = select(PREFIXES + """
        SELECT ?m ?fict ?g WHERE {
          ?m a kik:Municipality .
          { ?m kik:fictional ?fict } UNION { GRAPH ?g { ?m a kik:Municipality } }
        }""")
    concepts: dict[str, set[str]] = defaultdict(set)
    for row in versions:
        concepts[term_value(row, "m")].add(term_value(row, "c"))
    facts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in details:
        for name in ("issued", "accepted", "prev"):
            if name in row:
                facts[term_value(row, "c")][name].add(term_value(row, name))
    fictional: set[str] = set()
    graphs: dict[str, set[str]] = defaultdict(set)
    for row in places:
        if term_value(row, "fict") == "true":
            fictional.add(term_value(row, "m"))
        if "g" in row:
            graphs[term_value(row, "m")].add(term_value(row, "g"))
    names = label_literals(select, set(concepts) | {c for cs in concepts.values() for c in cs})
    return [{
        "iri": m,
        "labels": names.get(m, []),
        "fictional": m in fictional,
        "graph": min(graphs[m], default=None),
        "concepts": [{
            "iri": c,
            "labels": names.get(c, []),
            "issued": min(facts[c]["issued"], default=None),
            "accepted": min(facts[c]["accepted"], default=None),
            "revision_of": sorted(facts[c]["prev"]),
        } for c in sorted(versions_of)],
    } for m, versions_of in sorted(concepts.items())]


# ---------------------------------------------------------------------------------------------
# grids, measures per challenge and per concept


def grids(select: Select) -> dict:
    """Every challenge grid (rows, columns, cells by challenge: index, row, column), the cells'
    labels, and which grid each concept uses."""
    rows = select(PREFIXES + """
        SELECT ?grid ?rows ?cols ?c ?idx ?row ?col ?l WHERE {
          ?grid a kik:ChallengeGrid .
          OPTIONAL { ?grid kik:gridRows ?rows } OPTIONAL { ?grid kik:gridColumns ?cols }
          ?c skos:inScheme ?grid ; kik:gridIndex ?idx ; kik:gridRow ?row ; kik:gridColumn ?col .
          OPTIONAL { ?c skos:prefLabel ?l }
        }""")
    found: dict[str, dict] = {}
    labels: dict[str, list[Pair]] = defaultdict(list)
    for row in rows:
        grid, challenge = term_value(row, "grid"), term_value(row, "c")
        entry = found.setdefault(grid, {"rows": 0, "columns": 0, "cells": {}})
        entry["rows"] = max(entry["rows"], as_int(term_value(row, "rows")))
        entry["columns"] = max(entry["columns"], as_int(term_value(row, "cols")))
        place = [as_int(term_value(row, "idx")), as_int(term_value(row, "row")), as_int(term_value(row, "col"))]
        entry["cells"][challenge] = min(entry["cells"].get(challenge, place), place)
        if "l" in row:
            labels[challenge].append(pair(row["l"]))
    links = select(PREFIXES + "SELECT ?c ?g WHERE { ?c kik:challengeGrid ?g }")
    by_concept: dict[str, str] = {}
    for row in links:
        concept, grid = term_value(row, "c"), term_value(row, "g")
        by_concept[concept] = min(by_concept.get(concept, grid), grid)
    return {"grids": found, "labels": {c: _sorted_pairs(p) for c, p in labels.items()}, "by_concept": by_concept}


def challenge_counts(select: Select) -> dict[str, int]:
    """How many measures address each challenge (the heat map)."""
    rows = select(PREFIXES + """
        SELECT ?c (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a kik:Measure ; kik:addressesChallenge ?c }
        GROUP BY ?c""")
    return {term_value(r, "c"): as_int(term_value(r, "n")) for r in rows}


def measures_per_concept(select: Select) -> dict[str, int]:
    """Recorded measures of each concept version."""
    rows = select(PREFIXES + """SELECT ?c (COUNT(DISTINCT ?m) AS ?n) WHERE {
        ?m a kik:Measure ; dct:isPartOf ?c } GROUP BY ?c""")
    return {term_value(r, "c"): as_int(term_value(r, "n")) for r in rows}


# ---------------------------------------------------------------------------------------------
# measures with every facet the list filters on


# facet name → predicate of the measure (``goals``: via its action fields, kik:servesGoal)
MEASURE_FACETS = {
    "challenges": "https://w3id.org/kik/ontology#addressesChallenge",
    "fields": "https://w3id.org/kik/ontology#inActionField",
    "actors": "http://www.w3.org/ns/prov#wasAssociatedWith",
    "target_groups": "https://w3id.org/kik/ontology#targetGroup",
    "age_ranges": "https://w3id.org/kik/ontology#ageRange",
    "funding": "https://w3id.org/kik/ontology#fundingSource",
    "concepts": "http://purl.org/dc/terms/isPartOf",
    "goals": "https://w3id.org/kik/ontology#servesGoal",
}
_DCT = "http://purl.org/dc/terms/"
_TITLE, _DESCRIPTION = _DCT + "title", _DCT + "description"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_FICTIONAL = "https://w3id.org/kik/ontology#fictional"


def measures(select: Select) -> dict:
    """Every measure, compactly: ``values`` (every facet value IRI, sorted), ``labels`` (their label
    literals, by position), ``records``: ``[iri, titles, descriptions, fictional, {facet: [value
    positions]}]`` sorted by IRI; titles are dct:title, else rdfs:label."""
    direct = ", ".join(f"<{p}>" for name, p in MEASURE_FACETS.items() if name != "goals")
    # each branch starts from ``?m a kik:Measure`` and filters ``?p`` (a VALUES ?p block would be
    # joined with every triple of those predicates)
    rows = select(PREFIXES + f"""
        SELECT ?m ?p ?o WHERE {{
          {{ ?m a kik:Measure ; ?p ?o .
             FILTER(?p IN (dct:title, rdfs:label, dct:description, kik:fictional, {direct})) }}
          UNION {{ ?m a kik:Measure ; kik:inActionField ?f . ?f kik:servesGoal ?o . BIND(kik:servesGoal AS ?p) }}
        }}""")
    facet_of = {p: name for name, p in MEASURE_FACETS.items()}
    raw: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        predicate, value = row["p"].value, row["o"]
        if predicate in facet_of:
            if isinstance(value, ox.NamedNode):
                raw[row["m"].value][facet_of[predicate]].add(value.value)
        elif predicate == _FICTIONAL:
            raw[row["m"].value]["fictional"].add(value.value)
        elif isinstance(value, ox.Literal):
            raw[row["m"].value][predicate].add(tuple(pair(value)))
    values = sorted({v for props in raw.values() for name in MEASURE_FACETS for v in props.get(name, ())})
    position = {v: i for i, v in enumerate(values)}
    literals = label_literals(select, set(values))
    records = []
    for iri in sorted(raw):
        props = raw[iri]
        titles = props.get(_TITLE) or props.get(_LABEL) or set()
        records.append([
            iri, [list(p) for p in sorted(titles)], [list(p) for p in sorted(props.get(_DESCRIPTION, ()))],
            "true" in props.get("fictional", ()),
            {name: sorted(position[v] for v in props[name]) for name in MEASURE_FACETS if props.get(name)},
        ])
    return {"values": values, "labels": [literals.get(v, []) for v in values], "records": records}


# ---------------------------------------------------------------------------------------------
# VoID statistics

# namespaces of vocabularies (terms), as opposed to datasets we link to (Wikidata entities)
VOCABULARIES = sorted({*NAMESPACES.values(), "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                       "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2006/vcard/ns#"} - {str(WD)},
                      key=len, reverse=True)

COUNTS = """
SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }
"""
ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), \"%s\")) }"
CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY ?class"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p"
OUTGOING = """
SELECT ?p ?o WHERE {
  ?s ?p ?o . FILTER(isIRI(?s) && isIRI(?o) && STRSTARTS(STR(?s), "%s") && !STRSTARTS(STR(?o), "%s"))
  FILTER(?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>)
}
"""


def vocabulary_of(iri: str) -> str | None:
    """The namespace of a known vocabulary that ``iri`` belongs to."""
    return next((namespace for namespace in VOCABULARIES if iri.startswith(namespace)), None)


def target_of(iri: str) -> str:
    """Which outside dataset a link goes to: Wikidata, or the site (scheme and host) of the IRI."""
    if iri.startswith(str(WD)):
        return str(WD)
    parts = urlsplit(iri)
    return f"{parts.scheme}://{parts.netloc}/"


def void_statistics(select: Select, base: str) -> dict:
    """Every number VoID publishes about the default graph (the union of the data)."""
    counts = next(iter(select(COUNTS)))
    links: Counter = Counter()
    for row in select(OUTGOING % (base, base)):
        target = row["o"].value
        if vocabulary_of(target) is None:
            links[(target_of(target), row["p"].value)] += 1
    return {
        "triples": int(counts["triples"].value),
        "subjects": int(counts["subjects"].value),
        "properties": int(counts["properties"].value),
        "objects": int(counts["objects"].value),
        "entities": int(next(iter(select(ENTITIES % base)))["n"].value),
        "classes": sorted([row["class"].value, int(row["n"].value)] for row in select(CLASSES)),
        "property_counts": sorted([row["p"].value, int(row["n"].value)] for row in select(PROPERTIES)),
        "links": sorted(([t, p, n] for (t, p), n in links.items()), key=lambda item: (item[0] != str(WD), item[0], item[1])),
    }


# ---------------------------------------------------------------------------------------------
# the files


SECTIONS: dict[str, Callable[[Select], Any]] = {
    "municipalities": municipalities,
    "grids": grids,
    "challenge_counts": challenge_counts,
    "measures_per_concept": measures_per_concept,
}


def _dump(path: Path, data: dict) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def write(folder: Path, store_path: Path) -> None:
    """Both files for the build in ``folder`` from its just written store (read-only)."""
    store = ox.Store.read_only(str(store_path))
    select = select_from(store)
    head = {"format": FORMAT, "dataset_base": DATASET_BASE}  # no build id: a rebuild of the same data writes the same bytes
    _dump(folder / MEASURES_FILE, {**head, "measures": measures(select)})
    _dump(folder / SUMMARY_FILE, {**head, **{name: compute(select) for name, compute in SECTIONS.items()},
                                  "void": void_statistics(select, DATASET_BASE)})
    del store


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """No cyclic garbage collection while hundreds of thousands of lists are made (JSON parsed, records
    shaped): its passes, one per 700 new containers, took half the time of loading the measures."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read(folder: Path | str | None, manifest: dict | None, name: str = SUMMARY_FILE) -> dict | None:
    """A summary file of the build in ``folder`` whose ``manifest`` (build.json) lists it with these
    bytes and this checksum; None when there is none, it is not the listed one (a stale copy from
    another build) or of another format."""
    listed = ((manifest or {}).get("files") or {}).get(name) or {}
    if not folder or not listed.get("sha256"):
        return None
    try:
        with open(os.path.join(folder, name), "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    if len(data) != listed.get("bytes") or hashlib.sha256(data).hexdigest() != listed["sha256"]:
        return None
    try:
        with without_cyclic_gc():
            found = json.loads(data)
    except ValueError:
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None
