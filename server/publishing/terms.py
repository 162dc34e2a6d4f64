"""How RDF terms look on our HTML pages: labels in the reader's language, CURIEs, local links."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS

from kg.namespace import PREFIXES
from server.publishing.iri import to_local

LABELS = (SKOS.prefLabel, RDFS.label, DCTERMS.title)
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))


def curie(iri: str) -> str:
    """``kik:Measure`` for a known namespace, else the IRI itself."""
    for prefix, namespace in _BY_LENGTH:
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def label(graph: Graph, node, lang: str = "de") -> str | None:
    """The best label of ``node`` in ``lang`` (then German, then any) from the graph."""
    found: dict[str, str] = {}
    for predicate in LABELS:
        for value in graph.objects(node, predicate):
            if isinstance(value, Literal):
                found.setdefault(value.language or "", str(value))
        if found:
            break
    for key in (lang, "de", "en", ""):
        if key in found:
            return found[key]
    return next(iter(found.values()), None)


def view(graph: Graph, term, lang: str = "de") -> dict:
    """A term ready for a template: text, link (local for dataset IRIs), and details."""
    if isinstance(term, URIRef):
        text = label(graph, term, lang)
        return {"kind": "iri", "text": text or curie(str(term)), "href": to_local(str(term)), "iri": str(term),
                "curie": curie(str(term))}
    if isinstance(term, BNode):
        return {"kind": "bnode", "text": "[" + ", ".join(
            f"{curie(str(p))} {label(graph, o, lang) or (curie(str(o)) if isinstance(o, URIRef) else str(o))}"
            for p, o in sorted(graph.predicate_objects(term))) + "]"}
    literal: Literal = term
    return {"kind": "literal", "text": str(literal), "lang": literal.language,
            "datatype": curie(str(literal.datatype)) if literal.datatype else None}


def rows(graph: Graph, subject, lang: str = "de") -> list[dict]:
    """The predicate/object rows of one subject, sorted for a stable page."""
    return [{"predicate": view(graph, p, lang), "object": view(graph, o, lang)}
            for p, o in sorted(graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1])))]
