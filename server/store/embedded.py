"""The embedded store: pyoxigraph, loaded from dist/ (the default; the interface is ``interface.Store``).

An external SPARQL 1.1 store can take its place behind the same methods (``external``). Views never
import pyoxigraph themselves.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.export import store_dir
from server.store.interface import DistUnavailable


@dataclass(frozen=True)
class StoreSpec:
    """How to open the same data again in another process (the SPARQL endpoint's query workers).

    ``files`` holds (path, media type, graph IRI or None) triples; a graph IRI puts a triple file's
    content into that named graph, None keeps the file's own graphs (N-Quads, TriG) or the default graph.
    """

    files: tuple[tuple[str, str, str | None], ...]
    union_default_graph: bool = True
    # an on-disk store written by the build (union already in the default graph, see kg.export.write_store):
    # opened read-only instead of loading ``files``
    store_path: str | None = None


def open_store(spec: StoreSpec, materialize_union: bool = False) -> ox.Store:
    """An in-memory Oxigraph store with the spec's files loaded.

    ``materialize_union`` also copies every triple into the default graph, so that the union is the
    default graph *and* a query's own FROM / FROM NAMED still work (Oxigraph's
    ``use_default_graph_as_union`` would override them).
    """
    if spec.store_path:
        return ox.Store.read_only(spec.store_path)
    store = ox.Store()
    for path, media_type, graph in spec.files:
        store.bulk_load(
            path=path,
            format=ox.RdfFormat.from_media_type(media_type),
            base_iri=Path(path).resolve().as_uri(),  # relative IRIs in a file resolve against the file
            to_graph=ox.NamedNode(graph) if graph else None,
        )
    if materialize_union and spec.union_default_graph:
        store.extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in store])
    return store


@dataclass
class EmbeddedStore:
    """An in-memory Oxigraph store holding one build; the default graph is the union of all graphs."""

    store: ox.Store
    build: dict
    dist: Path
    spec: StoreSpec | None = None

    @classmethod
    def from_dist(cls, dist: Path) -> "EmbeddedStore":
        """The build's on-disk store (written by ``kg build`` beside the build folder) if it has one,
        else its kg.nq loaded into memory."""
        dump = dist / "kg.nq"
        manifest = dist / "build.json"
        on_disk = store_dir(Path(os.path.realpath(dist)))
        spec = StoreSpec(files=((str(dump.resolve()), "application/n-quads", None),),
                         store_path=str(on_disk.resolve()) if (on_disk / "CURRENT").is_file() else None)
        try:
            build = json.loads(manifest.read_text(encoding="utf-8"))
            store = open_store(spec)
        except (OSError, ValueError, SyntaxError) as error:
            raise DistUnavailable(f"cannot load the build from {dist}: {error}. Run `kg build` first.") from error
        return cls(store=store, build=build, dist=dist.resolve(), spec=spec)

    @classmethod
    def from_files(cls, files: list[tuple[Path, str, str | None]], build: dict | None = None) -> "EmbeddedStore":
        """A store over arbitrary RDF files whose default graph is its own (not the union): for tests."""
        spec = StoreSpec(
            files=tuple((str(Path(path).resolve()), media_type, graph) for path, media_type, graph in files),
            union_default_graph=False,
        )
        return cls(store=open_store(spec), build=build or {}, dist=Path("."), spec=spec)

    @property
    def union(self) -> bool:
        """Whether queries ask Oxigraph for the union: not needed where the default graph already is it."""
        if self.spec and self.spec.store_path:
            return False
        return self.spec.union_default_graph if self.spec else True

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        solutions = self.store.query(query, use_default_graph_as_union=self.union)
        names = [variable.value for variable in solutions.variables]
        return [{name: solution[name] for name in names if solution[name] is not None} for solution in solutions]

    def ask(self, query: str) -> bool:
        return bool(self.store.query(query, use_default_graph_as_union=self.union))

    def construct(self, query: str) -> list[ox.Triple]:
        return list(self.store.query(query, use_default_graph_as_union=self.union))
