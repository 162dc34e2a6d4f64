"""``kg template``: a workbook for one municipality that city staff fill in instead of the CSV.

The sheet "Maßnahmen" has the CSV's columns and the measures already in the data; the grid columns
H1…Hn accept only ``x`` and carry the challenge's name as a note; the values the other columns may
hold (action fields, actors with roles, target groups, age ranges, funding, steering logic) are
listed on sheets of their own, taken from the folder's Turtle, and offered as drop-down lists. An
instructions sheet says what to do, German first. ``kg build`` reads the filled-in file back
(``kg.spreadsheet``); nothing here is invented: every list entry is a resource the data declares.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDFS, SKOS

from kg.measures import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ROLES, concept_grid, read_table
from kg.namespace import KIK
from kg.sources import DatasetSettings, measures_file, parse_turtle, read_settings, turtle_files
from kg.spreadsheet import SHEET, column_letter, convert

FORMATS = ("xlsx", "ods")
EDIT_ROWS = 1000  # rows below the measures that get the drop-down lists and checks
_LABELS = (SKOS.prefLabel, RDFS.label, FOAF.name, DCTERMS.title)

# column → (German, English) explanation, shown as the header's note
COLUMN_NOTES: dict[str, tuple[str, str]] = {
    "id": ("Pflicht: eindeutige Kennung aus Kleinbuchstaben, Ziffern und Bindestrichen (z. B. sprachcafe-westen). "
           "Einmal veröffentlicht nicht mehr ändern. Zeilen, deren id mit # beginnt, werden nicht gelesen.",
           "Required: unique id of lower-case letters, digits and hyphens (e.g. sprachcafe-westen). Do not change it "
           "once published. Rows whose id starts with # are not read."),
    "titel": ("Pflicht: Titel der Maßnahme (deutsch).", "Required: title of the measure (German)."),
    "titel_en": ("Optional: englischer Titel.", "Optional: English title."),
    "beschreibung": ("Optional: kurze Beschreibung (deutsch).", "Optional: short description (German)."),
    "handlungsfelder": ("Optional: Nummern der Handlungsfelder (Blatt „Handlungsfelder“), mehrere mit ; trennen (z. B. 3;7).",
                        "Optional: numbers of the action fields (sheet 'Handlungsfelder'), several separated by ; (e.g. 3;7)."),
    "akteure": ("Optional: akteur:rolle (Blatt „Akteure“), mehrere mit ; trennen; Rollen traeger, partner, foerderer, kontakt.",
                "Optional: actor:role (sheet 'Akteure'), several separated by ;; roles traeger, partner, foerderer, kontakt."),
    "zielgruppen": ("Optional: Kennungen der Zielgruppen (Blatt „Zielgruppen“), mehrere mit ; trennen.",
                    "Optional: ids of target groups (sheet 'Zielgruppen'), several separated by ;."),
    "altersbereich": ("Optional: Kennungen der Altersbereiche (Blatt „Altersbereiche“), mehrere mit ; trennen.",
                      "Optional: ids of age ranges (sheet 'Altersbereiche'), several separated by ;."),
    "finanzierung": ("Optional: Kennungen der Finanzierungsquellen (Blatt „Finanzierung“), mehrere mit ; trennen.",
                     "Optional: ids of funding sources (sheet 'Finanzierung'), several separated by ;."),
    "steuerungslogik": ("Optional: Kennung der Steuerungslogik (Blatt „Steuerungslogik“).",
                        "Optional: id of the steering logic (sheet 'Steuerungslogik')."),
    "beginn": ("Optional: Beginn als Jahr (2018) oder Datum (2018-07-01).", "Optional: start as a year (2018) or a date (2018-07-01)."),
    "ende": ("Optional: Ende als Jahr oder Datum.", "Optional: end as a year or a date."),
    "quelle": ("Pflicht: Web-Adresse der Quelle, die die Maßnahme nennt (https://…).",
               "Required: web address of the source that states the measure (https://…)."),
    "seite": ("Optional: Seite in der Quelle (z. B. 34 oder 34-35).", "Optional: page in the source (e.g. 34 or 34-35)."),
}

INSTRUCTIONS_DE = [
    "Anleitung: Maßnahmen des Integrationskonzepts eintragen",
    "1. Im Blatt „Maßnahmen“ eine Zeile je Maßnahme ausfüllen. Die Kopfzeile (Zeile 1) nicht ändern; "
    "jede Überschrift hat eine Notiz, die die Spalte erklärt.",
    "2. Pflicht sind id, titel und quelle. Nur eintragen, was die Quelle (z. B. das Konzept-PDF) sagt; "
    "Unbekanntes leer lassen.",
    "3. Profil: in den Spalten H1 … H{n} ein x in jede Herausforderung setzen, die die Maßnahme adressiert "
    "(Blatt „Herausforderungen“). Alle leer heißt: Profil unbekannt.",
    "4. Handlungsfelder, Akteure, Zielgruppen, Altersbereiche, Finanzierung und Steuerungslogik aus den Listen "
    "wählen (Auswahlpfeil); mehrere Werte mit ; trennen. Fehlt ein Eintrag in einer Liste, ihn nicht erfinden: "
    "dem Datenteam melden, das ihn in den Quellen anlegt.",
    "5. Keine Formeln, keine verbundenen Zellen, keine ausgeblendeten Zeilen, keine weiteren Blätter mit Werten; "
    "als .xlsx oder .ods speichern (ohne Makros).",
    "6. Prüfen: die Datei auf der Seite /pruefen hochladen (falls eingeschaltet); sie zeigt Fehler mit Zeile und "
    "Spalte und eine Vorschau der Profile. Dann die Datei dem Datenteam übergeben; es legt sie als "
    "massnahmen.xlsx in den Datenordner und baut (kg build).",
    "Die Blätter mit Listen sind schreibgeschützt und werden beim Einlesen nicht gelesen.",
]
INSTRUCTIONS_EN = [
    "Instructions: entering the measures of the integration concept",
    "1. In the sheet 'Maßnahmen' fill in one row per measure. Do not change the header (row 1); each header has "
    "a note explaining the column.",
    "2. id, titel and quelle are required. Enter only what the source (e.g. the concept PDF) says; leave unknowns empty.",
    "3. Profile: put an x in columns H1 … H{n} for every challenge the measure addresses (sheet "
    "'Herausforderungen'). All empty means: profile unknown.",
    "4. Choose action fields, actors, target groups, age ranges, funding and steering logic from the lists (drop-down "
    "arrow); separate several values with ;. If an entry is missing from a list, do not invent it: tell the data "
    "team, who declare it in the sources.",
    "5. No formulas, no merged cells, no hidden rows, no further sheets with values; save as .xlsx or .ods (no macros).",
    "6. Check: upload the file on the page /pruefen (if switched on); it shows errors with row and column and a "
    "preview of the profiles. Then hand the file to the data team; they put it into the data folder as "
    "massnahmen.xlsx and build (kg build).",
    "The sheets with lists are protected and are not read back.",
]


@dataclass(frozen=True)
class ListSheet:
    """One list sheet: the column the measures sheet refers to and the entries with their labels."""

    title: str
    column: str | None  # measures column whose drop-down shows this list; None: reference only
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _label(graph: Graph, node: URIRef, lang: str) -> str:
    found: dict[str, str] = {}
    for predicate in _LABELS:
        for value in graph.objects(node, predicate):
            if isinstance(value, Literal):
                found.setdefault(value.language or "", str(value))
    for key in (lang, "", "de", "en"):
        if key in found:
            return found[key]
    return ""


def _declared(graph: Graph, prefix: str) -> list[tuple[str, URIRef]]:
    """(local id, IRI) of every typed resource whose IRI is ``prefix`` + id, sorted like a person would."""
    found = {str(s)[len(prefix):]: s for s in set(graph.subjects(RDF.type, None))
             if isinstance(s, URIRef) and str(s).startswith(prefix) and "/" not in str(s)[len(prefix):]
             and "#" not in str(s)[len(prefix):] and str(s) != prefix}
    return sorted(found.items(), key=lambda item: (int(item[0]) if item[0].isdigit() else 10**9, item[0]))


def structure_graph(settings: DatasetSettings) -> Graph:
    graph = Graph()
    for path in turtle_files(settings.folder):
        parse_turtle(path, into=graph, scope=f"{settings.id}/{path.name}")
    return graph


def list_sheets(graph: Graph, settings: DatasetSettings) -> list[ListSheet]:
    """The lists the measures columns refer to, exactly as ``kg.measures`` resolves their values."""
    base, concept = settings.base, str(settings.concept)
    goal_of = {}
    sheets = []
    fields = []
    for number, iri in _declared(graph, f"{concept}/handlungsfeld/"):
        goals = sorted(_label(graph, g, "de") or str(g) for g in graph.objects(iri, KIK.servesGoal))
        goal_of[number] = goals
        fields.append((number, _label(graph, iri, "de"), _label(graph, iri, "en"), "; ".join(goals)))
    sheets.append(ListSheet("Handlungsfelder", "handlungsfelder", ("Nummer", "Bezeichnung", "English", "dient Ziel / serves goal"), fields))
    goals = [(str(graph.value(iri, SKOS.notation) or number), _label(graph, iri, "de"), _label(graph, iri, "en"))
             for number, iri in _declared(graph, f"{concept}/ziel/")]
    sheets.append(ListSheet("Ziele", None, ("Nummer", "Bezeichnung", "English"), goals))
    actors = _declared(graph, f"{base}akteur/")
    sheets.append(ListSheet(
        "Akteure", "akteure", ("Eintrag (akteur:rolle)", "Akteur", "Rolle", "Name"),
        [(f"{slug}:{role}", slug, role, _label(graph, iri, "de")) for slug, iri in actors for role in ROLES]))
    for title, column, segment in (("Zielgruppen", "zielgruppen", "zielgruppe"), ("Altersbereiche", "altersbereich", "altersbereich"),
                                   ("Finanzierung", "finanzierung", "finanzierung"), ("Steuerungslogik", "steuerungslogik", "steuerung")):
        sheets.append(ListSheet(title, column, ("Kennung", "Bezeichnung", "English"),
                                [(slug, _label(graph, iri, "de"), _label(graph, iri, "en")) for slug, iri in _declared(graph, f"{base}{segment}/")]))
    return sheets


def template_columns(grid_size: int) -> list[str]:
    """Every column the reader knows, in the order of data/vorlage/massnahmen.csv."""
    columns = ["id", "titel", "titel_en", "beschreibung", *(f"H{i}" for i in range(1, grid_size + 1)),
               "handlungsfelder", "akteure", "zielgruppen", "altersbereich", "finanzierung", "steuerungslogik",
               "beginn", "ende", "quelle", "seite"]
    assert set(columns) == set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | {f"H{i}" for i in range(1, grid_size + 1)}
    return columns


def workbook_bytes(folder: Path) -> bytes:
    """The filled template of ``folder`` as XLSX bytes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    settings = read_settings(folder)
    graph = structure_graph(settings)
    grid = concept_grid(graph, settings, folder)
    columns = template_columns(grid.size)
    table = measures_file(folder)
    rows = read_table(table, grid.size)[1] if table is not None else []

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    bold = Font(bold=True)
    grey = PatternFill("solid", fgColor="DDDDDD")
    last_row = max(EDIT_ROWS, len(rows) + 500)
    for number, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=number, value=name)
        cell.font, cell.fill = bold, grey
        letter = column_letter(number)
        if name.startswith("H") and name[1:].isdigit():
            index = int(name[1:])
            challenge = grid.challenges.get(index)
            de = _label(graph, challenge, "de") if challenge is not None else ""
            en = _label(graph, challenge, "en") if challenge is not None else ""
            note = (f"{name}: {de}\nx = die Maßnahme adressiert diese Herausforderung; sonst leer.\n\n"
                    f"{name}: {en}\nx = the measure addresses this challenge; empty otherwise.")
            sheet.column_dimensions[letter].width = 5
            check = DataValidation(type="list", formula1='"x"', allow_blank=True, showErrorMessage=True,
                                   showInputMessage=True, errorTitle="nur x / only x",
                                   error="Nur x oder leer. / Only x or empty.",
                                   promptTitle=f"{name}"[:32], prompt=f"{de} / {en}"[:250])
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{last_row}")
        else:
            de, en = COLUMN_NOTES.get(name, ("", ""))
            note = f"{de}\n\n{en}"
            sheet.column_dimensions[letter].width = {"id": 26, "titel": 40, "titel_en": 30, "beschreibung": 50,
                                                      "quelle": 40, "akteure": 36}.get(name, 16)
            sheet.column_dimensions[letter].number_format = "@"  # typed dates and numbers stay text
        comment = Comment(note, "kg template")
        comment.width, comment.height = 360, 160
        cell.comment = comment
    for line, (_, values) in enumerate(rows, start=2):
        for number, name in enumerate(columns, start=1):
            if values.get(name):
                sheet.cell(row=line, column=number, value=values[name])
    sheet.freeze_panes = "C2"

    position = {name: column_letter(number) for number, name in enumerate(columns, start=1)}
    for listed in list_sheets(graph, settings):
        page = book.create_sheet(listed.title)
        page.append(list(listed.header))
        for cell in page[1]:
            cell.font, cell.fill = bold, grey
        for entry in listed.rows:
            page.append(list(entry))
        if not listed.rows:
            page.append(["(noch keine Einträge in den Quellen / no entries in the sources yet)"])
        for number, _ in enumerate(listed.header, start=1):
            page.column_dimensions[column_letter(number)].width = 30 if number > 1 else 24
        page.protection.sheet = True
        if listed.column and listed.rows:
            letter = position[listed.column]
            choose = DataValidation(type="list", formula1=f"'{listed.title}'!$A$2:$A${len(listed.rows) + 1}",
                                    allow_blank=True, showErrorMessage=False, showInputMessage=True,
                                    promptTitle=listed.title[:32],
                                    prompt="Aus der Liste wählen; mehrere mit ; trennen. / Choose from the list; separate several with ;.")
            sheet.add_data_validation(choose)
            choose.add(f"{letter}2:{letter}{last_row}")
    cells = book.create_sheet("Herausforderungen")
    cells.append(["Spalte", "Nummer", "Bezeichnung", "English"])
    for cell in cells[1]:
        cell.font, cell.fill = bold, grey
    for index in sorted(grid.challenges):
        challenge = grid.challenges[index]
        cells.append([f"H{index}", index, _label(graph, challenge, "de"), _label(graph, challenge, "en")])
    cells.column_dimensions["C"].width = cells.column_dimensions["D"].width = 50
    cells.protection.sheet = True

    guide = book.create_sheet("Anleitung", 1)
    title = settings.title_de
    guide.append([title])
    guide.append([])
    for text in INSTRUCTIONS_DE:
        guide.append([text.replace("{n}", str(grid.size))])
    guide.append([])
    for text in INSTRUCTIONS_EN:
        guide.append([text.replace("{n}", str(grid.size))])
    guide.column_dimensions["A"].width = 140
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for number in (1, 3, 4 + len(INSTRUCTIONS_DE)):
        guide.cell(row=number, column=1).font = bold
    guide.protection.sheet = True
    book.active = 0

    out = BytesIO()
    book.save(out)
    return out.getvalue()


def write_template(folder: Path, fmt: str, out: Path) -> Path:
    """Write the template of ``folder`` as ``fmt`` (xlsx, or ods through LibreOffice) to ``out``."""
    data = workbook_bytes(folder)
    if fmt == "xlsx":
        out.write_bytes(data)
        return out
    with tempfile.TemporaryDirectory(prefix="kik-template-") as work:
        source = Path(work) / f"{out.stem}.xlsx"
        source.write_bytes(data)
        converted = convert(source, "ods", Path(work) / "out", shown=out)
        out.write_bytes(converted.read_bytes())
    return out
