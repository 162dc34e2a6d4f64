"""The ontology and the shapes at their IRIs: RDF from dist/, and pages a person can read.

The ontology page lists every class and property with its German and English label and
definition, its place in the hierarchy, and examples from the data; the shapes page lists each
shape with its target and constraints.
"""

from __future__ import annotations

from functools import lru_cache

from flask import render_template
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH

from kg.namespace import KIK
from server.publishing import build_info
from server.publishing.iri import dataset_base, public_base, to_local
from server.publishing.terms import curie, label

KINDS = ((OWL.Class, "classes"), (OWL.ObjectProperty, "object_properties"),
         (OWL.DatatypeProperty, "datatype_properties"), (OWL.AnnotationProperty, "annotation_properties"))
EXAMPLES = """
SELECT DISTINCT ?s WHERE {{ ?s a <{cls}> . FILTER(isIRI(?s)) }} ORDER BY ?s LIMIT 3
"""
PROPERTY_USES = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{prop}> ?o }}"
PROPERTY_EXAMPLE = "SELECT ?s WHERE {{ ?s <{prop}> ?o FILTER(isIRI(?s)) }} ORDER BY ?s LIMIT 1"


@lru_cache(maxsize=8)
def _parse(path: str, mtime: float) -> Graph:
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


def dist_graph(name: str) -> Graph:
    """A Turtle file of the served build, parsed once per version of the file."""
    path = build_info.dist_dir() / name
    try:
        return _parse(str(path), path.stat().st_mtime)
    except (OSError, SyntaxError, ValueError):
        return Graph()


def ontology_graph() -> Graph:
    return dist_graph("ontology.ttl")


def is_current_version(iri: str) -> bool:
    """Whether ``iri`` is the served ontology's ``owl:versionIRI`` (older versions are not kept)."""
    return (None, OWL.versionIRI, URIRef(iri)) in ontology_graph()


def shapes_graph() -> Graph:
    return dist_graph("shapes.ttl")


def _text(graph: Graph, node, predicate, lang: str) -> str | None:
    values = {v.language: str(v) for v in graph.objects(node, predicate) if isinstance(v, Literal)}
    return values.get(lang) or values.get(None)


def _link(graph: Graph, node, lang: str = "de") -> dict:
    return {"text": label(graph, node, lang) or curie(str(node)), "curie": curie(str(node)), "href": to_local(str(node)),
            "anchor": str(node).rpartition("#")[2]}


def term_view(graph: Graph, node: URIRef) -> dict:
    """One class or property: labels and definitions in both languages, relations, examples."""
    store = build_info.store()
    view = {
        **_link(graph, node),
        "iri": str(node),
        "label_de": _text(graph, node, RDFS.label, "de"), "label_en": _text(graph, node, RDFS.label, "en"),
        "comment_de": _text(graph, node, RDFS.comment, "de"), "comment_en": _text(graph, node, RDFS.comment, "en"),
        "super": [_link(graph, o) for o in graph.objects(node, RDFS.subClassOf) if isinstance(o, URIRef)]
        + [_link(graph, o) for o in graph.objects(node, RDFS.subPropertyOf) if isinstance(o, URIRef)],
        "sub": [_link(graph, s) for s in graph.subjects(RDFS.subClassOf, node)],
        "domain": [_link(graph, o) for o in graph.objects(node, RDFS.domain) if isinstance(o, URIRef)],
        "range": [_link(graph, o) for o in graph.objects(node, RDFS.range) if isinstance(o, URIRef)],
        "examples": [], "uses": None,
    }
    if (node, RDF.type, OWL.Class) in graph:
        view["examples"] = [{"text": row["s"].value.replace(dataset_base(), ""), "href": to_local(row["s"].value)}
                            for row in store.select(EXAMPLES.format(cls=node))]
    else:
        view["uses"] = int(store.select(PROPERTY_USES.format(prop=node))[0]["n"].value)
        view["examples"] = [{"text": row["s"].value.replace(dataset_base(), ""), "href": to_local(row["s"].value)}
                            for row in store.select(PROPERTY_EXAMPLE.format(prop=node))]
    return view


def ontology_html(graph: Graph, lang: str) -> str:
    ontology = URIRef(dataset_base() + "ontology")
    namespace = str(KIK._NS)
    sections = []
    for kind, key in KINDS:
        terms = sorted((s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef) and str(s).startswith(namespace)), key=str)
        if terms:
            sections.append({"key": key, "terms": [term_view(graph, t) for t in terms]})
    return render_template(
        "ld/ontology.html", lang=lang, sections=sections, url=public_base() + "ontology",
        title=_text(graph, ontology, DCTERMS.title, lang) or "Ontologie",
        description=_text(graph, ontology, DCTERMS.description, lang),
        version=graph.value(ontology, OWL.versionInfo), namespace=namespace,
    )


def _path(graph: Graph, path) -> str:
    if isinstance(path, URIRef):
        return curie(str(path))
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path(graph, inverse)
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return " | ".join(_path(graph, p) for p in graph.items(alternatives))
    return " / ".join(_path(graph, p) for p in graph.items(path)) or "…"


def shapes_html(graph: Graph, lang: str) -> str:
    shapes = []
    for shape in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        targets = [curie(str(o)) for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                   for o in graph.objects(shape, p)]
        constraints = []
        for prop in graph.objects(shape, SH.property):
            path = graph.value(prop, SH.path)
            details = [f"{curie(str(p))} {curie(str(o)) if isinstance(o, URIRef) else o}"
                       for p, o in sorted(graph.predicate_objects(prop)) if p not in (SH.path, SH.message, SH.name, SH.description)
                       and not isinstance(o, BNode)]
            constraints.append({"path": _path(graph, path) if path is not None else "—",
                                "message": _text(graph, prop, SH.message, lang) or _text(graph, prop, SH.message, "de"),
                                "details": details,
                                "severity": curie(str(graph.value(prop, SH.severity) or SH.Violation))})
        shapes.append({"iri": str(shape), "curie": curie(str(shape)), "anchor": str(shape).rpartition("#")[2],
                       "label": label(graph, shape, lang), "targets": targets,
                       "constraints": sorted(constraints, key=lambda c: c["path"])})
    return render_template("ld/shapes.html", lang=lang, shapes=shapes, url=public_base() + "shapes",
                           title=label(graph, URIRef(dataset_base() + "shapes"), lang) or "SHACL-Formen")


