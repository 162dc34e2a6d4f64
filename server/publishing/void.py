"""VoID description of the knowledge graph at /.well-known/void (RFC 5785, VoID §7).

Counts come from the store and build.json; the dataset node is the catalog's ``…/catalog#kg``,
so DCAT and VoID describe the same thing. Linksets group links to outside IRIs by target
(Wikidata, or the web site a source lives on) and predicate.
"""

from __future__ import annotations

from flask import render_template
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from kg import page_summaries
from kg.namespace import WD
from kg.page_summaries import vocabulary_of
from kg.portal import SHAPES_GRAPH, VALIDATION_GRAPH
from server.publishing import build_info
from server.publishing import catalog
from server.publishing import downloads
from server.publishing.iri import dataset_base, public_base
from server.publishing.terms import curie
from server.store.embedded import EmbeddedStore

VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
DUMP_FEATURES = {".ttl": "Turtle", ".nt": "N-Triples", ".rdf": "RDF_XML", ".jsonld": "JSON-LD", ".trig": "TriG", ".nq": "N-Quads"}


def build_file(store, name: str = page_summaries.SUMMARY_FILE) -> dict | None:
    """The page data ``kg build`` wrote (``kg.page_summaries``) when it belongs to the build this
    embedded store holds (its build.json lists the file with these bytes and checksum); None
    otherwise (an external store: what it holds is its own; an older build without the file; a
    file of another build)."""
    if not isinstance(store, EmbeddedStore):
        return None
    return page_summaries.read(store.dist, store.build, name)


def statistics() -> dict:
    """Every number VoID publishes, computed once per served build (by ``kg build`` where it could)."""
    store = build_info.store()
    cache = getattr(store, "_void_statistics", None)
    if cache is not None:
        return cache
    base = dataset_base()
    written = build_file(store) or {}
    if written.get("dataset_base") == base and "void" in written:
        result = written["void"]
    else:
        result = page_summaries.void_statistics(store.select, base)
    try:
        store._void_statistics = result
    except AttributeError:  # a store that does not take attributes is simply asked again
        pass
    return result


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


def void_graph() -> Graph:
    """The VoID description as RDF."""
    graph = Graph()
    graph.bind("void", VOID)
    stats = statistics()
    here = URIRef(dataset_base() + ".well-known/void")
    dataset = catalog.iri("kg")
    graph.add((here, RDF.type, VOID.DatasetDescription))
    graph.add((here, FOAF.primaryTopic, dataset))
    graph.add((here, DCTERMS.title, Literal("VoID-Beschreibung des Wissensgraphen", lang="de")))

    graph.add((dataset, RDF.type, VOID.Dataset))
    whole = next(e for e in catalog.entries() if e.fragment == "kg")  # its title says what the graph holds
    for lang in ("de", "en"):
        graph.add((dataset, DCTERMS.title, Literal(whole.title[lang], lang=lang)))
    graph.add((dataset, FOAF.homepage, URIRef(public_base())))
    graph.add((dataset, VOID.uriSpace, Literal(dataset_base())))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(public_base() + catalog.setting("KIK_SPARQL_PATH"))))
    graph.add((dataset, VOID.uriLookupEndpoint, URIRef(public_base())))
    graph.add((dataset, DCTERMS.license, URIRef(catalog.setting("KIK_LICENSE"))))
    graph.add((dataset, DCTERMS.modified, Literal(build_info.build_time().date(), datatype=XSD.date)))
    for name in sorted(downloads.published()):
        plain = name.removesuffix(".gz")
        suffix = plain[plain.rfind("."):]
        if plain in catalog.DUMPS and suffix in DUMP_FEATURES:
            graph.add((dataset, VOID.dataDump, URIRef(downloads.download_url(name))))
            graph.add((dataset, VOID.feature, FORMATS[DUMP_FEATURES[suffix]]))
    for key, predicate in (("triples", VOID.triples), ("entities", VOID.entities), ("subjects", VOID.distinctSubjects),
                           ("objects", VOID.distinctObjects), ("properties", VOID.properties)):
        graph.add((dataset, predicate, Literal(stats[key], datatype=XSD.integer)))
    graph.add((dataset, VOID.classes, Literal(len(stats["classes"]), datatype=XSD.integer)))

    used = {vocabulary_of(iri) for iri, _ in stats["classes"] + stats["property_counts"]} - {None}
    for namespace in sorted(used):
        graph.add((dataset, VOID.vocabulary, URIRef(namespace)))
    for cls, count in stats["classes"]:
        partition = URIRef(f"{here}#class-{_slug(curie(cls))}")
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(cls)))
        graph.add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))
    for prop, count in stats["property_counts"]:
        partition = URIRef(f"{here}#property-{_slug(curie(prop))}")
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, URIRef(prop)))
        graph.add((partition, VOID.triples, Literal(count, datatype=XSD.integer)))
    for name, count in sorted((build_info.build().get("graphs") or {}).items()):
        subset = URIRef(f"{here}#graph-{_slug(name.removeprefix(dataset_base()))}")
        graph.add((dataset, VOID.subset, subset))
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, VOID.uriSpace, Literal(name)))
        graph.add((subset, FOAF.page, URIRef(public_base() + name.removeprefix(dataset_base()))))
        graph.add((subset, VOID.triples, Literal(int(count), datatype=XSD.integer)))

    for name, count in sorted((build_info.build().get("extra_graphs") or {}).items()):
        _extra_graph(graph, here, name, count)

    for target, predicate, count in stats["links"]:
        target_node = URIRef(f"{here}#target-{_slug(target)}")
        linkset = URIRef(f"{here}#links-{_slug(target)}-{_slug(curie(predicate))}")
        graph.add((target_node, RDF.type, VOID.Dataset))
        graph.add((target_node, VOID.uriSpace, Literal(target)))
        if target == str(WD):
            graph.add((target_node, DCTERMS.title, Literal("Wikidata")))
            graph.add((target_node, FOAF.homepage, URIRef("https://www.wikidata.org/")))
        graph.add((linkset, RDF.type, VOID.Linkset))
        graph.add((dataset, VOID.subset, linkset))
        graph.add((linkset, VOID.subjectsTarget, dataset))
        graph.add((linkset, VOID.objectsTarget, target_node))
        graph.add((linkset, VOID.linkPredicate, URIRef(predicate)))
        graph.add((linkset, VOID.triples, Literal(count, datatype=XSD.integer)))
    return graph


# named graphs outside the default graph: their file in the build and their page on this server
EXTRA_GRAPHS = {SHAPES_GRAPH: ("shapes.ttl", "shapes", "SHACL-Shapes", "SHACL shapes"),
                VALIDATION_GRAPH: ("validation.ttl", "validation", "Prüfbericht (SHACL) dieses Builds",
                                   "Validation report (SHACL) of this build")}
ONTOLOGY = ("ontology.ttl", "ontology", "Ontologie", "Ontology")


def _extra_graph(graph: Graph, here: URIRef, name: str, count: int) -> None:
    """A named graph of the endpoint that is not part of the data (ontology, shapes, report): a dataset of
    its own, not a subset of the data, since the default graph does not contain it."""
    file, page, title_de, title_en = EXTRA_GRAPHS.get(name, ONTOLOGY)
    node = URIRef(f"{here}#named-graph-{page}")
    graph.add((here, FOAF.topic, node))
    graph.add((node, RDF.type, VOID.Dataset))
    graph.add((node, DCTERMS.title, Literal(title_de, lang="de")))
    graph.add((node, DCTERMS.title, Literal(title_en, lang="en")))
    graph.add((node, DCTERMS.description, Literal(
        f"Benannter Graph <{name}> des SPARQL-Endpunkts, nicht im Standardgraphen (GRAPH <{name}> {{ … }}).", lang="de")))
    graph.add((node, DCTERMS.description, Literal(
        f"Named graph <{name}> of the SPARQL endpoint, not in its default graph (GRAPH <{name}> {{ … }}).", lang="en")))
    graph.add((node, SD.name, URIRef(name)))
    graph.add((node, VOID.sparqlEndpoint, URIRef(public_base() + catalog.setting("KIK_SPARQL_PATH"))))
    graph.add((node, VOID.triples, Literal(int(count), datatype=XSD.integer)))
    graph.add((node, FOAF.page, URIRef(public_base() + page)))
    if file in downloads.published():
        graph.add((node, VOID.dataDump, URIRef(downloads.download_url(file))))


def void_html(graph: Graph, lang: str) -> str:
    stats = statistics()
    return render_template("ld/void.html", lang=lang, stats=stats, curie=curie, wikidata=str(WD),
                           url=public_base() + ".well-known/void")
