"""Writing a build to dist/: dumps in every format, gzip copies, checksums, manifest.

Nothing is written in place. A build goes to a fresh folder beside the others; only when every file
is complete does the ``dist`` link switch to it (``os.replace`` of a symbolic link is atomic), so a
reader never sees a half-written dataset and a failed build leaves the last good one served.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Node

from kg import jsonld
from kg.namespace import PREFIXES

DUMP_FORMATS: dict[str, tuple[ox.RdfFormat, bool]] = {
    # file name: (format, keeps named graphs)
    "kg.ttl": (ox.RdfFormat.TURTLE, False),
    "kg.nt": (ox.RdfFormat.N_TRIPLES, False),
    "kg.rdf": (ox.RdfFormat.RDF_XML, False),
    "kg.trig": (ox.RdfFormat.TRIG, True),
    "kg.nq": (ox.RdfFormat.N_QUADS, True),
}
JSONLD_FILE = "kg.jsonld"
STORE_SUFFIX = ".oxigraph"  # <build folder>.oxigraph: the build's on-disk Oxigraph store, beside it
CACHE_FOLDER = "cache"  # .kg-builds/cache/: the incremental build's pieces (kg.incremental), not a build
KEEP_BUILDS = 3


def _ox_term(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unexpected RDF term {term!r}")


Row = tuple[tuple[str, str, str, str], tuple[Node, Node, Node], ox.Quad]


def _rows(dataset: Dataset) -> list[Row]:
    """Every quad of the dataset, sorted, as (sort key, rdflib triple, Oxigraph quad).

    Sorted so that equal inputs give byte-equal dumps. Each distinct term is converted to Oxigraph
    and to its sort string once (terms repeat a lot), and graphs are read one by one from the store
    (rdflib's ``Dataset.quads`` costs several times as much per quad).
    """
    converted: dict[Node, tuple[object, str]] = {}

    def term(node: Node) -> tuple[object, str]:
        found = converted.get(node)
        if found is None:
            value = _ox_term(node)
            found = converted[node] = (value, str(value))
        return found

    default = ox.DefaultGraph()
    rows: list[Row] = []
    for graph in dataset.graphs():
        name = graph.identifier
        graph_name, graph_key = (default, str(default)) if name is None or name == DATASET_DEFAULT_GRAPH_ID else term(name)
        for s, p, o in graph:
            (ox_s, key_s), (ox_p, key_p), (ox_o, key_o) = term(s), term(p), term(o)
            rows.append(((graph_key, key_s, key_p, key_o), (s, p, o), ox.Quad(ox_s, ox_p, ox_o, graph_name)))
    rows.sort(key=lambda row: row[0])
    return rows


def oxigraph_quads(dataset: Dataset) -> list[ox.Quad]:
    """The dataset as sorted Oxigraph quads: sorted, so equal inputs give byte-equal dumps."""
    return [quad for _, _, quad in _rows(dataset)]


def _unique_triples(rows: list[Row]) -> list[tuple[tuple[str, str, str], tuple[Node, Node, Node], ox.Triple]]:
    """The distinct triples of all graphs, sorted by subject, predicate, object."""
    unique = {key[1:]: (triple, quad) for key, triple, quad in rows}
    return [(key, triple, ox.Triple(quad.subject, quad.predicate, quad.object))
            for key, (triple, quad) in sorted(unique.items(), key=lambda item: item[0])]


def write_dumps(dataset: Dataset, folder: Path, context: dict | None, workers: int | None = None) -> None:
    """Serialise the dataset in every dump format into ``folder``.

    JSON-LD (rdflib, ~20x slower than Oxigraph's writers) is made in forked processes while this one
    writes the other dumps and the store.
    """
    rows = _rows(dataset)
    quads = [quad for _, _, quad in rows]
    unique = _unique_triples(rows)
    del rows
    triples = [triple for _, _, triple in unique]
    rdflib_triples = [triple for _, triple, _ in unique]
    del unique
    with jsonld.JsonLdWriter(rdflib_triples, context, workers) as writer:
        for name, (rdf_format, with_graphs) in DUMP_FORMATS.items():
            items = quads if with_graphs else triples
            ox.serialize(items, output=str(folder / name), format=rdf_format, prefixes=PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None)
        del triples
        write_store(quads, store_dir(folder))
        del quads
        (folder / JSONLD_FILE).write_bytes(writer.result())


def store_dir(build_folder: Path) -> Path:
    """Where a build's on-disk store lives: beside the build folder (dist/ itself holds files only),
    named after the finished build, so it is written once and never renamed."""
    return build_folder.with_name(build_folder.name.removesuffix(".partial") + STORE_SUFFIX)


def write_store(quads: list[ox.Quad], path: Path) -> None:
    """The build as an on-disk Oxigraph store: every named graph, and their union as the default graph.

    Every server process opens it read-only in milliseconds and the operating system shares its
    pages between them, instead of each query worker parsing kg.nq into memory of its own. The
    union is materialised so that the default graph is the union *and* FROM / FROM NAMED still work.
    """
    store = ox.Store(str(path))
    store.bulk_extend(quads)
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
    store.flush()
    store.optimize()
    del store


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gzip_copies(folder: Path, names: Iterable[str]) -> None:
    """A ``.gz`` beside each dump; mtime 0 so the bytes depend on the content only. Level 6 (zlib's
    default): about a third of level 9's time for text, files a few per cent larger."""
    for name in names:
        with (folder / name).open("rb") as source, gzip.GzipFile(folder / f"{name}.gz", "wb", compresslevel=6, mtime=0) as target:
            shutil.copyfileobj(source, target)


def write_checksums(folder: Path) -> dict[str, dict[str, object]]:
    """SHA256SUMS in ``sha256sum -c`` format, and the same facts for the manifest."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in ("SHA256SUMS", "build.json"):
            files[path.name] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    lines = [f"{info['sha256']}  {name}\n" for name, info in files.items()]
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return files


def new_build_folder(dist: Path) -> Path:
    """A fresh, empty folder next to the ``dist`` link for one build."""
    builds = dist.parent / ".kg-builds"
    builds.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = builds / f"{stamp}.partial"
    folder.mkdir()
    return folder


def publish(folder: Path, dist: Path) -> Path:
    """Make a complete build the served one: rename it final, then swap the ``dist`` link atomically."""
    final = folder.with_name(folder.name.removesuffix(".partial"))
    folder.rename(final)
    if dist.exists() and not dist.is_symlink():
        raise RuntimeError(f"{dist} is a real folder; move it away once, later builds replace the link atomically")
    link = dist.with_name(f".{dist.name}.new")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(final, dist.parent), target_is_directory=True)
    os.replace(link, dist)
    _prune(final.parent, keep=final)
    return final


def discard(folder: Path) -> None:
    """Remove an unfinished build; the served one is untouched."""
    shutil.rmtree(folder, ignore_errors=True)
    _remove_store(folder)


def _remove_store(folder: Path) -> None:
    """The build's store and the note beside it of which cached pieces it holds (kg.incremental)."""
    store = store_dir(folder)
    shutil.rmtree(store, ignore_errors=True)
    store.with_name(store.name + ".pieces.json").unlink(missing_ok=True)


def _prune(builds: Path, keep: Path) -> None:
    finished = sorted(p for p in builds.iterdir()
                      if p.is_dir() and p.name != CACHE_FOLDER and not p.name.endswith((".partial", STORE_SUFFIX)))
    for old in finished[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
            _remove_store(old)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
