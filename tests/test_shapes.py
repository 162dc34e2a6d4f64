"""The SHACL shapes: every structural rule fires as a violation, every gap as a warning or info.

Each test starts from one small clean graph (fictional, under https://w3id.org/kik/fiktiv/test/),
breaks exactly one thing and checks that the matching finding appears.
"""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib import namespace as rdfns
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg.namespace import KIK, KIKSH, KIKV, QB, SDMX_DIMENSION, SDMX_MEASURE, bind_prefixes
from kg.validate import load_shapes, validate

T = Namespace("https://w3id.org/kik/fiktiv/test/")
PROV = Namespace("http://www.w3.org/ns/prov#")
ORG = Namespace("http://www.w3.org/ns/org#")
ROLE_TRAEGER = URIRef(str(KIKV) + "rolle/traeger")
RELATION_MEASURE = URIRef(str(KIKV) + "konzeptbezug/massnahme")

CONCEPT = T["konzept/2023"]
GRID = T["konzept/2023/herausforderungen"]
GOALS = T["konzept/2023/ziele"]
FIELDS = T["konzept/2023/handlungsfelder"]
GOAL = T["konzept/2023/ziel/1"]
FIELD = T["konzept/2023/handlungsfeld/1"]
CH1 = T["konzept/2023/herausforderung/1"]
CH2 = T["konzept/2023/herausforderung/2"]
MEASURE = T["massnahme/sprachcafe"]
CITY = T["stadt"]
UNIT = T["akteur/integrationszentrum"]
SOURCE = T["quelle/erfunden"]
DATASET = T["kennzahlen"]
OBSERVATION = T["kennzahl/einwohner-2023"]
INDICATOR = T["indikator/einwohner"]


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


def fictional(g: Graph, node: URIRef, cls: URIRef, de: str, en: str, label=SKOS.prefLabel) -> None:
    """A fictional resource of `cls` with German/English labels, a source and the fictional flag."""
    g.add((node, RDF.type, cls))
    g.add((node, label, Literal(f"{de} (fiktiv)", lang="de")))
    g.add((node, label, Literal(f"{en} (fictional)", lang="en")))
    g.add((node, KIK.fictional, Literal(True)))
    g.add((node, DCTERMS.source, SOURCE))


def challenge(g: Graph, node: URIRef, index: int, row: int, column: int) -> None:
    fictional(g, node, KIK.Challenge, f"Herausforderung {index}", f"Challenge {index}")
    g.add((node, SKOS.notation, Literal(str(index))))
    g.add((node, SKOS.inScheme, GRID))
    g.add((node, KIK.gridIndex, Literal(index, datatype=rdfns.XSD.integer)))
    g.add((node, KIK.gridRow, Literal(row, datatype=rdfns.XSD.integer)))
    g.add((node, KIK.gridColumn, Literal(column, datatype=rdfns.XSD.integer)))


def clean_graph() -> Graph:
    """A complete miniature concept: no violation, no warning, no info."""
    g = Graph()
    bind_prefixes(g)
    g.add((SOURCE, RDF.type, KIK.Source))
    g.add((SOURCE, DCTERMS.title, Literal("Erfundene Testdaten (fiktiv)", lang="de")))
    g.add((SOURCE, KIK.sourceKind, Literal("fiktiv")))
    g.add((SOURCE, KIK.fictional, Literal(True)))

    fictional(g, CITY, KIK.Municipality, "Teststadt", "Test town")
    g.add((CITY, KIK.municipalityKey, Literal("09999999")))
    fictional(g, UNIT, KIK.AdministrativeUnit, "Integrationszentrum Teststadt", "Integration centre of Test town")
    g.add((UNIT, ORG.unitOf, CITY))

    fictional(g, CONCEPT, KIK.IntegrationConcept, "Integrationskonzept Teststadt 2023", "Integration concept of Test town 2023",
              label=DCTERMS.title)
    g.add((CONCEPT, KIK.municipality, CITY))
    g.add((CONCEPT, KIK.challengeGrid, GRID))
    for prop, count in ((KIK.declaredGoalCount, 1), (KIK.declaredActionFieldCount, 1),
                        (KIK.declaredChallengeCount, 2), (KIK.declaredMeasureCount, 1)):
        g.add((CONCEPT, prop, Literal(count, datatype=rdfns.XSD.integer)))

    for scheme, de, en in ((GOALS, "Ziele", "Goals"), (FIELDS, "Handlungsfelder", "Action fields")):
        fictional(g, scheme, SKOS.ConceptScheme, de, en)
        g.add((scheme, DCTERMS.isPartOf, CONCEPT))
    fictional(g, GOAL, KIK.StrategicGoal, "Teilhabe stärken", "Strengthen participation")
    g.add((GOAL, SKOS.notation, Literal("1")))
    g.add((GOAL, SKOS.inScheme, GOALS))
    g.add((GOAL, DCTERMS.isPartOf, CONCEPT))
    fictional(g, FIELD, KIK.ActionField, "Sprache", "Language")
    g.add((FIELD, SKOS.notation, Literal("1")))
    g.add((FIELD, SKOS.inScheme, FIELDS))
    g.add((FIELD, KIK.servesGoal, GOAL))

    fictional(g, GRID, KIK.ChallengeGrid, "Herausforderungen", "Challenges")
    g.add((GRID, KIK.gridRows, Literal(3, datatype=rdfns.XSD.integer)))
    g.add((GRID, KIK.gridColumns, Literal(6, datatype=rdfns.XSD.integer)))
    challenge(g, CH1, 1, 1, 1)
    challenge(g, CH2, 2, 1, 2)

    fictional(g, MEASURE, KIK.Measure, "Sprachcafé", "Language café", label=DCTERMS.title)
    g.add((MEASURE, DCTERMS.isPartOf, CONCEPT))
    g.add((MEASURE, KIK.addressesChallenge, CH1))
    g.add((MEASURE, KIK.inActionField, FIELD))
    g.add((MEASURE, KIK.conceptRelation, RELATION_MEASURE))
    g.add((MEASURE, KIK.relatedConcept, CONCEPT))
    attribution = BNode()
    g.add((MEASURE, PROV.qualifiedAttribution, attribution))
    g.add((attribution, RDF.type, PROV.Attribution))
    g.add((attribution, PROV.agent, UNIT))
    g.add((attribution, PROV.hadRole, ROLE_TRAEGER))
    g.add((MEASURE, PROV.wasAssociatedWith, UNIT))
    period = BNode()
    g.add((MEASURE, DCTERMS.temporal, period))
    g.add((period, URIRef("http://www.w3.org/ns/dcat#startDate"), Literal("2023", datatype=rdfns.XSD.gYear)))
    # shared vocabulary terms the measure points to (normally from ontology/vocabularies.ttl)
    g.add((ROLE_TRAEGER, RDF.type, KIK.Role))
    g.add((RELATION_MEASURE, RDF.type, KIK.ConceptRelation))

    fictional(g, DATASET, QB.DataSet, "Kennzahlen Teststadt", "Key figures of Test town", label=RDFS.label)
    fictional(g, INDICATOR, KIK.Indicator, "Einwohner", "Inhabitants")
    g.add((OBSERVATION, RDF.type, QB.Observation))
    g.add((OBSERVATION, KIK.fictional, Literal(True)))
    g.add((OBSERVATION, DCTERMS.source, SOURCE))
    g.add((OBSERVATION, QB.dataSet, DATASET))
    g.add((OBSERVATION, KIK.indicator, INDICATOR))
    g.add((OBSERVATION, SDMX_DIMENSION.refPeriod, Literal("2023-12-31", datatype=rdfns.XSD.date)))
    g.add((OBSERVATION, SDMX_MEASURE.obsValue, Literal(1000, datatype=rdfns.XSD.integer)))
    return g


def findings(g: Graph, shapes: Graph, severity: str):
    return [r for r in validate(g, shapes).results if r.severity == severity]


def assert_violation(g: Graph, shapes: Graph, focus: URIRef, path: URIRef | None = None, shape: URIRef | None = None):
    """Exactly the broken resource is reported as a violation (at the given path / by the given shape)."""
    violations = findings(g, shapes, "Violation")
    matching = [
        r for r in violations
        if r.focus_node == focus and (path is None or r.path == path) and (shape is None or r.source_shape == shape)
    ]
    assert matching, f"expected a violation on {focus} {path or ''}; got {[(str(r.focus_node), str(r.path)) for r in violations]}"
    for result in matching:
        assert set(result.messages) >= {"de", "en"}, result.messages
        assert result.messages["de"] != result.messages["en"]
    return matching


def test_clean_graph_has_no_findings(shapes):
    report = validate(clean_graph(), shapes)
    assert [(str(r.focus_node), r.severity, r.message("en")) for r in report.results] == []
    assert report.conforms_without_violations


def test_wrong_type_of_referenced_node_is_a_violation(shapes):
    g = clean_graph()
    g.remove((MEASURE, KIK.addressesChallenge, CH1))
    g.add((MEASURE, KIK.addressesChallenge, GOAL))  # a goal is not a challenge
    [result] = assert_violation(g, shapes, MEASURE, KIK.addressesChallenge)
    assert result.value == GOAL
    assert "kik:Challenge" in result.messages["en"]


def test_dangling_reference_is_a_violation(shapes):
    g = clean_graph()
    g.add((MEASURE, KIK.inActionField, T["konzept/2023/handlungsfeld/99"]))
    [result] = assert_violation(g, shapes, MEASURE, KIK.inActionField)
    assert result.value == T["konzept/2023/handlungsfeld/99"]


def test_dangling_actor_is_a_violation(shapes):
    g = clean_graph()
    g.add((MEASURE, PROV.wasAssociatedWith, T["akteur/gibt-es-nicht"]))
    assert_violation(g, shapes, MEASURE, PROV.wasAssociatedWith)


def test_missing_label_is_a_violation(shapes):
    g = clean_graph()
    g.remove((CH1, SKOS.prefLabel, None))
    g.add((CH1, SKOS.prefLabel, Literal("Challenge 1 (fictional)", lang="en")))  # English only
    assert_violation(g, shapes, CH1, SKOS.prefLabel, KIKSH.prefLabelDe)


def test_missing_measure_title_is_a_violation(shapes):
    g = clean_graph()
    g.remove((MEASURE, DCTERMS.title, None))
    assert_violation(g, shapes, MEASURE, shape=KIKSH.anyLabelDe)


@pytest.mark.parametrize("index, row, column", [(19, 4, 1), (0, 1, 1)])
def test_grid_index_outside_grid_is_a_violation(shapes, index, row, column):
    g = clean_graph()
    g.set((CH2, KIK.gridIndex, Literal(index, datatype=rdfns.XSD.integer)))
    g.set((CH2, KIK.gridRow, Literal(row, datatype=rdfns.XSD.integer)))
    g.set((CH2, KIK.gridColumn, Literal(column, datatype=rdfns.XSD.integer)))
    results = assert_violation(g, shapes, CH2)
    if index == 19:
        outside = [r for r in results if "19" in r.messages["en"] and "18" in r.messages["en"]]
        assert outside, [r.messages for r in results]
        assert "außerhalb" in outside[0].messages["de"]
    else:
        assert any(r.source_shape == KIKSH["Challenge-indexMin"] for r in results)


def test_index_outside_a_smaller_grid_is_a_violation(shapes):
    g = clean_graph()
    g.set((GRID, KIK.gridRows, Literal(1, datatype=rdfns.XSD.integer)))
    g.set((GRID, KIK.gridColumns, Literal(2, datatype=rdfns.XSD.integer)))
    g.set((CH2, KIK.gridIndex, Literal(3, datatype=rdfns.XSD.integer)))
    g.set((CH2, KIK.gridColumn, Literal(3, datatype=rdfns.XSD.integer)))
    results = assert_violation(g, shapes, CH2)
    assert any("1 … 2" in r.messages["en"] for r in results), [r.messages for r in results]


def test_row_and_column_must_match_the_index(shapes):
    g = clean_graph()
    g.set((CH2, KIK.gridRow, Literal(2, datatype=rdfns.XSD.integer)))  # index 2 is row 1
    results = assert_violation(g, shapes, CH2)
    assert any("Row 2" in r.messages["en"] for r in results), [r.messages for r in results]


def test_two_challenges_in_one_cell_is_a_violation(shapes):
    g = clean_graph()
    g.set((CH2, KIK.gridIndex, Literal(1, datatype=rdfns.XSD.integer)))
    g.set((CH2, KIK.gridColumn, Literal(1, datatype=rdfns.XSD.integer)))
    g.set((CH2, SKOS.notation, Literal("2")))
    for focus, other in ((CH1, CH2), (CH2, CH1)):
        results = assert_violation(g, shapes, focus)
        assert any(str(other) in r.messages["de"] for r in results), [r.messages for r in results]


def test_duplicate_notation_is_a_violation(shapes):
    g = clean_graph()
    g.set((CH2, SKOS.notation, Literal("1")))
    results = assert_violation(g, shapes, CH2, shape=KIKSH.DuplicateNotationShape)
    assert str(CH1) in results[0].messages["en"]


def test_missing_source_is_a_violation(shapes):
    g = clean_graph()
    g.remove((GOAL, DCTERMS.source, None))
    assert_violation(g, shapes, GOAL, DCTERMS.source)


def test_undescribed_source_is_a_violation(shapes):
    g = clean_graph()
    page = URIRef("https://example.org/nicht-beschrieben")
    g.add((GOAL, DCTERMS.source, page))
    assert_violation(g, shapes, page, shape=KIKSH.CitedSourceShape)


def test_measure_without_concept_is_a_violation(shapes):
    g = clean_graph()
    g.remove((MEASURE, DCTERMS.isPartOf, None))
    assert_violation(g, shapes, MEASURE, DCTERMS.isPartOf)


@pytest.mark.parametrize("prop", [SDMX_MEASURE.obsValue, SDMX_DIMENSION.refPeriod, DCTERMS.source])
def test_observation_without_value_date_or_source_is_a_violation(shapes, prop):
    g = clean_graph()
    g.remove((OBSERVATION, prop, None))
    assert_violation(g, shapes, OBSERVATION, prop)


def test_unmarked_fictional_resource_is_a_violation(shapes):
    g = clean_graph()
    g.remove((GOAL, KIK.fictional, None))
    assert_violation(g, shapes, GOAL, KIK.fictional)
    g = clean_graph()
    g.set((GOAL, SKOS.prefLabel, Literal("Teilhabe stärken", lang="de")))
    assert_violation(g, shapes, GOAL, shape=KIKSH["Fictional-labels"])


def test_measure_without_profile_is_a_warning_only(shapes):
    g = clean_graph()
    g.remove((MEASURE, KIK.addressesChallenge, None))
    assert findings(g, shapes, "Violation") == []
    [warning] = findings(g, shapes, "Warning")
    assert warning.focus_node == MEASURE
    assert warning.path == KIK.addressesChallenge
    assert "Profil" in warning.messages["de"] and "Profile" in warning.messages["en"]


def test_measure_without_action_field_or_actor(shapes):
    g = clean_graph()
    g.remove((MEASURE, KIK.inActionField, None))
    g.remove((MEASURE, PROV.qualifiedAttribution, None))
    g.remove((MEASURE, PROV.wasAssociatedWith, None))
    report = validate(g, shapes)
    assert report.conforms_without_violations
    found = {(r.severity, r.source_shape) for r in report.results if r.focus_node == MEASURE}
    assert ("Warning", KIKSH["Measure-actionFieldKnown"]) in found
    assert ("Info", KIKSH["Measure-actorKnown"]) in found


def test_fewer_measures_than_declared_is_a_warning_with_both_numbers(shapes):
    g = clean_graph()
    g.set((CONCEPT, KIK.declaredMeasureCount, Literal(48, datatype=rdfns.XSD.integer)))
    second = T["massnahme/lesepaten"]
    fictional(g, second, KIK.Measure, "Lesepaten", "Reading mentors", label=DCTERMS.title)
    g.add((second, DCTERMS.isPartOf, CONCEPT))
    g.add((second, KIK.addressesChallenge, CH2))
    g.add((second, KIK.inActionField, FIELD))
    g.add((second, PROV.wasAssociatedWith, UNIT))
    assert findings(g, shapes, "Violation") == []
    [warning] = findings(g, shapes, "Warning")
    assert warning.focus_node == CONCEPT
    assert "2 von 48 Maßnahmen" in warning.messages["de"]
    assert "2 of 48 measures" in warning.messages["en"]


def test_fewer_action_fields_than_declared_is_a_warning(shapes):
    g = clean_graph()
    g.set((CONCEPT, KIK.declaredActionFieldCount, Literal(18, datatype=rdfns.XSD.integer)))
    [warning] = findings(g, shapes, "Warning")
    assert "1 of 18 action fields" in warning.messages["en"]
    assert "1 von 18 Handlungsfeldern" in warning.messages["de"]


def test_action_field_without_goal_is_a_warning(shapes):
    g = clean_graph()
    g.remove((FIELD, KIK.servesGoal, None))
    assert findings(g, shapes, "Violation") == []
    [warning] = findings(g, shapes, "Warning")
    assert (warning.focus_node, warning.path) == (FIELD, KIK.servesGoal)


@pytest.mark.parametrize(("node", "path", "value"), [
    (CH1, KIK.gridIndex, 0),
    (GRID, KIK.gridRows, 0),
    (CONCEPT, KIK.declaredMeasureCount, -1),
])
def test_integers_out_of_bounds_are_violations(shapes, node, path, value):
    """Counts and grid positions are xsd:integer; their bounds (≥ 0, ≥ 1) are checked here."""
    g = clean_graph()
    g.set((node, path, Literal(value, datatype=rdfns.XSD.integer)))
    assert_violation(g, shapes, node, path)


def test_a_derived_integer_type_is_a_violation(shapes):
    """Oxigraph would turn xsd:positiveInteger into xsd:integer; the sources must say xsd:integer."""
    g = clean_graph()
    g.set((GRID, KIK.gridRows, Literal(3, datatype=rdfns.XSD.positiveInteger)))
    assert_violation(g, shapes, GRID, KIK.gridRows)
