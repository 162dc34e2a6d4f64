"""Workbooks as measures tables: ``kg template`` writes them, ``kg build`` reads them like the CSV.

The round trip is checked against the CSV's own build (rdflib isomorphism of the named graphs); the
template's notes and lists are checked against the Turtle read here with rdflib, not by kg.
"""

from __future__ import annotations

import csv
import shutil
import tomllib
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS

from kg.cli import main as kg_main
from kg.errors import SourceError
from kg.measures import read_table
from kg.sources import measures_file
from kg.spreadsheet import SHEET, WorkbookLimits, limited, read_sheet

REPOSITORY = Path(__file__).resolve().parents[1]
MUSTERSTADT = REPOSITORY / "data" / "musterstadt"
KIK = "https://w3id.org/kik/ontology#"


def _structure_copy(source: Path, target: Path) -> Path:
    """The folder's Turtle and settings without its measures table."""
    target.mkdir(parents=True)
    for path in [*source.glob("*.ttl"), source / "datensatz.toml"]:
        shutil.copyfile(path, target / path.name)
    return target


def _build(folder: Path, dist: Path, capsys=None) -> Graph:
    """``kg build`` of one folder; the municipality's named graph (its name is the folder's base)."""
    code = kg_main(["build", str(folder), "--dist", str(dist), "--quiet"])
    assert code == 0, capsys.readouterr().err if capsys else code
    base = tomllib.loads((folder / "datensatz.toml").read_text(encoding="utf-8"))["base"]
    dataset = Dataset()
    dataset.parse(dist / "kg.nq", format="nquads")
    graph = Graph()
    graph += dataset.graph(URIRef(base))
    return graph


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]


@pytest.fixture(scope="module")
def generated_folder(tmp_path_factory) -> Path:
    from kg.generate import generate_municipalities

    return generate_municipalities(1, tmp_path_factory.mktemp("gen") / "data", seed=7)[0]


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
@pytest.mark.parametrize("which", ["musterstadt", "generated"])
def test_round_trip_gives_the_csv_triples(which, fmt, generated_folder, tmp_path, capsys):
    source = MUSTERSTADT if which == "musterstadt" else generated_folder
    workbook = tmp_path / f"vorlage.{fmt}"
    assert kg_main(["template", str(source), "--format", fmt, "--out", str(workbook)]) == 0
    only_workbook = _structure_copy(source, tmp_path / "folder")
    shutil.copyfile(workbook, only_workbook / f"massnahmen.{fmt}")
    assert not (only_workbook / "massnahmen.csv").exists()
    from_csv = _build(source, tmp_path / "csv" / "dist", capsys)
    from_workbook = _build(only_workbook, tmp_path / "wb" / "dist", capsys)
    measures = set(from_csv.subjects(RDF.type, URIRef(KIK + "Measure")))
    assert len(measures) == len(_csv_rows(source / "massnahmen.csv")) > 0
    assert len(from_csv) == len(from_workbook)
    assert isomorphic(from_csv, from_workbook)


def test_template_content_follows_the_turtle(tmp_path):
    """Header notes name the challenges; H columns accept only x; lists hold the declared resources."""
    out = tmp_path / "m.xlsx"
    assert kg_main(["template", str(MUSTERSTADT), "--out", str(out)]) == 0
    turtle = Graph()
    for path in MUSTERSTADT.glob("*.ttl"):
        turtle.parse(path, format="turtle", publicID="https://w3id.org/kik/fiktiv/musterstadt/")
    names = {int(i): str(label) for c in turtle.subjects(RDF.type, URIRef(KIK + "Challenge"))
             for i in turtle.objects(c, URIRef(KIK + "gridIndex"))
             for label in turtle.objects(c, SKOS.prefLabel) if label.language == "de"}
    assert len(names) == 18
    book = load_workbook(out)
    assert book.sheetnames[0] == SHEET and "Anleitung" in book.sheetnames
    sheet = book[SHEET]
    header = [c.value for c in sheet[1]]
    with (MUSTERSTADT / "massnahmen.csv").open(encoding="utf-8") as stream:
        assert set(header) >= set(next(csv.reader(stream)))
    for index, name in names.items():
        cell = sheet.cell(row=1, column=header.index(f"H{index}") + 1)
        assert name in cell.comment.text
    rules = {str(r.sqref): r for r in sheet.data_validations.dataValidation}
    h1 = sheet.cell(row=1, column=header.index("H1") + 1).column_letter
    rule = next(r for ref, r in rules.items() if ref.startswith(f"{h1}2:"))
    assert rule.type == "list" and rule.formula1 == '"x"' and rule.showErrorMessage
    # measures pre-filled as in the CSV
    rows = _csv_rows(MUSTERSTADT / "massnahmen.csv")
    ids = [sheet.cell(row=r, column=1).value for r in range(2, len(rows) + 2)]
    assert ids == [row["id"] for row in rows]
    # the actors list: every actor the Turtle declares, with every role
    actors = {str(s).rsplit("/", 1)[1] for s in turtle.subjects(RDF.type, None)
              if str(s).startswith("https://w3id.org/kik/fiktiv/musterstadt/akteur/")}
    listed = {book["Akteure"].cell(row=r, column=2).value for r in range(2, book["Akteure"].max_row + 1)}
    assert actors and listed == actors
    # the instructions: German first, English second
    texts = [c.value for c in book["Anleitung"]["A"] if c.value]
    assert texts.index(next(t for t in texts if t.startswith("Anleitung"))) < texts.index(next(t for t in texts if t.startswith("Instructions")))


def _workbook(tmp_path: Path, edit, name: str = "massnahmen.xlsx") -> Path:
    """A copy of Musterstadt's template with one change made by ``edit(workbook, sheet)``."""
    template = tmp_path / "vorlage.xlsx"
    if not template.exists():
        assert kg_main(["template", str(MUSTERSTADT), "--out", str(template)]) == 0
    book = load_workbook(template)
    edit(book, book[SHEET])
    folder = tmp_path / "folder"
    if not folder.exists():
        _structure_copy(MUSTERSTADT, folder)
    path = folder / name
    book.save(path)
    return path


def _build_error(path: Path, capsys) -> str:
    code = kg_main(["build", str(path.parent), "--dist", str(path.parent.parent / "dist"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    return err


def _column(sheet, name: str) -> str:
    return next(c.column_letter for c in sheet[1] if c.value == name)


BAD_EDITS = {
    "formula": (lambda b, s: s.__setitem__("B3", "=A2&\" neu\""), ["Formel", "Zeile 3", "Spalte B", "Nur Werte"]),
    "merged": (lambda b, s: s.merge_cells("B4:D4"), ["B4:D4", "verbunden", "Zeile 4", "Spalte B"]),
    "hidden row": (lambda b, s: setattr(s.row_dimensions[5], "hidden", True), ["ausgeblendet", "Zeile 5", "einblenden"]),
    "extra sheet": (lambda b, s: b.create_sheet("Tabelle2").__setitem__("C7", "noch eine Maßnahme"),
                    ["Blatt „Tabelle2“", "Zeile 7", "Spalte C", "nur im Blatt „Maßnahmen“"]),
    "bad mark": (lambda b, s: s.cell(row=6, column=6, value="ja"), ["Blatt „Maßnahmen“", "Zeile 6", "Spalte F (H2)", "„ja“ ist keine Markierung"]),
    "unknown column": (lambda b, s: s.cell(row=1, column=3, value="titel_fr"), ["Zeile 1", "Spalte C (titel_fr)", "unbekannte Spalte"]),
    "value without header": (lambda b, s: s.cell(row=8, column=40, value="x"), ["Zeile 8", "Spalte AN", "keine Überschrift"]),
    "unknown actor": (lambda b, s: s.cell(row=2, column=24, value="niemand:traeger"), ["Zeile 2", "Spalte X (akteure)", "Akteur „niemand“ ist nicht bekannt"]),
    "missing sheet": (lambda b, s: setattr(s, "title", "Tabelle1"), ["Blatt „Maßnahmen“ fehlt", "Tabelle1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_bad_workbook_is_refused_with_sheet_row_column_and_fix(case, tmp_path, capsys):
    edit, expected = BAD_EDITS[case]
    path = _workbook(tmp_path, edit)
    err = _build_error(path, capsys)
    assert "massnahmen.xlsx" in err and "Abhilfe:" in err
    for text in expected:
        assert text in err, (text, err)
    assert not (tmp_path / "dist").exists(), "nothing is published"


def test_template_columns_match_the_letters_used_above(tmp_path):
    book = load_workbook(_workbook(tmp_path, lambda b, s: None))
    sheet = book[SHEET]
    assert (_column(sheet, "H2"), _column(sheet, "akteure")) == ("F", "X")


def test_dates_and_numbers_become_the_csv_text(tmp_path):
    def edit(book, sheet):
        sheet.cell(row=2, column=_letter_index(sheet, "beginn"), value=datetime(2019, 8, 1))
        sheet.cell(row=2, column=_letter_index(sheet, "seite"), value=34)
        sheet.cell(row=2, column=_letter_index(sheet, "ende"), value=2024.0)

    path = _workbook(tmp_path, edit)
    _, rows = read_table(path, 18)
    first = rows[0][1]
    assert (first["beginn"], first["seite"], first["ende"]) == ("2019-08-01", "34", "2024")
    assert rows[0][0] == 2  # rows keep their sheet row


def _letter_index(sheet, name: str) -> int:
    return next(c.column for c in sheet[1] if c.value == name)


def test_two_measures_tables_are_refused(tmp_path, capsys):
    path = _workbook(tmp_path, lambda b, s: None)
    shutil.copyfile(MUSTERSTADT / "massnahmen.csv", path.parent / "massnahmen.csv")
    with pytest.raises(SourceError) as caught:
        measures_file(path.parent)
    assert "massnahmen.csv, massnahmen.xlsx" in caught.value.message("de")
    assert "mehrere Maßnahmentabellen" in _build_error(path, capsys)


def test_macro_workbook_is_refused(tmp_path, capsys):
    path = _workbook(tmp_path, lambda b, s: None, name="massnahmen.xlsm")
    err = _build_error(path, capsys)
    assert "Makros" in err and ".xlsx" in err
    # the same content with macros inside but named .xlsx
    disguised = path.with_name("massnahmen.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(disguised, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\0" * 64)
    path.unlink()
    assert "enthält Makros" in _build_error(disguised, capsys)


def test_not_a_workbook_and_zip_bomb(tmp_path):
    fake = tmp_path / "massnahmen.xlsx"
    fake.write_bytes(b"id,titel,quelle\n")
    with pytest.raises(SourceError) as caught:
        read_sheet(fake)
    assert "keine Arbeitsmappe" in caught.value.message("de")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)
    assert bomb.stat().st_size < 100_000
    with limited(WorkbookLimits(max_bytes=1_000_000)), pytest.raises(SourceError) as caught:
        read_sheet(bomb, max_bytes=1_000_000)
    assert "5.000.000 Bytes" in caught.value.message("de")


def test_too_many_rows_refused_before_loading(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(["id", "titel", "quelle"])
    for number in range(300):
        sheet.append([f"m-{number}", "T", "https://example.org/"])
    path = tmp_path / "massnahmen.xlsx"
    book.save(path)
    with pytest.raises(SourceError) as caught:
        read_sheet(path, max_rows=100)
    assert "mehr als 100 Zeilen" in caught.value.message("de")
    assert len(read_sheet(path).rows) == 300


def test_ods_without_libreoffice_says_how_to_fix(tmp_path, monkeypatch):
    ods = tmp_path / "massnahmen.ods"
    assert kg_main(["template", str(MUSTERSTADT), "--format", "ods", "--out", str(ods)]) == 0
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SourceError) as caught:
        read_sheet(ods)
    assert "libreoffice-calc-nogui" in caught.value.message("de")
    code = kg_main(["template", str(MUSTERSTADT), "--format", "ods", "--out", str(tmp_path / "x.ods")])
    assert code == 2 and not (tmp_path / "x.ods").exists()


def test_far_away_cells_cost_nothing(tmp_path):
    """A formatted cell at the sheet's last position (a few bytes in the file) does not make the
    reader walk a million rows by sixteen thousand columns; a far value is read at its place."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(["id", "titel", "quelle"])
    sheet.append(["m-1", "T", "https://example.org/"])
    sheet.cell(row=1_048_576, column=16_384).number_format = "@"
    sheet.cell(row=900_000, column=1, value="m-2")
    path = tmp_path / "massnahmen.xlsx"
    book.save(path)
    assert path.stat().st_size < 20_000
    read = read_sheet(path, max_rows=100)
    assert [(number, cells[0]) for number, cells in read.rows] == [(2, "m-1"), (900_000, "m-2")]
