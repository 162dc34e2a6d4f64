"""The DCAT-AP.de catalog of what this server publishes, built from configuration, data and build.

Operator facts (publisher, contact, licence, themes, languages, titles) come from ``KIK_*``
settings; coverage (political geocoding, places, time) from the graph; dates, sizes and checksums
from build.json. The standard vocabularies' namespaces and the dump-format table are the only
fixed values and live at the top of this module. Identifiers are stable IRIs under the dataset base
(``https://w3id.org/kik/catalog#kg``); locators (download, access and endpoint URLs) are URLs of
this server, so a portal harvesting staging downloads from staging.
"""

from __future__ import annotations

from flask import current_app, render_template
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from kg import export
from kg.namespace import DCATDE
from server.publishing import build_info
from server.publishing import downloads
from server.publishing.iri import dataset_base, public_base
from server.publishing.terms import label, rows

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"
DCATAP = Namespace("http://data.europa.eu/r5r/")

# dump suffix → (EU file type, IANA media type); the gzip copies add dcat:compressFormat
DUMP_FORMATS: dict[str, tuple[str, str]] = {
    ".ttl": ("RDF_TURTLE", "text/turtle"),
    ".nt": ("RDF_N_TRIPLES", "application/n-triples"),
    ".rdf": ("RDF_XML", "application/rdf+xml"),
    ".jsonld": ("JSON_LD", "application/ld+json"),
    ".trig": ("RDF_TRIG", "application/trig"),
    ".nq": ("RDF_N_QUADS", "application/n-quads"),
}
GZIP = URIRef(IANA + "application/gzip")
DUMPS = (*export.DUMP_FORMATS, export.JSONLD_FILE)  # the files of the build that hold the whole graph

COVERAGE_QUERY = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?municipality ?key ?place WHERE {
  ?municipality a kik:Municipality .
  FILTER NOT EXISTS { ?municipality kik:fictional true }
  OPTIONAL { ?municipality kik:municipalityKey ?key }
  OPTIONAL { ?concept kik:municipality ?municipality ; dct:spatial ?place . FILTER(isIRI(?place)) }
}
"""
PERIOD_QUERY = """
PREFIX kik: <https://w3id.org/kik/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?start ?end WHERE {
  { ?x dct:temporal ?period . ?period dcat:startDate ?start . OPTIONAL { ?period dcat:endDate ?end } }
  UNION { ?x a kik:IntegrationConcept ; dct:issued ?start . }
  FILTER NOT EXISTS { ?x kik:fictional true }
}
"""


def iri(fragment: str = "") -> URIRef:
    """The catalog's own IRI (``…/catalog``) or a part of it (``…/catalog#kg``)."""
    return URIRef(f"{dataset_base()}catalog{'#' + fragment if fragment else ''}")


def setting(key: str) -> str:
    return str(current_app.config.get(key) or "")


def _codes(key: str) -> list[str]:
    return setting(key).split()


def _texts(graph: Graph, node, predicate, key: str) -> None:
    for lang in ("de", "en"):
        value = setting(f"{key}_{lang.upper()}")
        if value:
            graph.add((node, predicate, Literal(value, lang=lang)))


def _literal(term) -> Literal:
    datatype = getattr(term, "datatype", None)
    return Literal(term.value, datatype=URIRef(datatype.value) if datatype else None)


def coverage() -> dict:
    """Political geocoding, places and time span of the non-fictional data."""
    store = build_info.store()
    keys, places = set(), set()
    for row in store.select(COVERAGE_QUERY):
        if "key" in row:
            keys.add(row["key"].value)
        if "place" in row:
            places.add(row["place"].value)
    starts, ends = [], []
    for row in store.select(PERIOD_QUERY):
        starts.append(_literal(row["start"]))
        if "end" in row:
            ends.append(_literal(row["end"]))
    return {
        "keys": sorted(keys),
        "places": sorted(places),
        "start": min(starts, key=str) if starts else None,
        "end": max(ends, key=str) if ends else None,
    }


def _agent(graph: Graph) -> URIRef:
    publisher = iri("publisher")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(setting("KIK_PUBLISHER_NAME"), lang="de")))
    graph.add((publisher, DCTERMS.type, URIRef(setting("KIK_PUBLISHER_TYPE"))))
    if setting("KIK_PUBLISHER_HOMEPAGE"):
        graph.add((publisher, FOAF.homepage, URIRef(setting("KIK_PUBLISHER_HOMEPAGE"))))
    return publisher


def _contact(graph: Graph) -> URIRef:
    contact = iri("contact")
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(setting("KIK_CONTACT_NAME"), lang="de")))
    graph.add((contact, VCARD.hasEmail, URIRef(setting("KIK_CONTACT_EMAIL"))))
    return contact


def _distribution(graph: Graph, name: str, info: dict, license_: URIRef, issued: Literal) -> URIRef | None:
    plain = name.removesuffix(".gz")
    suffix = plain[plain.rfind("."):] if "." in plain else ""
    if plain not in DUMPS or suffix not in DUMP_FORMATS:
        return None
    file_type, media_type = DUMP_FORMATS[suffix]
    node = iri("download-" + name.replace(".", "-"))
    url = URIRef(downloads.download_url(name))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(f"Wissensgraph als {file_type.replace('_', '-')}" + (", gzip" if name.endswith(".gz") else ""), lang="de")))
    graph.add((node, DCTERMS.title, Literal(f"Knowledge graph as {file_type.replace('_', '-')}" + (", gzip" if name.endswith(".gz") else ""), lang="en")))
    graph.add((node, DCAT.downloadURL, url))
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.mediaType, URIRef(IANA + media_type)))
    graph.add((node, DCTERMS["format"], URIRef(EU + "file-type/" + file_type)))
    if name.endswith(".gz"):
        graph.add((node, DCAT.compressFormat, GZIP))
    graph.add((node, DCTERMS.license, license_))
    graph.add((node, DCATDE.licenseAttributionByText, Literal(setting("KIK_LICENSE_ATTRIBUTION"), lang="de")))
    graph.add((node, DCTERMS.issued, issued))
    graph.add((node, DCTERMS.modified, issued))
    if "bytes" in info:
        graph.add((node, DCAT.byteSize, Literal(int(info["bytes"]), datatype=XSD.nonNegativeInteger)))
    if info.get("sha256"):
        checksum = BNode()
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((checksum, SPDX.checksumValue, Literal(info["sha256"], datatype=XSD.hexBinary)))
    return node


def catalog_graph() -> Graph:
    """The whole catalog as RDF (what /catalog serves in every RDF format)."""
    graph = Graph()
    graph.bind("dcatde", DCATDE)
    graph.bind("spdx", SPDX)
    graph.bind("vcard", VCARD)
    catalog, dataset, service = iri(), iri("kg"), iri("sparql")
    built = build_info.build_time()
    issued = Literal(built.replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
    license_ = URIRef(setting("KIK_LICENSE"))
    publisher, contact = _agent(graph), _contact(graph)
    themes = [URIRef(f"{EU}data-theme/{code}") for code in _codes("KIK_THEMES")]
    languages = [URIRef(f"{EU}language/{code}") for code in _codes("KIK_LANGUAGES")]

    graph.add((catalog, RDF.type, DCAT.Catalog))
    _texts(graph, catalog, DCTERMS.title, "KIK_CATALOG_TITLE")
    _texts(graph, catalog, DCTERMS.description, "KIK_CATALOG_DESCRIPTION")
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, FOAF.homepage, URIRef(public_base())))
    graph.add((catalog, DCTERMS.license, license_))
    graph.add((catalog, DCTERMS.issued, issued))
    graph.add((catalog, DCTERMS.modified, issued))
    graph.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    graph.add((catalog, DCAT.dataset, dataset))
    graph.add((catalog, DCAT.service, service))
    for language in languages:
        graph.add((catalog, DCTERMS.language, language))

    graph.add((dataset, RDF.type, DCAT.Dataset))
    _texts(graph, dataset, DCTERMS.title, "KIK_DATASET_TITLE")
    _texts(graph, dataset, DCTERMS.description, "KIK_DATASET_DESCRIPTION")
    graph.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
    graph.add((dataset, DCTERMS.publisher, publisher))
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((dataset, DCTERMS.issued, issued))
    graph.add((dataset, DCTERMS.modified, issued))
    graph.add((dataset, DCAT.landingPage, URIRef(public_base())))
    graph.add((dataset, DCTERMS.conformsTo, URIRef(dataset_base() + "ontology")))
    graph.add((dataset, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/{setting('KIK_ACCRUAL_PERIODICITY')}")))
    graph.add((dataset, URIRef(f"{DCAT}version"), Literal(str(build_info.build().get("build", "")))))
    for keyword in filter(None, (k.strip() for k in setting("KIK_KEYWORDS").split(";"))):
        graph.add((dataset, DCAT.keyword, Literal(keyword, lang="de")))
    for theme in themes:
        graph.add((dataset, DCAT.theme, theme))
    for language in languages:
        graph.add((dataset, DCTERMS.language, language))
    _coverage(graph, dataset, coverage())
    for name, info in sorted(downloads.published().items()):
        node = _distribution(graph, name, info, license_, issued)
        if node is not None:
            graph.add((dataset, DCAT.distribution, node))

    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.title, Literal("SPARQL-Endpunkt des Wissensgraphen", lang="de")))
    graph.add((service, DCTERMS.title, Literal("SPARQL endpoint of the knowledge graph", lang="en")))
    graph.add((service, DCAT.endpointURL, URIRef(public_base() + setting("KIK_SPARQL_PATH"))))
    graph.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    graph.add((service, DCAT.servesDataset, dataset))
    graph.add((service, DCTERMS.publisher, publisher))
    graph.add((service, DCAT.contactPoint, contact))
    graph.add((service, DCTERMS.license, license_))
    for theme in themes:
        graph.add((service, DCAT.theme, theme))
    return graph


def _coverage(graph: Graph, dataset: URIRef, found: dict) -> None:
    """Spatial and temporal coverage, and the German political geocoding, of the dataset."""
    for key in found["keys"]:
        place = URIRef(f"{GEOCODING}municipalityKey/{key}")
        graph.add((dataset, DCATDE.politicalGeocodingURI, place))
        graph.add((dataset, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
    if found["keys"]:
        graph.add((dataset, DCATDE.politicalGeocodingLevelURI, URIRef(f"{GEOCODING}Level/municipality")))
    for place in found["places"]:
        graph.add((dataset, DCTERMS.spatial, URIRef(place)))
        graph.add((URIRef(place), RDF.type, DCTERMS.Location))
    if found["start"] is not None:
        period = iri("zeitraum")
        graph.add((dataset, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, found["start"]))
        if found["end"] is not None and str(found["end"]) >= str(found["start"]):
            graph.add((period, DCAT.endDate, found["end"]))


def catalog_html(graph: Graph, lang: str) -> str:
    """The catalog as a page: the dataset, its downloads with sizes and checksums, the endpoint."""
    dataset = iri("kg")
    distributions = []
    for node in sorted(graph.objects(dataset, DCAT.distribution), key=str):
        checksum = graph.value(node, SPDX.checksum)
        distributions.append({
            "title": label(graph, node, lang),
            "url": str(graph.value(node, DCAT.downloadURL)),
            "media_type": str(graph.value(node, DCAT.mediaType)).removeprefix(IANA),
            "bytes": graph.value(node, DCAT.byteSize),
            "sha256": graph.value(checksum, SPDX.checksumValue) if checksum is not None else None,
        })
    return render_template("ld/catalog.html", lang=lang, title=label(graph, iri(), lang),
                           catalog=rows(graph, iri(), lang), dataset=rows(graph, dataset, lang),
                           dataset_title=label(graph, dataset, lang), distributions=distributions,
                           service=rows(graph, iri("sparql"), lang), url=public_base() + "catalog")

