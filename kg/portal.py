"""What portals and researchers get beside the union dumps, written by ``kg build`` into the build.

- one set of dumps per concept (a municipality's data folder = its named graph): ``konzept-<id>.ttl``,
  ``.nt``, ``.jsonld`` and a gzip copy of each, so a portal can publish each city's data under that
  city's name without the fictional examples mixed in;
- ``concepts.json``: the facts the catalog needs per concept (titles, municipality, key, places,
  time span, files), worked out once per build so a catalog page costs the same for 2 or 400 cities;
- ``kennzahlen.csv``: every Data Cube observation as a table row, with its concept and whether it is
  fictional;
- the ontology, the shapes and the validation report as named graphs of the build's store (graph
  IRI = the ontology's own IRI, ``…/shapes``, ``…/validation``). They are *not* copied into the
  default graph, which stays the union of the data graphs: counting triples of the data must not
  count the ontology (docs/sparql.md).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import multiprocessing
import os
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, XSD

from kg import jsonld
from kg.namespace import DATASET_BASE, PREFIXES
from kg.sources import DatasetSettings, read_settings
from kg.workers import forked_pool

CONCEPTS_FILE = "concepts.json"
STATISTICS_FILE = "kennzahlen.csv"
CONCEPT_SUFFIXES = (".ttl", ".nt", ".jsonld")  # each also as .gz
SHAPES_GRAPH = DATASET_BASE + "shapes"
VALIDATION_GRAPH = DATASET_BASE + "validation"
PARALLEL_MIN_CONCEPTS = 8  # below this, JSON-LD in this process is quicker than forking
STATISTICS_COLUMNS = ("konzept", "kommune", "fiktiv", "beobachtung", "datensatz", "indikator", "indikator_name",
                      "zeitraum", "gebiet", "wert", "einheit", "ungefaehr", "quellen")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_JOBS: list[tuple[list, dict | None]] = []  # handed to forked JSON-LD workers by inheritance


def concept_stem(concept_id: str) -> str:
    """The file name stem of one concept's dumps: ``konzept-hamm``."""
    if not _SAFE_ID.fullmatch(concept_id):
        raise ValueError(f"dataset id {concept_id!r} is not usable in a file name (letters, digits, . _ -)")
    return f"konzept-{concept_id}"


def concept_files(concept_id: str) -> list[str]:
    """The files of one concept in a build, plain and gzip."""
    stem = concept_stem(concept_id)
    return [f"{stem}{suffix}{gz}" for suffix in CONCEPT_SUFFIXES for gz in ("", ".gz")]


def _rdflib(term) -> URIRef | BNode | Literal:
    """An Oxigraph term as rdflib's (plain strings without a datatype, as the sources' parser gives)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == str(XSD.string) else URIRef(datatype))


def _select(store: ox.Store, query: str) -> list[dict]:
    solutions = store.query(query)
    names = [variable.value for variable in solutions.variables]
    return [{name: solution[name] for name in names if solution[name] is not None} for solution in solutions]


FACTS_QUERY = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?kind ?value ?lang WHERE { GRAPH <%(graph)s> {
  { BIND("municipality" AS ?kind) <%(concept)s> kik:municipality ?value }
  UNION { BIND("key" AS ?kind) <%(concept)s> kik:municipality/kik:municipalityKey ?value }
  UNION { BIND("name" AS ?kind) <%(concept)s> kik:municipality/(skos:prefLabel|rdfs:label) ?value }
  UNION { BIND("title" AS ?kind) <%(concept)s> (dct:title|rdfs:label) ?value }
  UNION { BIND("place" AS ?kind) <%(concept)s> dct:spatial ?value FILTER(isIRI(?value)) }
  UNION { BIND("area" AS ?kind) ?cube a qb:DataSet ; dct:spatial ?value FILTER(isIRI(?value)) }
  UNION { BIND("start" AS ?kind) ?c a kik:IntegrationConcept ; dct:issued ?value }
  UNION { BIND("start" AS ?kind) ?x dct:temporal/dcat:startDate ?value }
  UNION { BIND("end" AS ?kind) ?x dct:temporal/dcat:endDate ?value }
  BIND(LANG(?value) AS ?lang)
} }
"""


def _date(term) -> dict:
    return {"value": term.value, "datatype": term.datatype.value if term.datatype else None}


def concept_facts(settings: DatasetSettings, store: ox.Store, triples: int) -> dict:
    """What the catalog says about one concept, read from its own named graph only (the data states
    it or it is left out): the municipality, its key and places, the time span, the titles."""
    found: dict[str, list] = {}
    for row in _select(store, FACTS_QUERY % {"graph": settings.base, "concept": settings.concept}):
        found.setdefault(row["kind"].value, []).append(row["value"])

    def text(kind: str, lang: str) -> str:
        values = found.get(kind, [])
        for wanted in (lang, ""):
            for value in sorted(values, key=str):
                if isinstance(value, ox.Literal) and (value.language or "") == wanted:
                    return value.value
        return ""

    municipality = next((v.value for v in found.get("municipality", []) if isinstance(v, ox.NamedNode)), None)
    places = sorted({v.value for v in found.get("place", [])}) or sorted({v.value for v in found.get("area", [])})
    starts = sorted((_date(v) for v in found.get("start", []) if isinstance(v, ox.Literal)), key=lambda d: d["value"])
    ends = sorted((_date(v) for v in found.get("end", []) if isinstance(v, ox.Literal)), key=lambda d: d["value"])
    start, end = (starts[0] if starts else None), (ends[-1] if ends else None)
    keys = sorted(v.value for v in found.get("key", []) if isinstance(v, ox.Literal))
    return {
        "id": settings.id,
        "graph": settings.base,
        "concept": str(settings.concept),
        "fictional": bool(settings.fictional),
        "title_de": settings.title_de,
        "title_en": settings.title_en,
        "concept_title_de": text("title", "de"),
        "concept_title_en": text("title", "en"),
        "municipality": municipality,
        "municipality_de": text("name", "de"),
        "municipality_en": text("name", "en"),
        "municipality_key": keys[0] if keys else None,
        "places": places,
        "start": start,
        "end": end if end and start and end["value"] >= start["value"] else None,
        "triples": triples,
        "files": concept_files(settings.id),
    }


def _jsonld(index: int) -> bytes:
    triples, context = _JOBS[index]
    rdflib_triples = [(_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)) for t in triples]
    if context is None:
        graph = Graph()
        graph.addN((s, p, o, graph) for s, p, o in rdflib_triples)
        return graph.serialize(format="json-ld", encoding="utf-8")
    return jsonld.document(jsonld.node_texts(rdflib_triples, context), context)


def _gzip(path: Path) -> None:
    """A ``.gz`` beside the file; mtime 0 so the bytes depend on the content only, level 6 (a third of
    level 9's time for these files, a few per cent larger)."""
    with path.open("rb") as source, gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", compresslevel=6,
                                                  mtime=0) as target:
        shutil.copyfileobj(source, target)


def _cached_document(path: Path, context: dict) -> bytes:
    """A concept's JSON-LD from the node objects the incremental build cached for its folder."""
    with path.open(encoding="utf-8") as stream:
        return jsonld.document([tuple(json.loads(line)) for line in stream if line.strip()], context)


def _graphs_of_dump(path: Path, wanted: list[str]) -> dict[str, list[ox.Triple]]:
    """The triples of the named graphs ``wanted`` as the N-Quads dump has them (lexical forms kept)."""
    found: dict[str, list[ox.Triple]] = {name: [] for name in wanted}
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode) and graph.value in found:
            found[graph.value].append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return found


def write_concept_dumps(store: ox.Store, folder: Path, settings: list[DatasetSettings], context: dict | None,
                        nodes: dict[str, Path] | None = None, workers: int | None = None) -> list[dict]:
    """Each concept's named graph as Turtle, N-Triples and JSON-LD, plus gzip; returns their facts.

    The incremental build's cached piece of a folder (``nodes``: graph IRI → its nodes.jsonl, beside
    its sorted triples.nt) gives the N-Triples and JSON-LD as they are; without one, the graph is
    read from kg.nq and JSON-LD made by rdflib's converter (in forked processes when there are many)."""
    facts, jobs, cached = [], [], {}
    missing = [e.base for e in settings if not (nodes and e.base in nodes and nodes[e.base].with_name("triples.nt").is_file())]
    from_dump = _graphs_of_dump(folder / "kg.nq", missing) if missing else {}
    for entry in settings:
        stem = folder / concept_stem(entry.id)
        piece = nodes.get(entry.base) if nodes else None
        sorted_nt = piece.with_name("triples.nt") if piece is not None else None
        if sorted_nt is not None and sorted_nt.is_file():
            # the incremental build's piece: the folder's triples as sorted N-Triples, the same bytes
            shutil.copyfile(sorted_nt, f"{stem}.nt")
            triples = list(ox.parse(path=str(sorted_nt), format=ox.RdfFormat.N_TRIPLES))
        else:  # from kg.nq, not the store: Oxigraph's store writes numbers canonically ("0.10" as "0.1")
            triples = from_dump.pop(entry.base)
            triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))  # same bytes for the same data
            ox.serialize(triples, output=f"{stem}.nt", format=ox.RdfFormat.N_TRIPLES)
        ox.serialize(triples, output=f"{stem}.ttl", format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        if context is not None and piece is not None and piece.is_file():
            cached[entry.id] = piece
            count = len(triples)
            triples = []  # not needed any more
        else:
            jobs.append((triples, context))
            count = len(triples)
        facts.append(concept_facts(entry, store, count))
    _JOBS[:] = jobs
    try:
        workers = workers or os.cpu_count() or 1
        if workers > 1 and len(jobs) >= PARALLEL_MIN_CONCEPTS and "fork" in multiprocessing.get_all_start_methods():
            with forked_pool(min(workers, len(jobs))) as pool:
                documents = pool.map(_jsonld, range(len(jobs)), chunksize=max(1, len(jobs) // (4 * workers)))
        else:
            documents = [_jsonld(index) for index in range(len(jobs))]
    finally:
        _JOBS.clear()
    converted = iter(documents)
    for entry in settings:
        document = _cached_document(cached[entry.id], context) if entry.id in cached else next(converted)
        (folder / f"{concept_stem(entry.id)}.jsonld").write_bytes(document)
        for suffix in CONCEPT_SUFFIXES:
            _gzip(folder / f"{concept_stem(entry.id)}{suffix}")
    return facts


OBSERVATIONS_QUERY = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#>
PREFIX sdmx-attribute: <http://purl.org/linked-data/sdmx/2009/attribute#>
SELECT ?g ?beobachtung ?datensatz ?indikator (SAMPLE(?name) AS ?indikator_name) ?zeitraum ?gebiet ?wert ?einheit ?ungefaehr
       (GROUP_CONCAT(DISTINCT STR(?quelle); separator=" ") AS ?quellen)
WHERE { GRAPH ?g {
  ?beobachtung a qb:Observation .
  OPTIONAL { ?beobachtung qb:dataSet ?datensatz }
  OPTIONAL { ?beobachtung kik:indicator ?indikator OPTIONAL { ?indikator skos:prefLabel|rdfs:label ?name FILTER(LANG(?name) = "de") } }
  OPTIONAL { ?beobachtung sdmx-dimension:refPeriod ?zeitraum }
  OPTIONAL { ?beobachtung sdmx-dimension:refArea ?gebiet }
  OPTIONAL { ?beobachtung sdmx-measure:obsValue ?wert }
  OPTIONAL { ?beobachtung sdmx-attribute:unitMeasure ?einheit }
  OPTIONAL { ?beobachtung kik:approximate ?ungefaehr }
  OPTIONAL { ?beobachtung dct:source ?quelle }
} }
GROUP BY ?g ?beobachtung ?datensatz ?indikator ?zeitraum ?gebiet ?wert ?einheit ?ungefaehr
"""


def write_statistics_csv(store: ox.Store, folder: Path, facts: list[dict]) -> int:
    """Every qb:Observation of every concept as one CSV row (UTF-8, comma, header); returns the rows."""
    by_graph = {fact["graph"]: fact for fact in facts}
    rows = []
    for found in _select(store, OBSERVATIONS_QUERY):
        fact = by_graph.get(found["g"].value)
        if fact is None:
            continue
        row = {name: (found[name].value if name in found else "") for name in STATISTICS_COLUMNS}
        row.update({"konzept": fact["id"], "kommune": fact["municipality_de"], "fiktiv": "ja" if fact["fictional"] else "nein"})
        rows.append(row)
    rows.sort(key=lambda row: (row["konzept"], row["beobachtung"]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STATISTICS_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    (folder / STATISTICS_FILE).write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def ontology_iri(path: Path) -> str:
    """The IRI the ontology file gives itself (``?o a owl:Ontology``)."""
    for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        if triple.predicate == ox.NamedNode(str(RDF.type)) and triple.object == ox.NamedNode(str(OWL.Ontology)):
            return triple.subject.value
    raise ValueError(f"{path} declares no owl:Ontology")


def add_named_graphs(store: ox.Store, files: dict[str, Path]) -> dict[str, int]:
    """Load each Turtle file into the store as the named graph ``files``' key (not into the default
    graph); returns the triples per graph."""
    counts = {}
    for name, path in files.items():
        graph = ox.NamedNode(name)
        if store.contains_named_graph(graph):  # a store carried over from an earlier build: replace, not add
            store.remove_graph(graph)
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=graph)
        counts[name] = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
    return counts


def write_portal_files(folder: Path, data_dirs: list[Path], context: dict | None, store_path: Path,
                       nodes: dict[str, Path] | None = None) -> dict:
    """Everything above, from the build's on-disk store once the union dumps, the store and the
    ontology/shapes/validation files are written; returns what build.json adds (``extra_graphs``:
    the named graphs outside the default graph, with their triples)."""
    from kg.export import write_json

    settings = [read_settings(Path(d)) for d in data_dirs]
    store = ox.Store(str(store_path))
    facts = write_concept_dumps(store, folder, settings, context, nodes)
    rows = write_statistics_csv(store, folder, facts)
    write_json(folder / CONCEPTS_FILE, {"concepts": facts, "statistics_rows": rows})
    extra = {}
    if (folder / "ontology.ttl").is_file():
        extra[ontology_iri(folder / "ontology.ttl")] = folder / "ontology.ttl"
    for name, file in ((SHAPES_GRAPH, "shapes.ttl"), (VALIDATION_GRAPH, "validation.ttl")):
        if (folder / file).is_file():
            extra[name] = folder / file
    counts = add_named_graphs(store, extra)
    store.flush()  # three small graphs: no need to optimize the store again
    del store
    return {"extra_graphs": counts}
