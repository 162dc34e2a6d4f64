"""kg.validate: loading shapes, reading the report, the three output formats and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as rdfns
from rdflib.namespace import DCTERMS, SH, SKOS

from kg.errors import SourceError
from kg.namespace import KIK
from kg.validate import SHAPES_DIR, exit_code, format_report, load_shapes, validate
from tests.test_shapes import CH1, CH2, CONCEPT, FIELD, GOAL, MEASURE, clean_graph

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def mixed_report(shapes):
    """Two broken resources (violations) and two incomplete ones (warnings)."""
    g = clean_graph()
    g.remove((GOAL, DCTERMS.source, None))                      # violation on the goal
    g.set((CH2, KIK.gridIndex, Literal(19, datatype=rdfns.XSD.integer)))  # violations on challenge 2
    g.remove((FIELD, KIK.servesGoal, None))                     # warning on the action field
    g.set((CONCEPT, KIK.declaredMeasureCount, Literal(48, datatype=rdfns.XSD.integer)))  # warning
    return validate(g, shapes)


def test_load_shapes_reads_every_file_of_the_shapes_folder():
    shapes = load_shapes()
    assert SHAPES_DIR == REPOSITORY / "shapes"
    files = sorted(SHAPES_DIR.glob("*.ttl"))
    assert len(files) >= 1
    expected = Graph()
    for path in files:
        expected.parse(path)
    assert len(shapes) == len(expected)
    assert (None, SH.targetClass, KIK.Measure) in shapes


def test_every_shape_message_is_german_and_english(shapes):
    owners = set(shapes.subjects(SH.message, None))
    assert owners
    for owner in owners:
        languages = sorted(m.language for m in shapes.objects(owner, SH.message))
        assert languages == ["de", "en"], (owner, languages)
    # every named property shape and every SPARQL constraint speaks for itself
    named_property_shapes = {s for s in shapes.subjects(SH.path, None) if isinstance(s, URIRef)}
    sparql_constraints = set(shapes.objects(None, SH.sparql))
    assert named_property_shapes and sparql_constraints
    for node in named_property_shapes | sparql_constraints:
        assert node in owners, node
    # a node shape with a target and a constraint of its own carries messages too
    constraint_parameters = (SH["class"], SH.datatype, SH.minCount, SH.maxCount, SH.pattern, SH["in"])
    for shape in set(shapes.subjects(SH.targetClass, None)) | set(shapes.subjects(SH.targetObjectsOf, None)):
        if any((shape, parameter, None) in shapes for parameter in constraint_parameters):
            assert shape in owners, shape


def test_load_shapes_names_file_and_line_of_a_syntax_error(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n\nthis is not turtle\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_shapes([bad])
    assert caught.value.file == bad
    assert caught.value.line == 3
    assert "bad.ttl" in caught.value.message("de")


def test_load_shapes_reports_a_missing_file(tmp_path):
    with pytest.raises(SourceError) as caught:
        load_shapes([tmp_path / "fehlt.ttl"])
    assert "not found" in caught.value.message("en")


def test_validate_loads_the_default_shapes_itself():
    report = validate(clean_graph())
    assert report.conforms_without_violations
    assert report.results == []


def test_validate_does_not_change_the_data_graph(shapes):
    g = clean_graph()
    before = set(g)
    validate(g, shapes)
    assert set(g) == before


def test_report_results_are_sorted_violations_first(mixed_report):
    severities = [r.severity for r in mixed_report.results]
    assert severities == sorted(severities, key=["Violation", "Warning", "Info"].index)
    assert mixed_report.counts()["Violation"] >= 2
    assert mixed_report.counts()["Warning"] == 2
    assert not mixed_report.conforms_without_violations


def test_text_is_grouped_by_resource_with_its_label(mixed_report):
    text = format_report(mixed_report, lang="de", fmt="text")
    lines = text.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    goal_heading = f"Teilhabe stärken (fiktiv) <{GOAL}>"
    challenge_heading = f"Herausforderung 2 (fiktiv) <{CH2}>"
    field_heading = f"Sprache (fiktiv) <{FIELD}>"
    for heading in (goal_heading, challenge_heading, field_heading):
        assert headings.count(heading) == 1, headings
    # resources with violations come before resources with warnings only
    assert headings.index(goal_heading) < headings.index(field_heading)
    assert headings.index(challenge_heading) < headings.index(field_heading)
    # the findings follow their heading, indented, in German
    start = lines.index(goal_heading)
    assert lines[start + 1].startswith("  [Verstoß] Quelle fehlt")
    start = lines.index(field_heading)
    assert lines[start + 1].startswith("  [Warnung] Zuordnung fehlt")
    assert "Zusammenfassung: " in text and " Verstöße, 2 Warnungen, 0 Hinweise" in text
    assert "Ergebnis: Verstöße gefunden." in text


def test_text_switches_language(mixed_report):
    text = format_report(mixed_report, lang="en", fmt="text")
    assert "SHACL validation report" in text
    assert f"Strengthen participation (fictional) <{GOAL}>" in text
    assert "  [violation] Missing source" in text
    assert "  [warning] Incomplete: 1 of 48 measures of the concept recorded." in text
    assert "Summary: " in text and "2 warnings, 0 infos" in text
    assert "Verstoß" not in text and "Warnung" not in text


def test_text_of_a_clean_report(shapes):
    text = format_report(validate(clean_graph(), shapes), lang="de")
    assert "Keine Befunde." in text
    assert "0 Verstöße, 0 Warnungen, 0 Hinweise" in text
    assert "Ergebnis: keine Verstöße." in text


def test_json_is_a_parseable_list_of_results(mixed_report):
    items = json.loads(format_report(mixed_report, lang="en", fmt="json"))
    assert isinstance(items, list) and len(items) == len(mixed_report.results)
    by_focus = {item["focusNode"]: item for item in items}
    goal = by_focus[str(GOAL)]
    assert goal["severity"] == "Violation"
    assert goal["path"] == "dct:source"
    assert goal["focusLabel"] == "Strengthen participation (fictional)"
    assert set(goal["messages"]) == {"de", "en"}
    assert goal["message"] == goal["messages"]["en"]
    assert goal["sourceShape"] == "https://w3id.org/kik/shapes#sourceRequired"
    concept = by_focus[str(CONCEPT)]
    assert concept["severity"] == "Warning"
    assert "1 von 48" in concept["messages"]["de"] and "1 of 48" in concept["messages"]["en"]


def test_turtle_is_the_shacl_report_graph_with_language_tags(mixed_report):
    report = Graph().parse(data=format_report(mixed_report, fmt="turtle"), format="turtle")
    assert (None, SH.conforms, Literal(False)) in report
    results = set(report.subjects(SH.focusNode, CONCEPT))
    assert len(results) == 1
    messages = {m.language: str(m) for m in report.objects(next(iter(results)), SH.resultMessage)}
    assert messages["de"].startswith("Unvollständig: 1 von 48")
    assert messages["en"].startswith("Incomplete: 1 of 48")


def test_unknown_format_or_language_is_refused(mixed_report):
    with pytest.raises(ValueError, match="format"):
        format_report(mixed_report, fmt="xml")
    with pytest.raises(ValueError, match="language"):
        format_report(mixed_report, lang="fr")


def test_exit_code_fails_only_on_violations(shapes, mixed_report):
    assert exit_code(mixed_report) == 1
    g = clean_graph()
    g.remove((MEASURE, KIK.addressesChallenge, None))  # warning only
    g.remove((MEASURE, KIK.inActionField, None))       # warning only
    warnings_only = validate(g, shapes)
    assert warnings_only.results and warnings_only.conforms_without_violations
    assert exit_code(warnings_only) == 0
    assert exit_code(validate(clean_graph(), shapes)) == 0


def test_a_focus_node_without_label_is_shown_by_its_iri(shapes):
    g = clean_graph()
    g.remove((CH1, SKOS.prefLabel, None))
    text = format_report(validate(g, shapes), lang="en")
    assert f"<{CH1}>" in text.splitlines()


DATA_FILES = sorted((REPOSITORY / "data").glob("*/*.ttl"))
VOCABULARIES = REPOSITORY / "ontology" / "vocabularies.ttl"


def test_real_data_turtle_files_have_no_violations(shapes):
    """The union of every data/*/*.ttl (plus the shared vocabularies) passes the shapes."""
    assert DATA_FILES, "no data/*/*.ttl files found"
    g = Graph()
    for path in DATA_FILES:
        g.parse(path, format="turtle")
    if VOCABULARIES.is_file():
        g.parse(VOCABULARIES, format="turtle")
    report = validate(g, shapes)
    assert report.conforms_without_violations, format_report(report, lang="en")


def test_real_build_has_no_violations(shapes):
    """What `kg build` validates (Turtle files, massnahmen.csv, vocabularies) passes the shapes."""
    from kg.build import build_dataset, union_graph

    folders = sorted(p.parent for p in (REPOSITORY / "data").glob("*/datensatz.toml"))
    assert folders, "no data/*/datensatz.toml found"
    report = validate(union_graph(build_dataset(folders)), shapes)
    assert report.conforms_without_violations, format_report(report, lang="en")
