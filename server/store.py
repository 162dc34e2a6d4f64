"""The one small interface every view uses to read the graph.

The embedded store (pyoxigraph, loaded from dist/) is the default; an external SPARQL 1.1 store can
take its place behind the same methods (another issue). Views never import pyoxigraph themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox


class Store(Protocol):
    """What the server needs from a triple store: trusted, quick reads."""

    build: dict

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]: ...

    def ask(self, query: str) -> bool: ...

    def construct(self, query: str) -> list[ox.Triple]: ...


class DistUnavailable(RuntimeError):
    """dist/ is missing or unreadable: the server must not start half-working."""


@dataclass
class EmbeddedStore:
    """An in-memory Oxigraph store holding one build; the default graph is the union of all graphs."""

    store: ox.Store
    build: dict
    dist: Path

    @classmethod
    def from_dist(cls, dist: Path) -> "EmbeddedStore":
        dump = dist / "kg.nq"
        manifest = dist / "build.json"
        try:
            build = json.loads(manifest.read_text(encoding="utf-8"))
            store = ox.Store()
            store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        except (OSError, ValueError, SyntaxError) as error:
            raise DistUnavailable(f"cannot load the build from {dist}: {error}. Run `kg build` first.") from error
        return cls(store=store, build=build, dist=dist.resolve())

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        solutions = self.store.query(query, use_default_graph_as_union=True)
        names = [variable.value for variable in solutions.variables]
        return [{name: solution[name] for name in names if solution[name] is not None} for solution in solutions]

    def ask(self, query: str) -> bool:
        return bool(self.store.query(query, use_default_graph_as_union=True))

    def construct(self, query: str) -> list[ox.Triple]:
        return list(self.store.query(query, use_default_graph_as_union=True))
