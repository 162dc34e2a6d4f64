"""Human names for IRIs: data labels in the chosen language (with a fallback) and names of terms.

Terms of our ontology are named by ``ontology/kik.ttl`` (copied to dist/ontology.ttl); the few
reused standard terms that pages show are named here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from kg.namespace import PREFIXES

REPOSITORY = Path(__file__).resolve().parents[2]
ONTOLOGY_FILE = REPOSITORY / "ontology" / "kik.ttl"

LABEL_IRIS = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://purl.org/dc/terms/title",
    "http://www.w3.org/2000/01/rdf-schema#label",
)

STANDARD_TERMS: dict[str, tuple[str, str]] = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": ("Typ", "type"),
    "http://purl.org/dc/terms/title": ("Titel", "title"),
    "http://purl.org/dc/terms/description": ("Beschreibung", "description"),
    "http://purl.org/dc/terms/isPartOf": ("ist Teil von", "is part of"),
    "http://purl.org/dc/terms/source": ("Quelle", "source"),
    "http://purl.org/dc/terms/issued": ("vorgelegt", "issued"),
    "http://purl.org/dc/terms/dateAccepted": ("beschlossen", "date accepted"),
    "http://purl.org/dc/terms/date": ("Datum", "date"),
    "http://purl.org/dc/terms/identifier": ("Kennung", "identifier"),
    "http://purl.org/dc/terms/format": ("Format", "format"),
    "http://purl.org/dc/terms/publisher": ("Herausgeber", "publisher"),
    "http://purl.org/dc/terms/spatial": ("Ort", "place"),
    "http://purl.org/dc/terms/temporal": ("Zeitraum", "period"),
    "http://purl.org/dc/terms/modified": ("geändert", "modified"),
    "http://www.w3.org/2000/01/rdf-schema#label": ("Bezeichnung", "label"),
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": ("siehe auch", "see also"),
    "http://www.w3.org/2004/02/skos/core#prefLabel": ("Bezeichnung", "preferred label"),
    "http://www.w3.org/2004/02/skos/core#altLabel": ("andere Bezeichnung", "alternative label"),
    "http://www.w3.org/2004/02/skos/core#notation": ("Nummer", "notation"),
    "http://www.w3.org/2004/02/skos/core#inScheme": ("gehört zu", "in scheme"),
    "http://www.w3.org/2004/02/skos/core#topConceptOf": ("oberster Begriff von", "top concept of"),
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": ("oberster Begriff", "has top concept"),
    "http://www.w3.org/2004/02/skos/core#definition": ("Definition", "definition"),
    "http://www.w3.org/ns/prov#wasRevisionOf": ("Überarbeitung von", "revision of"),
    "http://www.w3.org/ns/prov#wasAssociatedWith": ("beteiligter Akteur", "associated actor"),
    "http://www.w3.org/ns/prov#qualifiedAttribution": ("Beteiligung", "attribution"),
    "http://www.w3.org/ns/prov#agent": ("Akteur", "agent"),
    "http://www.w3.org/ns/prov#hadRole": ("Rolle", "role"),
    "http://www.w3.org/ns/prov#wasDerivedFrom": ("abgeleitet von", "derived from"),
    "http://www.w3.org/ns/org#unitOf": ("Einheit von", "unit of"),
    "http://www.w3.org/ns/org#subOrganizationOf": ("Teil der Organisation", "sub-organisation of"),
    "http://www.w3.org/ns/org#hasUnit": ("hat Einheit", "has unit"),
    "http://www.w3.org/ns/dcat#startDate": ("Beginn", "start"),
    "http://www.w3.org/ns/dcat#endDate": ("Ende", "end"),
    "http://www.w3.org/ns/dcat#downloadURL": ("Download", "download"),
    "http://www.w3.org/ns/dcat#accessURL": ("Zugang", "access URL"),
    "http://xmlns.com/foaf/0.1/page": ("Webseite", "web page"),
    "http://xmlns.com/foaf/0.1/homepage": ("Homepage", "homepage"),
    "http://schema.org/contentSize": ("Größe", "size"),
    "http://schema.org/url": ("Adresse", "URL"),
    "http://schema.org/audience": ("Zielgruppe", "audience"),
    "http://www.w3.org/2002/07/owl#sameAs": ("dasselbe wie", "same as"),
    "http://purl.org/linked-data/cube#dataSet": ("Datensatz", "data set"),
    "http://purl.org/linked-data/cube#structure": ("Struktur", "structure"),
    "http://purl.org/linked-data/cube#Observation": ("Beobachtung", "observation"),
    "http://purl.org/linked-data/cube#DataSet": ("Datensatz (Data Cube)", "data set (Data Cube)"),
    "http://purl.org/linked-data/cube#DataStructureDefinition": ("Datenstruktur", "data structure"),
    "http://purl.org/linked-data/sdmx/2009/dimension#refPeriod": ("Stichtag", "reference period"),
    "http://purl.org/linked-data/sdmx/2009/dimension#refArea": ("Gebiet", "reference area"),
    "http://purl.org/linked-data/sdmx/2009/measure#obsValue": ("Wert", "value"),
    "http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure": ("Einheit", "unit"),
    "http://www.w3.org/2004/02/skos/core#ConceptScheme": ("Begriffssystem", "concept scheme"),
    "http://www.w3.org/ns/prov#Attribution": ("Beteiligung", "attribution"),
    "http://purl.org/dc/terms/PeriodOfTime": ("Zeitraum", "period of time"),
}


def pick(literals: Iterable[ox.Literal | str], lang: str) -> str | None:
    """The literal in ``lang``, else German, else one without language, else any (stable order)."""
    values = [lit for lit in literals if isinstance(lit, ox.Literal)]
    for wanted in (lang, "de", None):
        for lit in sorted(values, key=lambda v: v.value):
            if (lit.language or None) == wanted:
                return lit.value
    return min((v.value for v in values), default=None)


def local_name(iri: str) -> str:
    """A readable last resort: the CURIE or the last path segment."""
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    tail = iri.rstrip("/").rsplit("/", 1)[-1]
    return tail or iri


@lru_cache(maxsize=4)
def ontology_labels(path: str = str(ONTOLOGY_FILE)) -> dict[str, dict[str, str]]:
    """rdfs:label of every ontology term by language (read once per process)."""
    labels: dict[str, dict[str, str]] = {}
    try:
        store = ox.Store()
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    except (OSError, SyntaxError, ValueError):
        return labels
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    for quad in store.quads_for_pattern(None, label, None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
            labels.setdefault(quad.subject.value, {})[quad.object.language or "de"] = quad.object.value
    return labels


def term_label(iri: str, lang: str) -> str:
    """The name of a property or class in ``lang``."""
    known = ontology_labels().get(iri)
    if known:
        return known.get(lang) or known.get("de") or next(iter(known.values()))
    if iri in STANDARD_TERMS:
        de, en = STANDARD_TERMS[iri]
        return en if lang == "en" else de
    return local_name(iri)
