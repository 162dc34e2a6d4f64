"""The SPARQL 1.1 Service Description of the endpoint: what a client may ask and in which formats.

Built from the build manifest (dist/build.json: graphs and triple counts), so it always describes
the data actually served. The default graph is the union of the data graphs only; the ontology, the
shapes and the validation report (``extra_graphs``) are named graphs outside it, so that counting
the data's triples does not count the ontology. Hence no ``sd:UnionDefaultGraph``.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from kg.namespace import bind_prefixes
from kg.portal import SHAPES_GRAPH, VALIDATION_GRAPH

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

RESULT_FORMATS = (
    FORMATS["SPARQL_Results_JSON"],
    FORMATS["SPARQL_Results_XML"],
    FORMATS["SPARQL_Results_CSV"],
    FORMATS["SPARQL_Results_TSV"],
    FORMATS["Turtle"],
    FORMATS["JSON-LD"],
    FORMATS["N-Triples"],
    FORMATS["RDF_XML"],
)


def service_description(endpoint: str, build: dict, limits: dict[str, float | int]) -> Graph:
    """sd:Service for ``endpoint``: SPARQL 1.1 Query, result formats, the default dataset with counts."""
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for result_format in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, result_format))
    graph.add((service, DCTERMS.title, Literal("SPARQL-Endpunkt: Kommunale Integrationskonzepte", lang="de")))
    graph.add((service, DCTERMS.title, Literal("SPARQL endpoint: municipal integration concepts", lang="en")))
    graph.add((service, DCTERMS.description, Literal(
        f"Read-only SPARQL 1.1 Query; SERVICE and Update are refused. Time limit {limits['timeout']} s per query, "
        f"at most {limits['max_rows']} result rows, {limits['concurrent']} queries at a time, "
        f"queries up to {limits['max_bytes']} bytes. The default graph is the union of the data graphs (one per "
        f"municipality plus the shared vocabularies); the ontology, the SHACL shapes and the build's validation report "
        f"are named graphs outside it: ask them with GRAPH <…> or FROM NAMED.",
        lang="en",
    )))

    dataset = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default_graph = BNode()
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    if "triples" in build:
        graph.add((default_graph, VOID.triples, Literal(int(build["triples"]), datatype=XSD.integer)))
    titles = extra_graph_titles(build)
    counts = {**(build.get("graphs") or {}), **(build.get("extra_graphs") or {})}
    for name, triples in sorted(counts.items()):
        named = BNode()
        described = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(int(triples), datatype=XSD.integer)))
        if titles.get(name):
            graph.add((named, DCTERMS.title, Literal(titles[name], lang="en")))
    return graph


def extra_graph_titles(build: dict) -> dict[str, str]:
    """What each named graph outside the default graph holds (ontology, shapes, validation report)."""
    known = {SHAPES_GRAPH: "SHACL shapes the build validates against (not in the default graph)",
             VALIDATION_GRAPH: "SHACL validation report of this build (not in the default graph)"}
    return {name: known.get(name, "The ontology (graph name = ontology IRI; not in the default graph)")
            for name in build.get("extra_graphs") or {}}
