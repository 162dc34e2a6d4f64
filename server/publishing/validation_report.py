"""The SHACL report of the served build at /validation: RDF (dist/validation.ttl) and a page.

The page reads the standard ``sh:ValidationReport`` terms, so it does not depend on how the build
words its JSON; that file is offered as a download beside it.
"""

from __future__ import annotations

from collections import Counter

from flask import render_template
from rdflib import Graph, Literal
from rdflib.namespace import SH

from server.publishing import build_info
from server.publishing import downloads
from server.publishing.iri import public_base, to_local
from server.publishing.ontology_docs import dist_graph
from server.publishing.terms import curie


def report_graph() -> Graph:
    return dist_graph("validation.ttl")


def _message(graph: Graph, result, lang: str) -> str:
    messages = {m.language: str(m) for m in graph.objects(result, SH.resultMessage) if isinstance(m, Literal)}
    return messages.get(lang) or messages.get(None) or next(iter(messages.values()), "")


def report_html(graph: Graph, lang: str) -> str:
    results = []
    for result in graph.subjects(SH.resultSeverity, None):
        focus = graph.value(result, SH.focusNode)
        path = graph.value(result, SH.resultPath)
        shape = graph.value(result, SH.sourceShape)
        results.append({
            "severity": curie(str(graph.value(result, SH.resultSeverity))),
            "focus": {"text": str(focus), "href": to_local(str(focus))} if focus is not None else None,
            "path": curie(str(path)) if path is not None else "",
            "shape": curie(str(shape)) if shape is not None else "",
            "message": _message(graph, result, lang),
        })
    results.sort(key=lambda r: (r["severity"], r["focus"]["text"] if r["focus"] else "", r["path"]))
    conforms = graph.value(None, SH.conforms)
    return render_template(
        "ld/validation.html", lang=lang, results=results, conforms=conforms,
        counts=sorted(Counter(r["severity"] for r in results).items()), build=build_info.build(),
        url=public_base() + "validation", json_url=downloads.download_url("validation.json"),
    )
