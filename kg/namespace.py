"""Vocabulary constants, in the style of rdflib's own ``namespace`` modules.

One place for every IRI prefix, so code never spells an IRI out by hand.
"""

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

DATASET_BASE = "https://w3id.org/kik/"
ONTOLOGY_IRI = URIRef("https://w3id.org/kik/ontology")
SHAPES_IRI = URIRef("https://w3id.org/kik/shapes")
VOCAB_GRAPH = URIRef("https://w3id.org/kik/vocab/")
FICTIONAL_BASE = "https://w3id.org/kik/fiktiv/"


class KIK(DefinedNamespace):
    """The kik ontology: what SKOS, ORG, PROV-O, DCTERMS, schema.org and Data Cube lack."""

    _NS = Namespace("https://w3id.org/kik/ontology#")
    _fail = True

    # classes
    IntegrationConcept: URIRef
    StrategicGoal: URIRef
    ActionField: URIRef
    ChallengeGrid: URIRef
    Challenge: URIRef
    IntegrationActivity: URIRef
    Measure: URIRef
    Actor: URIRef
    Municipality: URIRef
    AdministrativeUnit: URIRef
    CouncilBody: URIRef
    CivilSocietyOrganisation: URIRef
    PublicAuthority: URIRef
    Programme: URIRef
    TargetGroup: URIRef
    AgeRange: URIRef
    FundingSource: URIRef
    SteeringLogic: URIRef
    Role: URIRef
    ConceptRelation: URIRef
    Document: URIRef
    Source: URIRef
    Indicator: URIRef

    # properties
    addressesChallenge: URIRef
    inActionField: URIRef
    servesGoal: URIRef
    targetGroup: URIRef
    ageRange: URIRef
    minAge: URIRef
    maxAge: URIRef
    fundingSource: URIRef
    steeringLogic: URIRef
    conceptRelation: URIRef
    relatedConcept: URIRef
    declaredGoalCount: URIRef
    declaredActionFieldCount: URIRef
    declaredChallengeCount: URIRef
    declaredMeasureCount: URIRef
    challengeGrid: URIRef
    gridRows: URIRef
    gridColumns: URIRef
    gridIndex: URIRef
    gridRow: URIRef
    gridColumn: URIRef
    municipality: URIRef
    municipalityKey: URIRef
    sourcePage: URIRef
    sourceKind: URIRef
    fictional: URIRef
    indicator: URIRef
    approximate: URIRef


KIKSH = Namespace("https://w3id.org/kik/shapes#")
KIKV = Namespace("https://w3id.org/kik/vocab/")
ROLE = Namespace("https://w3id.org/kik/vocab/rolle/")
CONCEPT_RELATION = Namespace("https://w3id.org/kik/vocab/konzeptbezug/")

QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
WD = Namespace("http://www.wikidata.org/entity/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SCHEMA = Namespace("http://schema.org/")

PREFIXES: dict[str, str] = {
    "kik": str(KIK._NS),
    "kiksh": str(KIKSH),
    "kikv": str(KIKV),
    "qb": str(QB),
    "sdmx-dimension": str(SDMX_DIMENSION),
    "sdmx-measure": str(SDMX_MEASURE),
    "sdmx-attribute": str(SDMX_ATTRIBUTE),
    "wd": str(WD),
    "dcatde": str(DCATDE),
    "schema": str(SCHEMA),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "dct": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
}


def bind_prefixes(graph) -> None:
    """Bind our prefixes so every serialisation reads the same."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True)
