"""Content negotiation and RDF serialisation: which format a request wants, and its bytes.

One table of formats serves every linked-data response (resources, ontology, shapes, catalog,
VoID, validation report), so they all negotiate, name their alternates and label their
responses the same way. Accept parsing is werkzeug's; serialisation is rdflib's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from werkzeug.datastructures import MIMEAccept

from kg.namespace import bind_prefixes

HTML = "html"


@dataclass(frozen=True)
class Format:
    """One representation: the key used in ``?format=`` and as file extension, and how to write it."""

    key: str
    media_type: str
    rdflib_format: str | None  # None for HTML
    label: str


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format(HTML, "text/html", None, "HTML"),
        Format("ttl", "text/turtle", "turtle", "Turtle"),
        Format("jsonld", "application/ld+json", "json-ld", "JSON-LD"),
        Format("nt", "application/n-triples", "nt", "N-Triples"),
        Format("rdf", "application/rdf+xml", "xml", "RDF/XML"),
        Format("trig", "application/trig", "trig", "TriG"),
    )
}
RDF_KEYS = tuple(key for key in FORMATS if key != HTML)

# other names clients send for the same formats (offered to werkzeug's matcher, mapped back)
ALIASES: dict[str, str] = {
    "application/xhtml+xml": HTML,
    "application/x-turtle": "ttl",
    "application/json": "jsonld",
    "text/plain": "nt",
    "application/xml": "rdf",
    "text/xml": "rdf",
}
# the order decides ties such as ``*/*``: browsers and curl get HTML
_OFFERS = [FORMATS[key].media_type for key in FORMATS] + list(ALIASES)


class NotAcceptable(ValueError):
    """The client accepts none of our formats."""


class UnknownFormat(ValueError):
    """``?format=`` names a format we do not have."""


def choose(accept: MIMEAccept, explicit: str | None = None) -> Format:
    """The format for a request: an explicit ``format``/extension wins, else the Accept header."""
    if explicit:
        key = explicit.lower().lstrip(".")
        if key not in FORMATS:
            raise UnknownFormat(key)
        return FORMATS[key]
    if not accept:
        return FORMATS[HTML]
    match = accept.best_match(_OFFERS)
    if match is None:
        raise NotAcceptable(", ".join(accept.values()))
    return FORMATS[ALIASES.get(match, next((k for k, f in FORMATS.items() if f.media_type == match), HTML))]


def split_extension(path: str) -> tuple[str, str | None]:
    """``hamm/konzept/2018.ttl`` → (``hamm/konzept/2018``, ``ttl``); no known extension → (path, None)."""
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and extension.lower() in FORMATS:
        return stem, extension.lower()
    return path, None


def link_header(url: str) -> str:
    """``Link`` header value naming every representation of the resource at ``url``."""
    return ", ".join(f'<{url}.{f.key}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS.values())


@lru_cache(maxsize=4)
def _context(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))["@context"]


def load_context(path: Path) -> dict | None:
    """Our JSON-LD @context from dist/ (cached until the file changes); None when absent."""
    try:
        return _context(str(path), path.stat().st_mtime)
    except (OSError, ValueError, KeyError):
        return None


def from_oxigraph(triples: list[ox.Triple], name: str | None = None) -> Graph:
    """Store results as an rdflib graph (through N-Triples, so no term conversion by hand)."""
    graph = Graph(identifier=URIRef(name)) if name else Graph()
    if triples:
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def serialize(graph: Graph, fmt: Format, context: dict | None = None) -> bytes:
    """The graph in an RDF format; JSON-LD is compacted with our context so keys read well."""
    bind_prefixes(graph)
    if fmt.key == "jsonld":
        if context is not None:
            return graph.serialize(format="json-ld", context=context, auto_compact=True).encode("utf-8")
        return graph.serialize(format="json-ld").encode("utf-8")
    if fmt.key == "trig":
        dataset = Dataset()
        bind_prefixes(dataset)
        target = dataset.graph(graph.identifier) if isinstance(graph.identifier, URIRef) else dataset.default_graph
        for triple in graph:
            target.add(triple)
        return dataset.serialize(format="trig").encode("utf-8")
    return graph.serialize(format=fmt.rdflib_format, encoding="utf-8")
