"""Incremental build: each data folder's validated graph, report and outputs cached under the hash of
its inputs, the union's outputs assembled from those pieces by streaming.

A *piece* is what one data folder (or the shared vocabularies) contributes to a build: its triples
as sorted N-Triples, its JSON-LD node objects, its SHACL findings (validated together with the
vocabularies), its statistics and the index of the resources it describes and points at. A piece is
a pure function of its inputs (every file of the folder, the folder's path, the ontology, the shapes,
the vocabularies and the build code with its libraries' versions), so it is kept in
``.kg-builds/cache/<sha256 of the inputs>/`` and reused while none of them changes.

Reusing per-folder findings is only right when validating a folder with the vocabularies gives what
validating the union gives: ``kg.validate.independent`` decides that from the pieces' indexes, as
it does for the parallel validation of a whole dataset. When it says no, the build falls back to
reading and validating the union in one (``kg.cli``). The union outputs are the same bytes as
``kg.export.write_dumps`` writes for the same dataset (tests/test_build_incremental.py).
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.metadata
import itertools
import json
import multiprocessing
import os
import pickle
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from kg import jsonld, page_summaries
from kg.build import REPOSITORY, VOCABULARIES, check_settings, municipality_graph
from kg.errors import SourceError
from kg.export import CACHE_FOLDER, DUMP_FORMATS, JSONLD_FILE, _ox_term
from kg.namespace import KIK, PREFIXES, VOCAB_GRAPH, bind_prefixes
from kg.sources import parse_turtle, read_settings
from kg.stats import statistics
from kg.workers import forked_pool

PIECE_FILES = ("triples.nt", "nodes.jsonl", "report.pickle", "meta.pickle")
_LIBRARIES = ("rdflib", "pyshacl", "pyoxigraph")
STORE_CHUNK = 200_000  # quads per bulk load into the store: 400 municipalities in 330 MB instead of 1 GB
_NOT_IN_PIECES = {"cli.py", "generate.py", "push.py", "progress.py"}  # code no piece's content depends on
_PREFIXED = (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)


@dataclass
class Piece:
    """One cached piece: where its files are and what the assembly needs to know without reading them."""

    key: str
    folder: Path | None  # None: the shared vocabularies
    graph: str  # the named graph's IRI
    triples: int
    reused: bool = False
    folder_in_cache: Path = Path()

    def path(self, name: str) -> Path:
        return self.folder_in_cache / name

    def meta(self) -> dict:
        with (self.folder_in_cache / "meta.pickle").open("rb") as stream:
            return pickle.load(stream)

    def report(self):
        with (self.folder_in_cache / "report.pickle").open("rb") as stream:
            return pickle.load(stream)


# --- keys -------------------------------------------------------------------------------------------


def _digest_files(digest, paths: Iterable[Path], root: Path) -> None:
    for path in sorted(paths):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def common_key() -> str:
    """The inputs every piece shares: ontology (with vocabularies and JSON-LD context), shapes, the
    build code (kg/*.py but the command line, the generator, push and progress output) and the
    versions of the libraries that shape the outputs."""
    digest = hashlib.sha256(b"kik-piece-v1\0")
    code = [path for path in (REPOSITORY / "kg").glob("*.py") if path.name not in _NOT_IN_PIECES]
    _digest_files(digest, [*(REPOSITORY / "ontology").rglob("*"), *(REPOSITORY / "shapes").rglob("*"), *code], REPOSITORY)
    for name in _LIBRARIES:
        digest.update(f"{name}={importlib.metadata.version(name)}\0".encode())
    return digest.hexdigest()


def folder_key(folder: Path, common: str) -> str:
    """Every file of the data folder (whatever its kind: a new table format counts too), its place
    (relative IRIs in Turtle resolve against it) and the common inputs."""
    folder = folder.resolve()
    digest = hashlib.sha256(f"{common}\0{folder}\0".encode())
    _digest_files(digest, (p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts)), folder)
    return digest.hexdigest()


# --- making one piece (in a worker process) -----------------------------------------------------------


_SHARED: dict = {}  # shapes, vocabularies, context: set before forking, inherited by the workers


def _nt(term) -> str:
    return str(_ox_term(term))


def _write_piece(target: Path, graph: Graph, graph_name: str, report, context: dict | None) -> dict:
    """Write a piece's files into ``target``; return its meta data."""
    converted = {}

    def term(node):
        found = converted.get(node)
        if found is None:
            value = _ox_term(node)
            found = converted[node] = (value, str(value))
        return found

    rows = []
    for s, p, o in graph:
        (ox_s, key_s), (ox_p, key_p), (ox_o, key_o) = term(s), term(p), term(o)
        rows.append(((key_s, key_p, key_o), ox.Triple(ox_s, ox_p, ox_o), (s, p, o)))
    rows.sort(key=lambda row: row[0])
    ox.serialize([row[1] for row in rows], output=str(target / "triples.nt"), format=ox.RdfFormat.N_TRIPLES)
    triples = [row[2] for row in rows]
    texts = jsonld.node_texts(triples, context) if context is not None else []
    with (target / "nodes.jsonl").open("w", encoding="utf-8") as stream:
        for item in texts:
            stream.write(json.dumps(item, ensure_ascii=False) + "\n")
    with (target / "report.pickle").open("wb") as stream:
        pickle.dump(report, stream, protocol=pickle.HIGHEST_PROTOCOL)
    concepts = sorted(str(c) for c in graph.subjects(RDF.type, KIK.IntegrationConcept))
    grids = sorted(str(g) for c in graph.subjects(RDF.type, KIK.IntegrationConcept)
                   for g in graph.objects(c, KIK.challengeGrid))
    below: set[str] = set()
    for cls, segment in ((KIK.ActionField, "handlungsfeld"), (KIK.StrategicGoal, "ziel")):
        marker = f"/{segment}/"
        for s in graph.subjects(RDF.type, cls):
            text, at = str(s), str(s).find(marker)
            while at >= 0:
                below.add(text[:at])
                at = text.find(marker, at + 1)
    meta = {
        "graph": graph_name,
        "triples": len(rows),
        "subjects": sorted({key[0] for key, _, _ in rows}),
        "objects": sorted({key[2] for key, _, (_, _, o) in rows if not isinstance(o, Literal)}),
        "statistics": statistics(graph),
        "concepts": concepts,
        "grids": grids,
        "below": sorted(below),
    }
    with (target / "meta.pickle").open("wb") as stream:
        pickle.dump(meta, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return meta


def _make(job: tuple[str, str | None, Path]) -> tuple[str, object]:
    """Make one piece in ``cache/<key>`` (written to a temporary folder, renamed when complete);
    ("ok", triples) or ("error", SourceError fields): a SourceError does not survive pickling."""
    from kg.validate import chunk_findings

    key, folder, cache = job
    target = cache / key
    partial = cache / f"{key}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        if folder is None:
            graph = parse_turtle(VOCABULARIES, scope="vocabularies") if VOCABULARIES.is_file() else Graph()
            name, report = str(VOCAB_GRAPH), None
        else:
            settings = read_settings(Path(folder))
            graph = Graph(identifier=URIRef(settings.base))
            municipality_graph(settings, into=graph)
            name = settings.base
            vocab = _SHARED["vocab"]
            report = chunk_findings([graph], vocab, _SHARED["shapes"])
        meta = _write_piece(partial, graph, name, report, _SHARED["context"])
        try:
            partial.rename(target)
        except OSError:  # made meanwhile by another build: the same bytes
            shutil.rmtree(partial, ignore_errors=True)
        return "ok", meta["triples"]
    except SourceError as error:
        shutil.rmtree(partial, ignore_errors=True)
        return "error", tuple(getattr(error, f.name) for f in fields(error))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


# --- the plan: which pieces exist, which must be made --------------------------------------------------


def cache_dir(dist: Path) -> Path:
    return dist.parent / ".kg-builds" / CACHE_FOLDER


def make_pieces(data_dirs: list[Path], dist: Path, shapes: Graph, context: dict | None, jobs: int,
                tick: Callable[[int, int], None] = lambda done, total: None) -> list[Piece]:
    """The vocabularies' piece, then one piece per data folder (in the given order); pieces not in the
    cache are made, in ``jobs`` forked processes, one folder a task (memory bounded by the largest
    folder, not by the dataset). Raises the first SourceError in folder order."""
    check_settings(data_dirs)
    cache = cache_dir(dist)
    cache.mkdir(parents=True, exist_ok=True)
    common = common_key()
    wanted: list[tuple[str, str | None]] = [(hashlib.sha256(f"{common}\0vocabularies".encode()).hexdigest(), None)]
    wanted += [(folder_key(Path(folder), common), str(Path(folder))) for folder in data_dirs]
    todo = [(key, folder, cache) for key, folder in wanted if not _complete(cache / key)]
    tick(0, len(todo))
    if todo:
        vocab = Graph(identifier=VOCAB_GRAPH)
        if VOCABULARIES.is_file():
            parse_turtle(VOCABULARIES, into=vocab, scope="vocabularies")
        _SHARED.update(shapes=shapes, vocab=vocab, context=context)
        try:
            outcomes = dict(_run(todo, jobs, tick))
        finally:
            _SHARED.clear()
        for key, folder in wanted:
            outcome = outcomes.get(key)
            if outcome is not None and outcome[0] == "error":
                raise SourceError(*outcome[1])
    made = {key for key, _, _ in todo}
    pieces = []
    for key, folder in wanted:
        meta_graph = str(VOCAB_GRAPH) if folder is None else None
        piece = Piece(key=key, folder=Path(folder) if folder else None, graph=meta_graph or "", triples=0,
                      reused=key not in made, folder_in_cache=cache / key)
        pieces.append(piece)
    return pieces


def _complete(path: Path) -> bool:
    return all((path / name).is_file() for name in PIECE_FILES)


def _run(todo: list, jobs: int, tick: Callable[[int, int], None]) -> Iterator[tuple[str, tuple]]:
    if jobs <= 1 or len(todo) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for done, job in enumerate(todo, 1):
            yield job[0], _make(job)
            tick(done, len(todo))
        return
    with forked_pool(min(jobs, len(todo)), maxtasksperchild=50) as pool:
        for done, (key, outcome) in enumerate(pool.imap_unordered(_keyed_make, todo, chunksize=1), 1):
            yield key, outcome
            tick(done, len(todo))


def _keyed_make(job) -> tuple[str, tuple]:
    return job[0], _make(job)


def prune(dist: Path, pieces: list[Piece]) -> None:
    """Remove cache entries this build did not use (and left-over partial ones)."""
    used = {piece.key for piece in pieces}
    cache = cache_dir(dist)
    for entry in cache.iterdir() if cache.is_dir() else ():
        if entry.name not in used:
            shutil.rmtree(entry, ignore_errors=True)


# --- can the pieces be combined? ------------------------------------------------------------------------


def load_metas(pieces: list[Piece]) -> list[dict]:
    metas = [piece.meta() for piece in pieces]
    for piece, meta in zip(pieces, metas):
        piece.graph, piece.triples = meta["graph"], meta["triples"]
    return metas


def independent(metas: list[dict]) -> bool:
    """Per-folder findings combine into the union's report (see ``kg.validate.independent``)."""
    from kg.validate import independent as parts_independent

    vocab, parts = metas[0], [m for m in metas[1:] if m["triples"]]
    return parts_independent([m["subjects"] for m in parts], [m["objects"] for m in parts],
                             vocab["subjects"], vocab["objects"])


def statistics_combine(metas: list[dict]) -> bool:
    """Per-piece statistics add up to the union's when no piece reaches another's concepts: none has
    as object a concept or challenge grid of another, and no action field or goal of one sits below
    another's concept IRI (``kg.stats`` counts those by IRI)."""
    owner: dict[str, int] = {}
    for index, meta in enumerate(metas):
        for iri in (*meta["concepts"], *meta["grids"]):
            if owner.setdefault(f"<{iri}>", index) != index:
                return False
    for index, meta in enumerate(metas):
        for obj in meta["objects"]:
            if owner.get(obj, index) != index:
                return False
        for key in meta["below"]:
            if owner.get(f"<{key}>", index) != index:
                return False
    return True


def combined_statistics(metas: list[dict]) -> dict:
    """``kg.stats.statistics`` of the union, from the pieces' (valid when ``statistics_combine``)."""
    classes: Counter = Counter()
    completeness = []
    for meta in metas:
        classes.update(meta["statistics"]["classes"])
        completeness += meta["statistics"]["completeness"]
    return {
        "triples": sum(meta["triples"] for meta in metas),
        "classes": dict(sorted(classes.items(), key=lambda item: (-item[1], item[0]))),
        "activities_not_measures": sum(meta["statistics"]["activities_not_measures"] for meta in metas),
        "completeness": sorted(completeness, key=lambda report: report["concept"]),
    }


def combined_report(pieces: list[Piece]):
    from kg.validate import merge_findings

    return merge_findings([piece.report() for piece in pieces if piece.folder is not None])


def union_graph(pieces: list[Piece]) -> Graph:
    """The union as one rdflib graph (only where the statistics need it)."""
    graph = Graph()
    bind_prefixes(graph)
    for piece in pieces:
        graph.parse(piece.path("triples.nt"), format="nt")
    return graph


# --- writing the union's dumps from the pieces -------------------------------------------------------------


def _merged_lines(paths: list[Path]) -> Iterator[str]:
    """The lines of sorted files in one sorted stream, each distinct line once. Sorting N-Triples
    lines sorts by (subject, predicate, object) text: a term that is a prefix of another is followed
    by a space, which sorts before every character that may continue a term."""
    streams = [path.open(encoding="utf-8") for path in paths]
    try:
        last = None
        for line in heapq.merge(*streams):
            if line != last:
                yield line
                last = line
    finally:
        for stream in streams:
            stream.close()


def _nquads(pieces: list[Piece]) -> Iterator[str]:
    """N-Quads sorted by graph, subject, predicate, object: each graph's sorted triples in turn."""
    for piece in sorted((p for p in pieces if p.triples), key=lambda p: f"<{p.graph}>"):
        name = f" <{piece.graph}> .\n"
        with piece.path("triples.nt").open(encoding="utf-8") as stream:
            for line in stream:
                yield line[:-3] + name


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 20_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))


def write_dumps(pieces: list[Piece], folder: Path, context: dict | None, store: Path, jobs: int = 1,
                step: Callable[[str], None] = lambda name: None, previous: Path | None = None) -> None:
    """Every dump of ``kg.export.DUMP_FORMATS`` with its gzip copy, JSON-LD and the on-disk store,
    streamed from the pieces (no format is held in memory whole): N-Triples and N-Quads by merging
    the pieces' sorted lines; Turtle, RDF/XML and TriG re-written by Oxigraph from those; JSON-LD by
    merging the pieces' node objects in id order. After the first two, the writers run side by side
    in ``jobs`` forked processes; the pages' data (``kg.page_summaries``) is read from the store.
    The store is the ``previous`` build's, changed by the pieces that differ, when that build was
    made from pieces too (``update_store``)."""
    _TASK_ARGS[:] = [pieces, folder, context, store, previous]
    try:
        _run_tasks(["kg.nt", "kg.nq"], jobs, step)
        later = [name for name, (fmt, _) in DUMP_FORMATS.items() if fmt not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)]
        _run_tasks(["store", JSONLD_FILE, *later, "kg.nt.gz", "kg.nq.gz"], jobs, step)
    finally:
        _TASK_ARGS.clear()


_TASK_ARGS: list = []  # (pieces, folder, context, store) for the forked writers


def _run_tasks(names: list[str], jobs: int, step: Callable[[str], None]) -> None:
    """The outputs in forked processes, except the store: it is written in this process meanwhile
    (a forked child that opens RocksDB after its parent did can hang on the parent's locks)."""
    here = [name for name in names if name == "store"]
    there = [name for name in names if name != "store"]
    if jobs <= 1 or len(there) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for name in [*here, *there]:
            step(_task(name))
        return
    with forked_pool(min(jobs, len(there))) as pool:
        pending = [pool.apply_async(_task, (name,), callback=step) for name in there]  # step as each ends
        for name in here:
            step(_task(name))
        for result in pending:
            result.get()


def _task(name: str) -> str:
    """Write one output (and gzip it, except the two that the other writers still read)."""
    from kg.export import gzip_copies

    pieces, folder, context, store, previous = _TASK_ARGS
    if name == "kg.nt":
        _write_lines(folder / "kg.nt", _merged_lines([p.path("triples.nt") for p in pieces if p.triples]))
    elif name == "kg.nq":
        _write_lines(folder / "kg.nq", _nquads(pieces))
    elif name.endswith(".gz"):
        gzip_copies(folder, [name.removesuffix(".gz")])
    elif name == "store":
        if previous is None or not update_store(pieces, store, previous):
            write_store(folder, store)
        write_store_pieces(pieces, store)
        page_summaries.write(folder, store)  # the pages' data, asked of the store once here, not per server start
    elif name == JSONLD_FILE:
        write_jsonld(pieces, folder / JSONLD_FILE, context)
        gzip_copies(folder, [name])
    else:
        rdf_format, with_graphs = DUMP_FORMATS[name]
        source = folder / ("kg.nq" if with_graphs else "kg.nt")
        items = ox.parse(path=str(source), format=ox.RdfFormat.N_QUADS if with_graphs else ox.RdfFormat.N_TRIPLES)
        if not with_graphs:
            items = (ox.Triple(q.subject, q.predicate, q.object) for q in items)
        ox.serialize(items, output=str(folder / name), format=rdf_format,
                     prefixes=PREFIXES if rdf_format in _PREFIXED else None)
        gzip_copies(folder, [name])
    return name


def write_store(folder: Path, path: Path) -> None:
    """As ``kg.export.write_store``: every named graph, and the union as the default graph."""
    store = ox.Store(str(path))  # parsed and loaded as a stream; bulk_load would rename the blank nodes
    default = ox.DefaultGraph()
    quads = ox.parse(path=str(folder / "kg.nq"), format=ox.RdfFormat.N_QUADS)
    union = (ox.Quad(t.subject, t.predicate, t.object, default)
             for t in ox.parse(path=str(folder / "kg.nt"), format=ox.RdfFormat.N_TRIPLES))
    for chunk in _chunks(itertools.chain(quads, union)):  # one bulk_extend of everything held ~1 GB at 400
        store.bulk_extend(chunk)
    store.flush()
    store.optimize()
    del store


def _store_pieces_file(store: Path) -> Path:
    """Beside a build's store: which pieces (key → graph) it holds, for the next build's update."""
    return store.with_name(store.name + ".pieces.json")


def write_store_pieces(pieces: list[Piece], store: Path) -> None:
    _store_pieces_file(store).write_text(json.dumps({p.key: p.graph for p in pieces}, sort_keys=True), encoding="utf-8")


def update_store(pieces: list[Piece], store: Path, previous: Path) -> bool:
    """Make ``store`` a copy of the ``previous`` store (a RocksDB checkpoint: hard links, no
    rewrite) with the quads of pieces no longer used removed and those of new pieces added, in
    their named graph and in the default graph (the union). Removing a piece's triples from the
    union is right because the pieces are independent (no triple is in two of them), as the
    previous build's were: it too was made from pieces. False (nothing done) when there is no such
    store or too much changed to be worth it."""
    known = _store_pieces_file(previous)
    if not previous.is_dir() or not known.is_file():
        return False
    before: dict[str, str] = json.loads(known.read_text(encoding="utf-8"))
    now = {piece.key: piece for piece in pieces}
    gone = [key for key in before if key not in now]
    came = [piece for piece in pieces if piece.key not in before]
    cache = pieces[0].folder_in_cache.parent
    if len(gone) + len(came) > max(8, len(pieces) // 8) or not all((cache / key / "triples.nt").is_file() for key in gone):
        return False
    ox.Store.read_only(str(previous)).backup(str(store))
    target = ox.Store(str(store))
    default = ox.DefaultGraph()
    graphs_now = {piece.graph for piece in pieces if piece.triples}
    for key in gone:
        graph = ox.NamedNode(before[key])
        for t in ox.parse(path=str(cache / key / "triples.nt"), format=ox.RdfFormat.N_TRIPLES):
            target.remove(ox.Quad(t.subject, t.predicate, t.object, graph))
            target.remove(ox.Quad(t.subject, t.predicate, t.object, default))
        if before[key] not in graphs_now and target.contains_named_graph(graph):
            target.remove_graph(graph)
    for graph in list(target.named_graphs()):  # graphs a build adds beside the pieces' (kg.portal): made anew
        if graph.value not in graphs_now and graph.value not in before.values():
            target.remove_graph(graph)
    for piece in came:
        if not piece.triples:
            continue
        graph = ox.NamedNode(piece.graph)
        triples = list(ox.parse(path=str(piece.path("triples.nt")), format=ox.RdfFormat.N_TRIPLES))
        target.extend([ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
                      + [ox.Quad(t.subject, t.predicate, t.object, default) for t in triples])
    target.flush()
    del target
    return True


def _chunks(items: Iterable, size: int = STORE_CHUNK) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def write_jsonld(pieces: list[Piece], path: Path, context: dict | None) -> None:
    """``kg.jsonld.document`` of every piece's node objects, in id order, written as it is merged."""
    if context is None:  # no context: rdflib's serializer over the union, as kg.jsonld does
        path.write_bytes(union_graph(pieces).serialize(format="json-ld", encoding="utf-8"))
        return
    marker = "\u0001kik-node\u0001"
    frame = jsonld.document([("", marker)], context).decode("utf-8")
    streams = [p.path("nodes.jsonl").open(encoding="utf-8") for p in pieces if p.triples]
    try:
        nodes = heapq.merge(*((tuple(json.loads(line)) for line in stream) for stream in streams),
                            key=lambda item: item[0])
        first = next(nodes, None)
        if first is None:
            path.write_bytes(jsonld.document([], context))
            return
        head, tail = frame.split(marker)
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(head)
            out.write(first[1])
            for _, text in nodes:
                out.write(",\n    ")
                out.write(text)
            out.write(tail)
    finally:
        for stream in streams:
            stream.close()
