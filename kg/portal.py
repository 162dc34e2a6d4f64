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
import multiprocessing
import os
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, RDFS, SKOS

from kg import jsonld
from kg.export import _ox_term
from kg.namespace import DATASET_BASE, KIK, PREFIXES, QB, SDMX_ATTRIBUTE, SDMX_DIMENSION, SDMX_MEASURE
from kg.sources import DatasetSettings, read_settings

CONCEPTS_FILE = "concepts.json"
STATISTICS_FILE = "kennzahlen.csv"
CONCEPT_SUFFIXES = (".ttl", ".nt", ".jsonld")  # each also as .gz
SHAPES_GRAPH = DATASET_BASE + "shapes"
VALIDATION_GRAPH = DATASET_BASE + "validation"
PARALLEL_MIN_CONCEPTS = 8  # below this, JSON-LD in this process is quicker than forking
STATISTICS_COLUMNS = ("konzept", "kommune", "fiktiv", "beobachtung", "datensatz", "indikator", "indikator_name",
                      "zeitraum", "gebiet", "wert", "einheit", "ungefaehr", "quellen")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_JOBS: list[tuple[list, dict]] = []  # handed to forked JSON-LD workers by inheritance


def concept_stem(concept_id: str) -> str:
    """The file name stem of one concept's dumps: ``konzept-hamm``."""
    if not _SAFE_ID.fullmatch(concept_id):
        raise ValueError(f"dataset id {concept_id!r} is not usable in a file name (letters, digits, . _ -)")
    return f"konzept-{concept_id}"


def concept_files(concept_id: str) -> list[str]:
    """The files of one concept in a build, plain and gzip."""
    stem = concept_stem(concept_id)
    return [f"{stem}{suffix}{gz}" for suffix in CONCEPT_SUFFIXES for gz in ("", ".gz")]


def _text(graph: Graph, node, predicates, lang: str) -> str:
    """The first label of ``node`` in ``lang`` (else without language) among ``predicates``."""
    for predicate in predicates:
        values = [o for o in graph.objects(node, predicate) if isinstance(o, Literal)]
        for value in values:
            if value.language == lang:
                return str(value)
        for value in values:
            if not value.language:
                return str(value)
    return ""


def _date(term) -> dict | None:
    if not isinstance(term, Literal):
        return None
    return {"value": str(term), "datatype": str(term.datatype) if term.datatype else None}


def concept_facts(settings: DatasetSettings, graph: Graph) -> dict:
    """What the catalog says about one concept, read from its own named graph only (the data states
    it or it is left out): the municipality, its key and places, the time span, the titles."""
    concept = URIRef(str(settings.concept))
    municipality = graph.value(concept, KIK.municipality)
    names = (SKOS.prefLabel, RDFS.label)
    titles = (DCTERMS.title, RDFS.label, SKOS.prefLabel)
    key = graph.value(municipality, KIK.municipalityKey) if municipality is not None else None
    places = sorted({str(o) for o in graph.objects(concept, DCTERMS.spatial) if isinstance(o, URIRef)})
    if not places and municipality is not None:  # e.g. the key figures' area, when the concept names none
        places = sorted({str(o) for s in graph.subjects(RDF.type, QB.DataSet)
                         for o in graph.objects(s, DCTERMS.spatial) if isinstance(o, URIRef)})
    starts = [_date(o) for c in graph.subjects(RDF.type, KIK.IntegrationConcept) for o in graph.objects(c, DCTERMS.issued)]
    ends = []
    for period in graph.objects(None, DCTERMS.temporal):
        starts += [_date(o) for o in graph.objects(period, DCAT.startDate)]
        ends += [_date(o) for o in graph.objects(period, DCAT.endDate)]
    starts, ends = [d for d in starts if d], [d for d in ends if d]
    start = min(starts, key=lambda d: d["value"]) if starts else None
    end = max(ends, key=lambda d: d["value"]) if ends else None
    return {
        "id": settings.id,
        "graph": str(settings.graph_name),
        "concept": str(concept),
        "fictional": bool(settings.fictional),
        "title_de": settings.title_de,
        "title_en": settings.title_en,
        "concept_title_de": _text(graph, concept, titles, "de"),
        "concept_title_en": _text(graph, concept, titles, "en"),
        "municipality": str(municipality) if municipality is not None else None,
        "municipality_de": _text(graph, municipality, names, "de") if municipality is not None else "",
        "municipality_en": _text(graph, municipality, names, "en") if municipality is not None else "",
        "municipality_key": str(key) if key is not None else None,
        "places": places,
        "start": start,
        "end": end if end and start and end["value"] >= start["value"] else None,
        "triples": len(graph),
        "files": concept_files(settings.id),
    }


def _sorted_triples(graph: Graph) -> tuple[list[ox.Triple], list[tuple]]:
    """The graph's triples for Oxigraph and rdflib, sorted so equal inputs give byte-equal dumps."""
    rows = []
    for s, p, o in graph:
        triple = ox.Triple(_ox_term(s), _ox_term(p), _ox_term(o))
        rows.append(((str(triple.subject), str(triple.predicate), str(triple.object)), triple, (s, p, o)))
    rows.sort(key=lambda row: row[0])
    return [row[1] for row in rows], [row[2] for row in rows]


def _jsonld(index: int) -> bytes:
    triples, context = _JOBS[index]
    if context is None:
        graph = Graph()
        graph.addN((s, p, o, graph) for s, p, o in triples)
        return graph.serialize(format="json-ld", encoding="utf-8")
    return jsonld.document(jsonld.node_texts(triples, context), context)


def _gzip(path: Path) -> None:
    with path.open("rb") as source, gzip.GzipFile(path.with_name(path.name + ".gz"), "wb", mtime=0) as target:
        shutil.copyfileobj(source, target)


def write_concept_dumps(dataset: Dataset, folder: Path, settings: list[DatasetSettings], context: dict | None,
                        workers: int | None = None) -> list[dict]:
    """Each concept's named graph as Turtle, N-Triples and JSON-LD (plus gzip); returns their facts.

    JSON-LD (rdflib's converter) is made in forked processes when there are many concepts.
    """
    facts, jobs = [], []
    for entry in settings:
        graph = dataset.graph(URIRef(entry.base))
        stem = folder / concept_stem(entry.id)
        ox_triples, rdflib_triples = _sorted_triples(graph)
        for suffix, rdf_format in ((".ttl", ox.RdfFormat.TURTLE), (".nt", ox.RdfFormat.N_TRIPLES)):
            ox.serialize(ox_triples, output=str(stem) + suffix, format=rdf_format,
                         prefixes=PREFIXES if rdf_format == ox.RdfFormat.TURTLE else None)
        jobs.append((rdflib_triples, context))
        facts.append(concept_facts(entry, graph))
    _JOBS[:] = jobs
    try:
        workers = workers or os.cpu_count() or 1
        if workers > 1 and len(jobs) >= PARALLEL_MIN_CONCEPTS and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
                documents = pool.map(_jsonld, range(len(jobs)), chunksize=max(1, len(jobs) // (4 * workers)))
        else:
            documents = [_jsonld(index) for index in range(len(jobs))]
    finally:
        _JOBS.clear()
    for entry, document in zip(settings, documents):
        (folder / f"{concept_stem(entry.id)}.jsonld").write_bytes(document)
        for suffix in CONCEPT_SUFFIXES:
            _gzip(folder / f"{concept_stem(entry.id)}{suffix}")
    return facts


def _value(term) -> str:
    return "" if term is None else str(term)


def write_statistics_csv(dataset: Dataset, folder: Path, settings: list[DatasetSettings]) -> int:
    """Every qb:Observation of every concept as one CSV row (UTF-8, comma, header); returns the rows."""
    rows = []
    for entry in settings:
        graph = dataset.graph(URIRef(entry.base))
        municipality = graph.value(URIRef(str(entry.concept)), KIK.municipality)
        name = _text(graph, municipality, (SKOS.prefLabel, RDFS.label), "de") if municipality is not None else ""
        for observation in graph.subjects(RDF.type, QB.Observation):
            indicator = graph.value(observation, KIK.indicator)
            rows.append({
                "konzept": entry.id,
                "kommune": name,
                "fiktiv": "ja" if entry.fictional else "nein",
                "beobachtung": str(observation),
                "datensatz": _value(graph.value(observation, QB.dataSet)),
                "indikator": _value(indicator),
                "indikator_name": _text(graph, indicator, (SKOS.prefLabel, RDFS.label), "de") if indicator is not None else "",
                "zeitraum": _value(graph.value(observation, SDMX_DIMENSION.refPeriod)),
                "gebiet": _value(graph.value(observation, SDMX_DIMENSION.refArea)),
                "wert": _value(graph.value(observation, SDMX_MEASURE.obsValue)),
                "einheit": _value(graph.value(observation, SDMX_ATTRIBUTE.unitMeasure)),
                "ungefaehr": _value(graph.value(observation, KIK.approximate)),
                "quellen": " ".join(sorted(str(o) for o in graph.objects(observation, DCTERMS.source))),
            })
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


def add_named_graphs(store_path: Path, files: dict[str, Path]) -> dict[str, int]:
    """Load each Turtle file into the on-disk store as the named graph ``files``' key (not into the
    default graph); returns the triples per graph."""
    store = ox.Store(str(store_path))
    counts = {}
    for name, path in files.items():
        graph = ox.NamedNode(name)
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=graph)
        counts[name] = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
    store.flush()
    store.optimize()
    del store
    return counts


def write_portal_files(dataset: Dataset, folder: Path, data_dirs: list[Path], context: dict | None,
                       store_path: Path) -> dict:
    """Everything above, after the union dumps, the store and ontology/shapes/validation files are
    written; returns what build.json adds (``extra_graphs``: named graphs outside the default graph)."""
    from kg.export import write_json

    settings = [read_settings(Path(d)) for d in data_dirs]
    facts = write_concept_dumps(dataset, folder, settings, context)
    rows = write_statistics_csv(dataset, folder, settings)
    write_json(folder / CONCEPTS_FILE, {"concepts": facts, "statistics_rows": rows})
    extra = {}
    if (folder / "ontology.ttl").is_file():
        extra[ontology_iri(folder / "ontology.ttl")] = folder / "ontology.ttl"
    for name, file in ((SHAPES_GRAPH, "shapes.ttl"), (VALIDATION_GRAPH, "validation.ttl")):
        if (folder / file).is_file():
            extra[name] = folder / file
    return {"extra_graphs": add_named_graphs(store_path, extra) if store_path.is_dir() else {}}
