"""Sources → one RDF dataset: a named graph per municipality plus the shared vocabularies.

Pure functions: they read the source folders and return graphs; writing dist/ is ``kg.export``'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rdflib import Dataset, Graph, URIRef

from kg.errors import SourceError
from kg.measures import measures_triples
from kg.namespace import VOCAB_GRAPH, bind_prefixes
from kg.sources import DatasetSettings, measures_file, parse_turtle, read_settings, turtle_files

REPOSITORY = Path(__file__).resolve().parents[1]
VOCABULARIES = REPOSITORY / "ontology" / "vocabularies.ttl"

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def municipality_graph(settings: DatasetSettings, progress: Progress = _quiet, into: Graph | None = None) -> Graph:
    """All triples of one municipality folder: its Turtle files, then its measures table.

    ``into`` (e.g. the dataset's named graph) receives the triples directly: every copy of a triple
    into another rdflib graph costs as much as parsing it.
    """
    graph = into if into is not None else Graph()
    bind_prefixes(graph)
    files = turtle_files(settings.folder)
    if not files:
        raise SourceError(
            settings.folder, None, None,
            "keine Turtle-Dateien (*.ttl) im Datenordner.", "Konzept, Ziele und Raster als Turtle anlegen (siehe docs/sources.md).",
            "no Turtle files (*.ttl) in the data folder.", "declare concept, goals and grid in Turtle (see docs/sources.md).",
        )
    for path in files:
        progress(f"  {path}")
        parse_turtle(path, into=graph, scope=f"{settings.id}/{path.name}")  # ids unique per build, not per checkout
    table = measures_file(settings.folder)  # massnahmen.csv, .xlsx or .ods
    if table is not None:
        progress(f"  {table}")
        graph.addN((s, p, o, graph) for s, p, o in measures_triples(table, settings, graph))
    return graph


def check_settings(data_dirs: list[Path]) -> list[DatasetSettings]:
    """Every folder's settings, each id and base used once (two folders must not share a graph)."""
    seen: dict[str, Path] = {}
    found = []
    for folder in data_dirs:
        settings = read_settings(Path(folder))
        for key, value in (("id", settings.id), ("base", settings.base)):
            if value in seen:
                raise SourceError(
                    settings.folder / "datensatz.toml", None, key,
                    f"„{value}“ wird schon von {seen[value]} benutzt.", f"Jedem Datenordner eine eigene {key}-Angabe geben.",
                    f"'{value}' is already used by {seen[value]}.", f"give each data folder its own {key}.",
                )
            seen[value] = settings.folder
        found.append(settings)
    return found


def build_dataset(data_dirs: list[Path], progress: Progress = _quiet) -> Dataset:
    """Build the whole dataset; raises SourceError on the first problem found in the sources."""
    dataset = Dataset()
    bind_prefixes(dataset)
    for settings in check_settings(data_dirs):
        progress(f"{settings.folder} → <{settings.base}>")
        municipality_graph(settings, progress, into=dataset.graph(URIRef(settings.base)))
    if VOCABULARIES.is_file():
        vocab = dataset.graph(VOCAB_GRAPH)
        parse_turtle(VOCABULARIES, into=vocab, scope="vocabularies")
    return dataset


def union_graph(dataset: Dataset) -> Graph:
    """Every triple of every named graph in one graph of its own, e.g. for SHACL."""
    union = Graph()
    bind_prefixes(union)
    for graph in dataset.graphs():
        union += graph
    return union


class UnionView(Graph):
    """Every triple of every graph of a dataset, read from the dataset's store: a copy-free
    ``union_graph`` for reading (statistics, counts). Not for pyshacl, which wants a graph of its own."""

    def __init__(self, dataset: Dataset):
        super().__init__(store=dataset.store, namespace_manager=dataset.namespace_manager)

    def triples(self, triple, context=None):  # type: ignore[override]
        for found, _ in self.store.triples(triple, context=None):
            yield found

    def __len__(self) -> int:
        return self.store.__len__(context=None)  # type: ignore[call-arg]

    def add(self, triple):  # type: ignore[override]
        raise TypeError("UnionView is read-only")

    def addN(self, quads):  # type: ignore[override]
        raise TypeError("UnionView is read-only")

    def remove(self, triple):  # type: ignore[override]
        raise TypeError("UnionView is read-only")
