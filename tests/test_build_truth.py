"""The built graph says, row by row, what massnahmen.csv says: truth read independently of kg/.

Expected values come from the source files alone: the CSV (read with the csv module), the
municipality's own Turtle (which challenge carries grid index n, which action field notation n)
and datensatz.toml. Nothing here calls kg/measures.py, so a build step that maps the H columns to
the wrong challenges, or writes ``beginn`` into ``dcat:endDate``, fails these tests. The same
check runs on Musterstadt (hand-written) and on every municipality the generator wrote.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.cli import main as kg_main
from tests.conftest import MUSTERSTADT, REPOSITORY

KIK = "https://w3id.org/kik/ontology#"
ROLE = "https://w3id.org/kik/vocab/rolle/"
GRID_COLUMNS = [f"H{n}" for n in range(1, 19)]
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


def kik(name: str) -> URIRef:
    return URIRef(KIK + name)


@dataclass
class Source:
    """One municipality folder as its files state it."""

    base: str
    concept: URIRef
    turtle: Graph
    rows: list[dict[str, str]]

    def challenge(self, index: int) -> URIRef:
        """The challenge of the concept's grid whose ``kik:gridIndex`` is ``index`` (per the Turtle)."""
        grid = self.turtle.value(self.concept, kik("challengeGrid"))
        found = [c for c in self.turtle.subjects(kik("gridIndex"), Literal(index))
                 if (c, SKOS.inScheme, grid) in self.turtle]
        assert len(found) == 1, f"the Turtle defines one challenge {index} in {grid}: {found}"
        return URIRef(found[0])

    def action_field(self, notation: str) -> URIRef:
        found = [f for f in self.turtle.subjects(SKOS.notation, Literal(notation))
                 if (f, RDF.type, kik("ActionField")) in self.turtle
                 and (f, DCTERMS.isPartOf, self.concept) in self.turtle]
        assert len(found) == 1, f"the Turtle defines one action field {notation}: {found}"
        return URIRef(found[0])

    def defined(self, path: str, kind: str) -> URIRef:
        """``base + path``, which the Turtle must type as ``kik:<kind>``."""
        iri = URIRef(self.base + path)
        assert (iri, RDF.type, kik(kind)) in self.turtle or kind == "Actor", f"{iri} is no kik:{kind} in the sources"
        return iri


def read_source(folder: Path) -> Source:
    meta = tomllib.loads((folder / "datensatz.toml").read_text(encoding="utf-8"))
    turtle = Graph()
    for path in sorted(folder.glob("*.ttl")):
        turtle.parse(path, format="turtle")
    with open(folder / "massnahmen.csv", encoding="utf-8-sig", newline="") as f:
        rows = [row for row in csv.DictReader(f) if not row["id"].startswith("#")]
    return Source(meta["base"], URIRef(meta["concept"]), turtle, rows)


def built_graph(dist: Path, base: str) -> Graph:
    """The municipality's named graph of the build, taken from kg.nq (one statement per line)."""
    suffix = f"<{base}> .\n"
    lines = [line[: -len(suffix)] + ".\n" for line in open(dist / "kg.nq", encoding="utf-8") if line.endswith(suffix)]
    graph = Graph()
    graph.parse(data="".join(lines), format="nt")
    assert len(graph) > 0, f"no graph {base} in {dist / 'kg.nq'}"
    return graph


def date_literal(text: str) -> Literal:
    """A ``beginn``/``ende`` cell as the model states it: a year is xsd:gYear, a day xsd:date."""
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", text), text
    return Literal(text, datatype=XSD.date)


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def check_measures(source: Source, graph: Graph) -> int:
    """Assert every row against the built graph; return the number of rows checked."""
    measures = {URIRef(m) for m in graph.subjects(RDF.type, kik("Measure"))
                if (m, DCTERMS.isPartOf, source.concept) in graph}
    assert measures == {URIRef(source.base + "massnahme/" + row["id"]) for row in source.rows}
    for number, row in enumerate(source.rows, start=2):
        m = URIRef(source.base + "massnahme/" + row["id"])
        where = f"massnahmen.csv line {number} ({row['id']})"

        def objects(predicate) -> set:
            return set(graph.objects(m, predicate))

        assert objects(DCTERMS.identifier) == {Literal(row["id"])}, where
        assert Literal(row["titel"], lang="de") in objects(DCTERMS.title), where
        if row.get("titel_en"):
            assert Literal(row["titel_en"], lang="en") in objects(DCTERMS.title), where
        if row.get("beschreibung"):
            assert objects(DCTERMS.description) == {Literal(row["beschreibung"], lang="de")}, where
        marked = [int(column[1:]) for column in GRID_COLUMNS if row[column].strip()]
        assert objects(kik("addressesChallenge")) == {source.challenge(n) for n in marked}, where
        for challenge in objects(kik("addressesChallenge")):
            index = graph.value(challenge, kik("gridIndex"))
            assert index is not None and int(index) in marked, (where, challenge, index)
        assert objects(kik("inActionField")) == {source.action_field(n) for n in split(row["handlungsfelder"])}, where
        expected_actors = set()
        for pair in split(row["akteure"]):
            slug, role = pair.rsplit(":", 1)
            expected_actors.add((source.defined("akteur/" + slug, "Actor"), URIRef(ROLE + role)))
        attributions = objects(PROV.qualifiedAttribution)
        assert {(graph.value(a, PROV.agent), graph.value(a, PROV.hadRole)) for a in attributions} == expected_actors, where
        assert len(attributions) == len(expected_actors), where
        assert objects(PROV.wasAssociatedWith) == {actor for actor, _ in expected_actors}, where
        assert objects(kik("targetGroup")) == {source.defined("zielgruppe/" + t, "TargetGroup")
                                               for t in split(row["zielgruppen"])}, where
        assert objects(kik("ageRange")) == {source.defined("altersbereich/" + a, "AgeRange")
                                            for a in split(row["altersbereich"])}, where
        assert objects(kik("fundingSource")) == {source.defined("finanzierung/" + f, "FundingSource")
                                                 for f in split(row["finanzierung"])}, where
        assert objects(kik("steeringLogic")) == {source.defined("steuerung/" + s, "SteeringLogic")
                                                 for s in split(row["steuerungslogik"])}, where
        periods = objects(DCTERMS.temporal)
        if row["beginn"] or row["ende"]:
            assert len(periods) == 1, where
            period = periods.pop()
            starts = set(graph.objects(period, DCAT.startDate))
            ends = set(graph.objects(period, DCAT.endDate))
            assert starts == ({date_literal(row["beginn"])} if row["beginn"] else set()), (where, starts)
            assert ends == ({date_literal(row["ende"])} if row["ende"] else set()), (where, ends)
        else:
            assert not periods, where
        assert objects(DCTERMS.source) == {URIRef(row["quelle"])}, where
        assert objects(kik("sourcePage")) == ({Literal(row["seite"])} if row["seite"] else set()), where
    return len(source.rows)


def test_musterstadt_measures_are_the_csv_rows(dist_dir) -> None:
    source = read_source(MUSTERSTADT)
    checked = check_measures(source, built_graph(dist_dir, source.base))
    with open(MUSTERSTADT / "massnahmen.csv", encoding="utf-8-sig", newline="") as f:
        assert checked == sum(1 for _ in csv.reader(f)) - 1 == 48


def test_musterstadt_csv_exercises_every_column() -> None:
    """The check above is only as good as its data: every column is used, with years and days."""
    rows = read_source(MUSTERSTADT).rows
    assert len({c for c in GRID_COLUMNS for row in rows if row[c]}) >= 12, "most grid columns are marked"
    for column in ["titel_en", "beschreibung", "handlungsfelder", "akteure", "zielgruppen",
                   "altersbereich", "finanzierung", "steuerungslogik", "beginn", "ende", "seite"]:
        assert any(row[column] for row in rows), column
    assert any(len(r["beginn"]) == 4 for r in rows) and any(len(r["beginn"]) == 10 for r in rows)
    assert any(r["beginn"] and r["ende"] and r["beginn"] != r["ende"] for r in rows)
    assert any(len(split(r["akteure"])) > 1 for r in rows)


def test_generated_measures_are_the_csv_rows_the_generator_wrote(generated_build) -> None:
    dist = generated_build(50)
    folders = sorted((dist.parent / "data").glob("gen-*"))
    assert len(folders) == 50
    checked = 0
    for folder in folders:
        source = read_source(folder)
        checked += check_measures(source, built_graph(dist, source.base))
    assert checked > 50


def test_hamm_completeness_is_stated_as_zero_of_48(dist_dir, capsys) -> None:
    """Hamm's concept names 48 measures and no source lists them: ``kg stats`` says so in words."""
    capsys.readouterr()
    assert kg_main(["stats", "--dist", str(dist_dir)]) == 0
    text = capsys.readouterr().out
    section = text.split("<https://w3id.org/kik/hamm/konzept/2018>", 1)[1].split("\n\n", 1)[0]
    assert "  0 von 48 Maßnahmen des Konzepts erfasst\n" in section + "\n"
    assert "18 von 18 Herausforderungen im Raster" in section
    with open(REPOSITORY / "data" / "hamm" / "massnahmen.csv", encoding="utf-8-sig", newline="") as f:
        assert [row for row in csv.DictReader(f) if not row["id"].startswith("#")] == []
