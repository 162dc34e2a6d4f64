"""Tests of the kik ontology, the shared SKOS vocabularies and the JSON-LD context.

They check what a reuser relies on: every term is labelled and defined in German and English, the
ontology and kg.namespace.KIK name the same terms, a real OWL reasoner (HermiT) finds the ontology
consistent, every term the data uses is declared somewhere, and our context round-trips data.
"""

from __future__ import annotations

import json
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef
from rdflib import namespace as rdfns
from rdflib.namespace import (
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    QB,
    RDF,
    RDFS,
    SH,
    SKOS,
    VANN,
    VOID,
)

from kg.namespace import (
    CONCEPT_RELATION,
    DCATDE,
    KIK,
    KIKV,
    ONTOLOGY_IRI,
    PREFIXES,
    ROLE,
    SCHEMA,
    SDMX_ATTRIBUTE,
    SDMX_DIMENSION,
    SDMX_MEASURE,
)

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = ROOT / "ontology" / "kik.ttl"
VOCABULARIES_FILE = ROOT / "ontology" / "vocabularies.ttl"
CONTEXT_FILE = ROOT / "ontology" / "context.jsonld"
DATA_DIR = ROOT / "data"

KIK_NS = str(KIK._NS)
OWL_TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)

# rdflib's XSD, DCAT and SDO are used through ``rdfns``: as module globals they make pytest's
# collection warn (their attribute access warns on unknown names).
XSD_NS = str(rdfns.XSD)
XSD_DATE = rdfns.XSD.date

# Vocabularies whose complete term lists rdflib ships as DefinedNamespaces.
REUSED_NAMESPACES: tuple = (
    SKOS, ORG, PROV, DCTERMS, rdfns.DCAT, FOAF, OWL, RDF, RDFS, rdfns.XSD, VANN, VOID, QB, SH,
)
# Terms of vocabularies rdflib does not ship: the SDMX components of the Data Cube and DCAT-AP.de.
EXPLICIT_REUSED_TERMS: frozenset[URIRef] = frozenset(
    [SDMX_DIMENSION[n] for n in (
        "refArea", "refPeriod", "timePeriod", "freq", "sex", "age", "civilStatus",
        "educationLev", "occupation", "currency",
    )]
    + [SDMX_MEASURE.obsValue]
    + [SDMX_ATTRIBUTE[n] for n in ("unitMeasure", "unitMult", "decimals", "obsStatus", "confStatus")]
    + [DCATDE[n] for n in (
        "politicalGeocodingURI", "politicalGeocodingLevelURI", "licenseAttributionByText",
        "contributorID", "originator", "maintainer", "legalBasis", "geocodingDescription",
        "qualityProcessURI", "plannedAvailability",
    )]
)


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def context() -> dict:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def kik_terms(ontology: Graph) -> set[URIRef]:
    """Every kik: IRI the ontology declares as class, object or datatype property."""
    return {
        s
        for t in OWL_TERM_TYPES
        for s in ontology.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(KIK_NS)
    }


def declared_terms(ontology: Graph) -> set[URIRef]:
    """Every IRI kik.ttl declares (our own terms and the reused ones typed for OWL DL)."""
    types = (*OWL_TERM_TYPES, OWL.AnnotationProperty)
    return {s for t in types for s in ontology.subjects(RDF.type, t) if isinstance(s, URIRef)}


def is_reused_term(term: URIRef) -> bool:
    """True if ``term`` is a term of one of the vocabularies docs/model.md reuses."""
    iri = str(term)
    for ns in REUSED_NAMESPACES:
        base = str(ns._NS)
        if iri.startswith(base) and iri[len(base):] and term in ns:
            return True
    if iri.startswith(str(SCHEMA)):  # we use http://schema.org/, rdflib's SDO is https://
        return iri[len(str(SCHEMA)):] in rdfns.SDO
    return term in EXPLICIT_REUSED_TERMS


def undeclared_terms(graph: Graph, declared: set[URIRef]) -> set:
    """Predicates and rdf:type objects of ``graph`` that neither kik.ttl nor a reused vocabulary defines."""
    used: set = set(graph.predicates()) | set(graph.objects(None, RDF.type))
    return {
        t for t in used
        if not isinstance(t, URIRef) or (t not in declared and not is_reused_term(t))
    }


def data_graphs() -> dict[str, Graph]:
    """Every Turtle file of data/ plus the shared vocabularies, by path relative to the repository."""
    files = [VOCABULARIES_FILE, *sorted(DATA_DIR.glob("*/*.ttl"))]
    return {str(f.relative_to(ROOT)): Graph().parse(f, format="turtle") for f in files}


def built_graphs() -> dict[str, Graph]:
    """The triples kg.build.build_dataset makes of each data/ folder, by folder.

    A folder the build rejects fails the test: the data must build.
    """
    from kg.build import build_dataset

    graphs = {}
    for folder in sorted(d for d in DATA_DIR.iterdir() if (d / "datensatz.toml").is_file()):
        dataset = build_dataset([folder])
        union = Graph()
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            union.add((s, p, o))
        graphs[f"kg.build.build_dataset([{folder.relative_to(ROOT)}])"] = union
    return graphs


def reason(graph: Graph, tmp_path: Path) -> owlready2.World:
    """Run HermiT through owlready2 on ``graph``; raises OwlReadyInconsistentOntologyError."""
    path = tmp_path / "ontology.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def unsatisfiable_kik_classes(world: owlready2.World) -> list[str]:
    return sorted(c.iri for c in world.inconsistent_classes() if c.iri.startswith(KIK_NS))


def round_trip(graph: Graph, context: dict, auto_compact: bool) -> tuple[dict, Graph, Graph]:
    """Serialise with rdflib and our context (as kg.export does); read back with rdflib and pyld."""
    doc = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=auto_compact))
    by_rdflib = Graph().parse(data=json.dumps(doc), format="json-ld")
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    # pyld writes the default graph only: its N-Quads lines are N-Triples
    by_pyld = Graph().parse(data=nquads, format="nt")
    return doc, by_rdflib, by_pyld


def same_triples(expected: Graph, actual: Graph) -> bool:
    """Isomorphism by pyoxigraph's canonical blank-node labels.

    rdflib.compare.isomorphic does not finish on our data (many alike prov:Attribution nodes).
    """
    def canonical(graph: Graph) -> ox.Dataset:
        data = graph.serialize(format="nt", encoding="utf-8")
        dataset = ox.Dataset(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return dataset

    return len(expected) == len(actual) and canonical(expected) == canonical(actual)


def difference(expected: Graph, actual: Graph) -> str:
    """The triples without blank nodes that only one side has (enough to find a lost term)."""
    def ground(graph: Graph) -> set:
        return {t for t in graph if not any(isinstance(n, BNode) for n in t)}

    missing = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in ground(expected) - ground(actual))
    extra = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in ground(actual) - ground(expected))
    return f"{len(expected)} vs {len(actual)} triples; missing: {missing[:20]}; unexpected: {extra[:20]}"


# ------------------------------------------------------------------------------------------------
# the ontology
# ------------------------------------------------------------------------------------------------


def test_ontology_parses_and_declares_classes_and_properties(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    terms = kik_terms(ontology)
    assert len(terms) == len(KIK.__annotations__)
    for term in terms:
        types = set(ontology.objects(term, RDF.type)) & set(OWL_TERM_TYPES)
        assert len(types) == 1, f"{term} has OWL types {types}"


@pytest.mark.parametrize("predicates", [(RDFS.label,), (RDFS.comment, SKOS.definition)])
def test_every_kik_term_is_labelled_and_defined_in_german_and_english(
    ontology: Graph, predicates: tuple[URIRef, ...]
) -> None:
    missing = []
    for term in sorted(kik_terms(ontology)):
        languages = {
            o.language for p in predicates for o in ontology.objects(term, p) if isinstance(o, Literal)
        }
        missing += [f"{term} lacks {predicates[0].n3()}@{lang}" for lang in ("de", "en") if lang not in languages]
    assert not missing, "\n".join(missing)


def test_labels_tell_terms_apart(ontology: Graph) -> None:
    """A class and the property pointing to it (kik:Indicator, kik:indicator) must read differently."""
    seen: dict[tuple[str, str | None], URIRef] = {}
    clashes = []
    for term in sorted(kik_terms(ontology)):
        for label in ontology.objects(term, RDFS.label):
            key = (str(label).casefold(), label.language)
            if key in seen:
                clashes.append(f"{seen[key]} and {term} share the label {label!r}")
            seen[key] = term
    assert not clashes, "\n".join(clashes)


def test_namespace_module_and_ontology_name_the_same_terms(ontology: Graph) -> None:
    in_module = {KIK[name] for name in KIK.__annotations__}
    in_ontology = kik_terms(ontology)
    assert sorted(in_module - in_ontology) == [], "in kg.namespace.KIK but not declared in kik.ttl"
    assert sorted(in_ontology - in_module) == [], "declared in kik.ttl but not in kg.namespace.KIK"
    stray = {s for s in ontology.subjects() if str(s).startswith(KIK_NS)} - in_module
    assert sorted(stray) == [], "kik: subjects in kik.ttl that are not terms of KIK"


def test_property_kinds_follow_the_model(ontology: Graph) -> None:
    assert (KIK.indicator, RDF.type, OWL.ObjectProperty) in ontology
    assert (KIK.indicator, RDF.type, QB.DimensionProperty) in ontology
    assert (KIK.approximate, RDF.type, OWL.DatatypeProperty) in ontology
    assert (KIK.approximate, RDF.type, QB.AttributeProperty) in ontology
    assert (KIK.targetGroup, RDFS.subPropertyOf, SCHEMA.audience) in ontology
    for prop in ontology.subjects(RDF.type, OWL.DatatypeProperty):
        for rng in ontology.objects(prop, RDFS.range):
            assert str(rng).startswith(XSD_NS) or rng == RDFS.Literal, f"{prop} range {rng}"
    for prop in ontology.subjects(RDF.type, OWL.ObjectProperty):
        for rng in ontology.objects(prop, RDFS.range):
            assert (rng, RDF.type, OWL.Class) in ontology, f"{prop} range {rng} is not a class"


def test_ontology_metadata(ontology: Graph) -> None:
    o = ONTOLOGY_IRI
    assert ontology.value(o, OWL.versionIRI) == URIRef("https://w3id.org/kik/ontology/0.1.0")
    assert ontology.value(o, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(o, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    for p in (DCTERMS.created, DCTERMS.modified):
        assert ontology.value(o, p) == Literal("2026-11-23", datatype=XSD_DATE), p
    assert {t.language for t in ontology.objects(o, DCTERMS.title)} >= {"de", "en"}
    assert {t.language for t in ontology.objects(o, DCTERMS.description)} >= {"de", "en"}
    assert ontology.value(o, VANN.preferredNamespacePrefix) == Literal("kik")
    assert ontology.value(o, VANN.preferredNamespaceUri) == Literal(KIK_NS)


def test_hermit_finds_the_ontology_consistent_and_every_class_satisfiable(
    ontology: Graph, tmp_path: Path
) -> None:
    world = reason(ontology, tmp_path)  # raises OwlReadyInconsistentOntologyError if inconsistent
    assert unsatisfiable_kik_classes(world) == []
    loaded = {c.iri for c in world.classes()}
    assert {str(KIK.Measure), str(KIK.Challenge), str(KIK.Municipality)} <= loaded


def test_hermit_finds_the_ontology_with_the_data_consistent(ontology: Graph, tmp_path: Path) -> None:
    """The data must not contradict the ontology (disjoint kinds, datatype ranges)."""
    graph = Graph() + ontology
    for data in {**data_graphs(), **built_graphs()}.values():
        graph += data
    assert unsatisfiable_kik_classes(reason(graph, tmp_path)) == []


def test_hermit_reports_an_unsatisfiable_class(ontology: Graph, tmp_path: Path) -> None:
    """Proves the satisfiability check can fail: goals and challenges are disjoint."""
    graph = Graph() + ontology
    broken = URIRef(KIK_NS + "GoalThatIsAChallenge")
    graph.add((broken, RDF.type, OWL.Class))
    graph.add((broken, RDFS.subClassOf, KIK.StrategicGoal))
    graph.add((broken, RDFS.subClassOf, KIK.Challenge))
    assert unsatisfiable_kik_classes(reason(graph, tmp_path)) == [str(broken)]


def test_hermit_rejects_a_challenge_whose_grid_index_is_text(ontology: Graph, tmp_path: Path) -> None:
    """Proves the consistency check can fail: kik:gridIndex ranges over xsd:integer (its bound ≥ 1
    is the shapes' job, tests/test_shapes.py)."""
    graph = Graph() + ontology
    cell = URIRef("https://w3id.org/kik/fiktiv/test/konzept/2018/herausforderung/eins")
    graph.add((cell, RDF.type, KIK.Challenge))
    graph.add((cell, KIK.gridIndex, Literal("eins", datatype=URIRef(XSD_NS + "string"))))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(graph, tmp_path)


# ------------------------------------------------------------------------------------------------
# the shared vocabularies
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "kind", "members"),
    [
        (KIKV.rolle, KIK.Role, ("traeger", "partner", "foerderer", "kontakt")),
        (KIKV.konzeptbezug, KIK.ConceptRelation, ("massnahme", "verknuepft", "vorlaeufer", "nur-aktivitaet")),
    ],
)
def test_vocabulary_schemes(scheme: URIRef, kind: URIRef, members: tuple[str, ...]) -> None:
    vocab = Graph().parse(VOCABULARIES_FILE, format="turtle")
    namespace = ROLE if kind == KIK.Role else CONCEPT_RELATION
    expected = {namespace[m] for m in members}
    assert (scheme, RDF.type, SKOS.ConceptScheme) in vocab
    assert set(vocab.subjects(SKOS.inScheme, scheme)) == expected
    assert set(vocab.subjects(RDF.type, kind)) == expected
    for resource in expected | {scheme}:
        assert (resource, DCTERMS.source, ONTOLOGY_IRI) in vocab, resource
        for p in (SKOS.prefLabel, SKOS.definition):
            assert {o.language for o in vocab.objects(resource, p)} == {"de", "en"}, (resource, p)
    for member in members:
        assert vocab.value(namespace[member], SKOS.notation) == Literal(member)


# ------------------------------------------------------------------------------------------------
# every term the data uses is declared
# ------------------------------------------------------------------------------------------------


def test_every_term_used_in_data_is_declared(ontology: Graph) -> None:
    declared = declared_terms(ontology)
    graphs = {**data_graphs(), **built_graphs()}
    problems = [
        f"{where}: {term.n3() if hasattr(term, 'n3') else term} is not declared in ontology/kik.ttl "
        "nor a term of a reused vocabulary (check spelling, schema.org is http://schema.org/)"
        for where, graph in graphs.items()
        for term in sorted(undeclared_terms(graph, declared))
    ]
    assert not problems, "\n".join(problems)


def test_undeclared_terms_are_reported(ontology: Graph) -> None:
    """The check above must fail for a misspelt or invented term, and accept reused ones."""
    s = URIRef("https://w3id.org/kik/fiktiv/test/massnahme/x")
    graph = Graph()
    graph.add((s, RDF.type, KIK.Measure))
    graph.add((s, SKOS.prefLabel, Literal("x (fiktiv)", lang="de")))
    graph.add((s, SCHEMA.audience, BNode()))
    graph.add((s, SDMX_DIMENSION.refPeriod, Literal("2018")))
    graph.add((s, PROV.qualifiedAttribution, BNode()))
    assert undeclared_terms(graph, declared_terms(ontology)) == set()

    invented = [
        (s, URIRef(KIK_NS + "addressesChalenge"), URIRef("https://w3id.org/kik/x")),  # misspelt
        (s, RDF.type, URIRef(KIK_NS + "Massnahme")),  # undeclared class
        (s, URIRef(str(SKOS._NS) + "preferredLabel"), Literal("x")),  # not a SKOS term
        (s, URIRef("https://schema.org/audience"), BNode()),  # https instead of http
        (s, URIRef("http://schema.org/noSuchProperty"), Literal("x")),
        (s, SDMX_DIMENSION.noSuchDimension, Literal("x")),
    ]
    for triple in invented:
        graph.add(triple)
    assert undeclared_terms(graph, declared_terms(ontology)) == {p if p != RDF.type else o for _, p, o in invented}


# ------------------------------------------------------------------------------------------------
# the JSON-LD context
# ------------------------------------------------------------------------------------------------


def test_context_declares_every_prefix_and_kik_term(context: dict) -> None:
    assert context["@version"] == 1.1
    for prefix, iri in PREFIXES.items():
        assert context[prefix] == iri, prefix
    targets = {v if isinstance(v, str) else v["@id"] for k, v in context.items() if not k.startswith("@")}
    missing = [name for name in KIK.__annotations__ if f"kik:{name}" not in targets]
    assert missing == []


SAMPLE = r"""
@prefix kik: <https://w3id.org/kik/ontology#> .
@prefix kikv: <https://w3id.org/kik/vocab/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#> .
@prefix sdmx-measure: <http://purl.org/linked-data/sdmx/2009/measure#> .
@prefix m: <https://w3id.org/kik/fiktiv/musterstadt/> .

m:massnahme\/sprachcafe a kik:Measure ;
    dct:title "Sprachcafé (fiktiv)"@de , "Language café (fictional)"@en ;
    rdfs:label "Sprachcafé (fiktiv)" ;
    dct:isPartOf m:konzept\/2018 ;
    kik:addressesChallenge m:konzept\/2018\/herausforderung\/1 ;
    kik:inActionField m:konzept\/2018\/handlungsfeld\/2 ;
    kik:conceptRelation <https://w3id.org/kik/vocab/konzeptbezug/massnahme> ;
    kik:relatedConcept m:konzept\/2018 ;
    kik:fictional true ;
    dct:source <https://example.org/fiktiv/quelle> ;
    kik:sourcePage "12-13" ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2018"^^xsd:gYear ; dcat:endDate "2019-06-30"^^xsd:date ] ;
    prov:qualifiedAttribution [ a prov:Attribution ; prov:agent m:akteur\/verein ;
                                prov:hadRole <https://w3id.org/kik/vocab/rolle/traeger> ] ;
    prov:wasAssociatedWith m:akteur\/verein .

m:konzept\/2018\/herausforderung\/1 a kik:Challenge ;
    skos:notation "1" ; skos:prefLabel "Sprache (fiktiv)"@de , "Sprachförderung (fiktiv)"@de ;
    skos:inScheme m:konzept\/2018\/herausforderungen ;
    kik:gridIndex 1 ; kik:gridRow 1 ; kik:gridColumn 1 .

m:kennzahl\/einwohner a qb:Observation ;
    kik:indicator m:indikator\/einwohner ; kik:approximate true ;
    sdmx-dimension:refPeriod "2017"^^xsd:gYear ; sdmx-measure:obsValue 1000 ;
    schema:contentSize "3.11 MB" ; dct:publisher "Musterstadt (fiktiv)" , m:stadt .
"""


@pytest.mark.parametrize("auto_compact", [False, True])
def test_context_round_trips_a_sample_through_rdflib_and_pyld(context: dict, auto_compact: bool) -> None:
    graph = Graph().parse(data=SAMPLE, format="turtle")
    doc, by_rdflib, by_pyld = round_trip(graph, context, auto_compact)
    assert same_triples(graph, by_rdflib), difference(graph, by_rdflib)
    assert same_triples(graph, by_pyld), difference(graph, by_pyld)
    text = json.dumps(doc)
    for key in ('"addressesChallenge"', '"label"', '"title"', '"gridIndex"', '"hadRole"', '"Measure"'):
        assert key in text, f"the context's short key {key} was not used"


def test_context_compacts_expanded_data_with_pyld(context: dict) -> None:
    graph = Graph().parse(data=SAMPLE, format="turtle")
    expanded = json.loads(graph.serialize(format="json-ld"))
    compacted = jsonld.compact(expanded, {"@context": context})
    nquads = jsonld.to_rdf(compacted, {"format": "application/n-quads"})
    assert same_triples(graph, Graph().parse(data=nquads, format="nt"))
    measure = next(n for n in compacted["@graph"] if n.get("type") == "Measure")
    assert measure["title"] == {"de": "Sprachcafé (fiktiv)", "en": "Language café (fictional)"}
    assert measure["fictional"] is True
    assert measure["conceptRelation"] == "kikv:konzeptbezug/massnahme"


def test_context_round_trips_the_data(context: dict) -> None:
    failures = []
    for where, graph in {**data_graphs(), **built_graphs()}.items():
        _, by_rdflib, by_pyld = round_trip(graph, context, auto_compact=True)
        for reader, result in (("rdflib", by_rdflib), ("pyld", by_pyld)):
            if not same_triples(graph, result):
                failures.append(f"{where} through {reader}: {difference(graph, result)}")
    assert not failures, "\n".join(failures)
