"""What one resource is: its triples (blank nodes followed), its neighbours' labels, incoming links.

One request then shows a measure with its challenges' names and an actor with its measures.
"""

from __future__ import annotations

import pyoxigraph as ox

from server.store.interface import Store

LABEL_PREDICATES = (
    "<http://www.w3.org/2004/02/skos/core#prefLabel>",
    "<http://www.w3.org/2000/01/rdf-schema#label>",
    "<http://purl.org/dc/terms/title>",
)
_LABELS = ", ".join(LABEL_PREDICATES)

DESCRIBE_QUERY = """
CONSTRUCT {{ ?s ?p ?o . ?n ?lp ?label . }}
WHERE {{
  {{ BIND(<{iri}> AS ?s) <{iri}> ?p ?o . }}
  UNION {{ BIND(<{iri}> AS ?x) ?x ?xp ?s . FILTER(isBlank(?s) || STRSTARTS(STR(?s), CONCAT(STR(<{iri}>), "#"))) ?s ?p ?o . }}
  UNION {{ ?s ?p <{iri}> . BIND(<{iri}> AS ?o) }}
  UNION {{ <{iri}> ?any ?n . ?n ?lp ?label . FILTER(?lp IN ({labels})) }}
  UNION {{ ?n ?any <{iri}> . ?n ?lp ?label . FILTER(?lp IN ({labels})) }}
}}
"""
# The neighbours' labels are looked up from each neighbour (``?n ?lp ?label`` after ``?n`` is bound):
# with ``VALUES ?lp`` joined afterwards Oxigraph read every label of the store (3 s at 400
# municipalities instead of 8 ms).


def describe(store: Store, iri: str) -> list[ox.Triple]:
    """The triples that describe ``iri`` for dereferencing and for its page."""
    if any(ch in iri for ch in '<>"{}|^`\\ \n'):
        return []
    return store.construct(DESCRIBE_QUERY.format(iri=iri, labels=_LABELS))


def exists(store: Store, iri: str) -> bool:
    """Whether the graph says anything about ``iri`` as a subject."""
    if any(ch in iri for ch in '<>"{}|^`\\ \n'):
        return False
    return store.ask(f"ASK {{ <{iri}> ?p ?o }}")
