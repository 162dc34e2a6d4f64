"""The measures table (``massnahmen.csv``, ``.xlsx`` or ``.ods``) → RDF.

City staff keep measures in a spreadsheet: one row per measure, the profile as one column per
grid cell. This module turns such a table into triples and refuses, with row and column, anything
it cannot read unambiguously. A workbook is first read into text cells by ``kg.spreadsheet``; every
check after that is the same for CSV and workbook, and a workbook's errors name sheet, row and
column letter.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, SKOS
from rdflib.term import Node

from kg.errors import SourceError
from kg.namespace import KIK, ROLE, bind_prefixes
from kg.sources import DatasetSettings, decode_utf8
from kg.spreadsheet import Sheet, WorkbookLimits, WorkbookTooLarge, column_letter, current_limits, read_sheet

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
YEAR_PATTERN = re.compile(r"^\d{4}$")
MARKS = {"x"}
ROLES = ("traeger", "partner", "foerderer", "kontakt")
REQUIRED_COLUMNS = ("id", "titel", "quelle")
OPTIONAL_COLUMNS = (
    "titel_en", "beschreibung", "handlungsfelder", "akteure", "zielgruppen", "altersbereich",
    "finanzierung", "steuerungslogik", "beginn", "ende", "seite",
)
GRID_COLUMN = re.compile(r"^H(\d+)$")


@dataclass(frozen=True)
class Grid:
    """The concept's challenge grid: which challenge sits at which index."""

    size: int
    challenges: dict[int, URIRef]


def concept_grid(structure: Graph, settings: DatasetSettings, path: Path) -> Grid:
    """Find the grid of the concept the table belongs to, from the Turtle sources."""
    grid = structure.value(settings.concept, KIK.challengeGrid)
    if grid is None:
        raise SourceError(
            path, None, None,
            f"Das Konzept {settings.concept} hat kein Herausforderungsraster (kik:challengeGrid).",
            "Im Turtle des Konzepts kik:challengeGrid und die 18 kik:Challenge mit kik:gridIndex angeben.",
            f"the concept {settings.concept} has no challenge grid (kik:challengeGrid).",
            "declare kik:challengeGrid and its kik:Challenge nodes with kik:gridIndex in the concept's Turtle.",
        )
    rows = structure.value(grid, KIK.gridRows)
    columns = structure.value(grid, KIK.gridColumns)
    size = int(rows) * int(columns) if rows is not None and columns is not None else 18
    challenges = {
        int(index): challenge
        for challenge in structure.subjects(SKOS.inScheme, grid)
        for index in structure.objects(challenge, KIK.gridIndex)
    }
    return Grid(size=size, challenges=challenges)


@dataclass(frozen=True)
class CsvTable:
    """Where CSV errors point: the file, its line and the column's name."""

    path: Path

    def error(self, line: int | None, column: str | None, what: tuple[str, str], hint: tuple[str, str]) -> SourceError:
        return SourceError(self.path, line, column, what[0], hint[0], what[1], hint[1])


class SheetTable:
    """Where workbook errors point: the file, the sheet, its row and the column's letter and name."""

    def __init__(self, sheet: Sheet) -> None:
        self.path = sheet.path
        self.sheet = sheet

    def error(self, line: int | None, column: str | None, what: tuple[str, str], hint: tuple[str, str]) -> SourceError:
        return self.sheet.error(line, self.sheet.column(column) if column else column, what, hint)


Table = CsvTable | SheetTable


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _csv_cells(path: Path, table: CsvTable) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and rows (with their line) of a CSV file."""
    text = decode_utf8(path)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise table.error(
            1, None,
            ("Die Tabelle ist leer; es fehlt die Kopfzeile.", "the table is empty; the header row is missing."),
            ("Kopfzeile aus data/vorlage/massnahmen.csv übernehmen.", "copy the header from data/vorlage/massnahmen.csv."),
        ) from None
    return header, [(reader.line_num, cells) for cells in reader]


def open_table(path: Path, limits: WorkbookLimits | None = None) -> tuple[Table, list[str], list[tuple[int, list[str]]]]:
    """The raw cells of a measures file, CSV or workbook, and where its errors point."""
    limits = limits or current_limits()
    if path.suffix.lower() == ".csv":
        table = CsvTable(path)
        header, rows = _csv_cells(path, table)
        if limits.max_rows is not None and len(rows) > limits.max_rows:
            raise WorkbookTooLarge(
                path, None, None, f"Die Tabelle hat mehr als {limits.max_rows} Zeilen.",
                "Nur die Maßnahmen eintragen, eine Zeile je Maßnahme.",
                f"the table has more than {limits.max_rows} rows.", "enter only the measures, one row each.")
        return table, header, rows
    sheet = read_sheet(path, max_bytes=limits.max_bytes, max_rows=limits.max_rows, timeout=limits.timeout)
    return SheetTable(sheet), sheet.header, sheet.rows


def read_table(path: Path, grid_size: int, limits: WorkbookLimits | None = None) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read and check the table's shape: header, column names, cell counts. Rows keep their line."""
    _, header, rows = checked_table(path, grid_size, limits)
    return header, rows


def checked_table(path: Path, grid_size: int, limits: WorkbookLimits | None = None) -> tuple[Table, list[str], list[tuple[int, dict[str, str]]]]:
    """``read_table`` with the table, so later errors point at the same sheet, row and column."""
    table, header, raw_rows = open_table(path, limits)
    if not header:
        raise table.error(
            1, None,
            ("Die Tabelle ist leer; es fehlt die Kopfzeile.", "the table is empty; the header row is missing."),
            ("Kopfzeile aus data/vorlage/massnahmen.csv übernehmen (oder kg template).",
             "copy the header from data/vorlage/massnahmen.csv (or use kg template)."),
        )
    header = [name.strip() for name in header]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | {f"H{i}" for i in range(1, grid_size + 1)}
    for position, name in enumerate(header, start=1):
        match = GRID_COLUMN.match(name)
        if match and int(match.group(1)) > grid_size:
            raise table.error(
                1, name,
                (f"Rasterspalte {name}: das Raster hat nur {grid_size} Felder (H1–H{grid_size}).",
                 f"grid column {name}: the grid has only {grid_size} cells (H1–H{grid_size})."),
                (f"Spalte {name} löschen oder die Markierung in die richtige Spalte H1–H{grid_size} setzen.",
                 f"delete column {name} or move its marks to the right column H1–H{grid_size}."),
            )
        if name not in known:
            raise table.error(
                1, name or f"#{position}",
                (f"unbekannte Spalte „{name}“.", f"unknown column '{name}'."),
                ("Schreibweise prüfen; erlaubt sind: " + ", ".join(sorted(known, key=_column_order)),
                 "check the spelling; allowed are: " + ", ".join(sorted(known, key=_column_order))),
            )
        if header.count(name) > 1:
            raise table.error(
                1, name,
                (f"Spalte „{name}“ kommt mehrfach vor.", f"column '{name}' appears more than once."),
                ("Doppelte Spalte löschen.", "delete the duplicate column."),
            )
    required = list(REQUIRED_COLUMNS) + [f"H{i}" for i in range(1, grid_size + 1)]
    for name in required:
        if name not in header:
            raise table.error(
                1, None if isinstance(table, SheetTable) else name,
                (f"Pflichtspalte „{name}“ fehlt.", f"required column '{name}' is missing."),
                (f"Spalte „{name}“ in die Kopfzeile aufnehmen (siehe data/vorlage/massnahmen.csv).",
                 f"add column '{name}' to the header (see data/vorlage/massnahmen.csv)."),
            )
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in raw_rows:
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) > len(header):
            extra = len(header) + 1
            raise table.error(
                line, f"{extra} ({_spreadsheet_column(extra)})",
                (f"die Zeile hat {len(cells)} Zellen, die Kopfzeile nur {len(header)}: Wert „{cells[len(header)]}“ steht außerhalb der Tabelle"
                 f" (z. B. eine Markierung in Rasterspalte {grid_size + 1}).",
                 f"the row has {len(cells)} cells but the header only {len(header)}: value '{cells[len(header)]}' lies outside the table"
                 f" (e.g. a mark in grid column {grid_size + 1})."),
                ("Den Wert in die richtige Spalte verschieben oder löschen.", "move the value to the right column or delete it."),
            )
        cells = cells + [""] * (len(header) - len(cells))
        rows.append((line, {name: cell.strip() for name, cell in zip(header, cells)}))
    return table, header, rows


def _column_order(name: str) -> tuple[int, int, str]:
    match = GRID_COLUMN.match(name)
    if match:
        return (1, int(match.group(1)), name)
    order = list(REQUIRED_COLUMNS) + list(OPTIONAL_COLUMNS)
    return (0 if name in order else 2, order.index(name) if name in order else 0, name)


_spreadsheet_column = column_letter


def _date_literal(value: str) -> Literal | None:
    if YEAR_PATTERN.match(value):
        return Literal(value, datatype=XSD.gYear)
    try:
        return Literal(date.fromisoformat(value).isoformat(), datatype=XSD.date)
    except ValueError:
        return None


def measures_graph(path: Path, settings: DatasetSettings, structure: Graph) -> Graph:
    """Turn the measures table into triples; every reference must exist in ``structure``."""
    graph = Graph()
    bind_prefixes(graph)
    graph.addN((s, p, o, graph) for s, p, o in measures_triples(path, settings, structure))
    return graph


class _Triples(list):
    """A list with ``add``: collects triples without building an rdflib graph (a build adds them
    straight to the dataset's named graph; each rdflib copy of a triple costs as much as reading it)."""

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        self.append(triple)


def measures_triples(path: Path, settings: DatasetSettings, structure: Graph) -> list[tuple[Node, Node, Node]]:
    """The triples of ``measures_graph`` as a list (may repeat a triple), in table order."""
    grid = concept_grid(structure, settings, path)
    table, _, rows = checked_table(path, grid.size)
    graph = _Triples()
    seen: dict[str, int] = {}

    def must_exist(iri: URIRef, line: int, column: str, value: str, kind: tuple[str, str]) -> URIRef:
        if (iri, RDF.type, None) not in structure:
            raise table.error(
                line, column,
                (f"{kind[0]} „{value}“ ist nicht bekannt ({iri}).", f"unknown {kind[1]} '{value}' ({iri})."),
                (f"Schreibweise prüfen oder „{value}“ zuerst in den Turtle-Dateien von {settings.folder} anlegen.",
                 f"check the spelling or first declare the {kind[1]} in the Turtle files of {settings.folder}."),
            )
        return iri

    for line, row in rows:
        identifier = row["id"]
        if not ID_PATTERN.match(identifier):
            raise table.error(
                line, "id",
                (f"ungültige Kennung „{identifier}“.", f"invalid id '{identifier}'."),
                ("Nur Kleinbuchstaben, Ziffern und Bindestriche verwenden, z. B. sprachkurs-muetter.",
                 "use lower-case letters, digits and hyphens only, e.g. sprachkurs-muetter."),
            )
        if identifier in seen:
            raise table.error(
                line, "id",
                (f"Kennung „{identifier}“ gibt es schon in Zeile {seen[identifier]}.",
                 f"id '{identifier}' is already used in line {seen[identifier]}."),
                ("Jede Maßnahme braucht eine eigene Kennung: eine der beiden umbenennen.",
                 "every measure needs its own id: rename one of the two."),
            )
        seen[identifier] = line
        for column in REQUIRED_COLUMNS:
            if not row[column]:
                raise table.error(
                    line, column,
                    (f"Pflichtfeld „{column}“ ist leer.", f"required cell '{column}' is empty."),
                    (f"„{column}“ ausfüllen.", f"fill in '{column}'."),
                )
        source = row["quelle"]
        if urlparse(source).scheme not in ("http", "https"):
            raise table.error(
                line, "quelle",
                (f"Quelle „{source}“ ist keine Web-Adresse.", f"source '{source}' is not a web address."),
                ("Die vollständige Adresse mit https:// angeben.", "give the full address starting with https://."),
            )

        measure = URIRef(f"{settings.base}massnahme/{identifier}")
        graph.add((measure, RDF.type, KIK.Measure))
        graph.add((measure, DCTERMS.identifier, Literal(identifier)))
        graph.add((measure, DCTERMS.isPartOf, settings.concept))
        for column, language in (("titel", "de"), ("titel_en", "en")):
            if row.get(column):
                graph.add((measure, DCTERMS.title, Literal(row[column], lang=language)))
                graph.add((measure, RDFS.label, Literal(row[column], lang=language)))
        if row.get("beschreibung"):
            graph.add((measure, DCTERMS.description, Literal(row["beschreibung"], lang="de")))
        graph.add((measure, DCTERMS.source, URIRef(source)))
        if row.get("seite"):
            graph.add((measure, KIK.sourcePage, Literal(row["seite"])))
        if settings.fictional:
            graph.add((measure, KIK.fictional, Literal(True)))

        for index in range(1, grid.size + 1):
            column = f"H{index}"
            mark = row.get(column, "")
            if not mark:
                continue
            if mark.lower() not in MARKS:
                raise table.error(
                    line, column,
                    (f"„{mark}“ ist keine Markierung.", f"'{mark}' is not a mark."),
                    ("Ein Feld, das die Maßnahme adressiert, mit x markieren; sonst leer lassen.",
                     "mark a cell the measure addresses with x; leave it empty otherwise."),
                )
            challenge = grid.challenges.get(index)
            if challenge is None:
                raise table.error(
                    line, column,
                    (f"Herausforderung {index} ist im Raster des Konzepts nicht angelegt.",
                     f"challenge {index} is not declared in the concept's grid."),
                    ("Die Herausforderung mit kik:gridIndex im Turtle anlegen oder die Markierung entfernen.",
                     "declare the challenge with kik:gridIndex in the Turtle or remove the mark."),
                )
            graph.add((measure, KIK.addressesChallenge, challenge))

        for number in _split(row.get("handlungsfelder", "")):
            field = URIRef(f"{settings.concept}/handlungsfeld/{number}")
            graph.add((measure, KIK.inActionField, must_exist(field, line, "handlungsfelder", number, ("Handlungsfeld", "action field"))))

        for position, pair in enumerate(_split(row.get("akteure", "")), start=1):
            slug, _, role = pair.partition(":")
            slug, role = slug.strip(), role.strip()
            if role not in ROLES:
                raise table.error(
                    line, "akteure",
                    (f"Rolle „{role}“ bei „{pair}“ unbekannt.", f"unknown role '{role}' in '{pair}'."),
                    ("Akteur und Rolle als akteur:rolle schreiben; Rollen: " + ", ".join(ROLES),
                     "write actor and role as actor:role; roles: " + ", ".join(ROLES)),
                )
            actor = must_exist(URIRef(f"{settings.base}akteur/{slug}"), line, "akteure", slug, ("Akteur", "actor"))
            attribution = URIRef(f"{measure}#beteiligung-{position}")
            graph.add((measure, PROV.wasAssociatedWith, actor))
            graph.add((measure, PROV.qualifiedAttribution, attribution))
            graph.add((attribution, RDF.type, PROV.Attribution))
            graph.add((attribution, PROV.agent, actor))
            graph.add((attribution, PROV.hadRole, ROLE[role]))
            if settings.fictional:
                graph.add((attribution, KIK.fictional, Literal(True)))

        for column, segment, predicate, kind in (
            ("zielgruppen", "zielgruppe", KIK.targetGroup, ("Zielgruppe", "target group")),
            ("altersbereich", "altersbereich", KIK.ageRange, ("Altersbereich", "age range")),
            ("finanzierung", "finanzierung", KIK.fundingSource, ("Finanzierungsquelle", "funding source")),
            ("steuerungslogik", "steuerung", KIK.steeringLogic, ("Steuerungslogik", "steering logic")),
        ):
            for value in _split(row.get(column, "")):
                iri = URIRef(f"{settings.base}{segment}/{value}")
                graph.add((measure, predicate, must_exist(iri, line, column, value, kind)))

        period = URIRef(f"{measure}#zeitraum")
        for column, predicate in (("beginn", DCAT.startDate), ("ende", DCAT.endDate)):
            value = row.get(column, "")
            if not value:
                continue
            literal = _date_literal(value)
            if literal is None:
                raise table.error(
                    line, column,
                    (f"„{value}“ ist weder Jahr noch Datum.", f"'{value}' is neither a year nor a date."),
                    ("Jahr (2018) oder Datum (2018-07-01) eintragen.", "write a year (2018) or a date (2018-07-01)."),
                )
            graph.add((measure, DCTERMS.temporal, period))
            graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if settings.fictional:
                graph.add((period, KIK.fictional, Literal(True)))
            graph.add((period, predicate, literal))
    return graph
