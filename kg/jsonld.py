"""The JSON-LD dump (kg.jsonld): rdflib's JSON-LD converter with our context, in parallel pieces.

rdflib's converter costs ~40 µs a triple, and the whole graph had to be copied into one more rdflib
graph for it. Here the triples are split into pieces that share no node the converter looks at
(a subject with the blank nodes and list nodes it reaches), each piece is converted in a forked
process, and the node objects are written in the order of their ids: the same document for the same
triples whatever the pieces or the process (rdflib alone orders nodes by Python's string hashes).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import defaultdict

from rdflib import RDF, BNode, Graph
from rdflib.plugins.serializers.jsonld import Converter
from rdflib.plugins.shared.jsonld.context import Context
from rdflib.term import Node

Triple = tuple[Node, Node, Node]

PARALLEL_MIN_TRIPLES = 100_000  # below this, converting in this process is quicker than forking
_DUMP = {"indent": 2, "separators": (",", ": "), "sort_keys": True, "ensure_ascii": False}  # as rdflib's serializer
_PIECES: list[list[Triple]] = []  # handed to forked workers by inheritance, not by pickling
_CONTEXT: list[dict] = []


def pieces(triples: list[Triple], count: int) -> list[list[Triple]]:
    """Split the triples into at most ``count`` pieces of about equal size, keeping together every
    subject with the blank nodes and RDF list nodes it points to (the converter reads those), in
    their given order."""
    list_nodes = {s for s, p, _ in triples if p == RDF.first}
    parent: dict[Node, Node] = {}

    def root(node: Node) -> Node:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for s, _, o in triples:
        first = root(s)
        if isinstance(o, BNode) or o in list_nodes:
            other = root(o)
            if other != first:
                parent[other] = first
    sizes: dict[Node, int] = defaultdict(int)
    for s, _, _ in triples:
        sizes[root(s)] += 1
    target = -(-len(triples) // max(1, count))
    assigned: dict[Node, int] = {}
    filled = [0]
    for component, size in sizes.items():  # components in order of first appearance
        if filled[-1] >= target and len(filled) < count:
            filled.append(0)
        assigned[component] = len(filled) - 1
        filled[-1] += size
    result: list[list[Triple]] = [[] for _ in filled]
    for triple in triples:
        result[assigned[root(triple[0])]].append(triple)
    return result


def node_texts(triples: list[Triple], context: dict) -> list[tuple[str, str]]:
    """(id, JSON text) of every node object rdflib's converter makes from the triples, sorted by
    id; each text indented to sit in the document's node list."""
    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in triples)
    converter = Converter(Context(context), use_native_types=True, use_rdf_type=False)
    id_key = converter.context.id_key
    nodes = converter.from_graph(graph)
    texts = [(node[id_key], json.dumps(node, **_DUMP).replace("\n", "\n    ")) for node in nodes]
    texts.sort(key=lambda item: item[0])
    return texts


def document(texts: list[tuple[str, str]], context: dict) -> bytes:
    """The document {context, node list}, byte for byte as ``json.dumps`` would write it."""
    graph_key = Context(context).graph_key
    marker = "\u0001kik-nodes\u0001"
    frame = json.dumps({"@context": context, graph_key: [marker]}, **_DUMP)
    head, tail = frame.split(json.dumps(marker, ensure_ascii=False))
    if not texts:
        return json.dumps({"@context": context, graph_key: []}, **_DUMP).encode("utf-8")
    return (head + ",\n    ".join(text for _, text in texts) + tail).encode("utf-8")


def _piece(index: int) -> list[tuple[str, str]]:
    return node_texts(_PIECES[index], _CONTEXT[0])


class JsonLdWriter:
    """Starts converting on entry (in forked processes if the data is large), so the caller can
    write the other dumps meanwhile; ``result()`` gives the document's bytes."""

    def __init__(self, triples: list[Triple], context: dict | None, workers: int | None = None):
        self.triples = triples
        self.context = context
        self.workers = workers or os.cpu_count() or 1
        self.pool = None
        self.pending = None

    def __enter__(self) -> JsonLdWriter:
        parallel = (self.context is not None and self.workers > 1 and len(self.triples) >= PARALLEL_MIN_TRIPLES
                    and "fork" in multiprocessing.get_all_start_methods())
        if parallel:
            _PIECES[:] = pieces(self.triples, self.workers)
            _CONTEXT[:] = [self.context]
            self.pool = multiprocessing.get_context("fork").Pool(len(_PIECES))
            self.pending = self.pool.map_async(_piece, range(len(_PIECES)), chunksize=1)
            _PIECES.clear()  # the workers have their copies
        return self

    def result(self) -> bytes:
        if self.context is None:
            graph = Graph()
            graph.addN((s, p, o, graph) for s, p, o in self.triples)
            return graph.serialize(format="json-ld", encoding="utf-8")
        if self.pending is None:
            texts = node_texts(self.triples, self.context)
        else:
            texts = [text for piece in self.pending.get() for text in piece]
            texts.sort(key=lambda item: item[0])
        return document(texts, self.context)

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate() if exc[0] is not None else self.pool.close()
            self.pool.join()
        _CONTEXT.clear()
