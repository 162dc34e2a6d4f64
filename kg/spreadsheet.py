"""Reading the measures table from a workbook (``massnahmen.xlsx`` / ``massnahmen.ods``).

City staff fill in the measures in Excel or LibreOffice Calc. A workbook is read cell by cell into
the same strings a CSV would give, so ``kg.measures`` applies the same checks to both. Anything that
would make the published values differ from what the officer sees is refused with sheet, row and
column letter: formulas, merged cells, hidden rows or columns with values, error values, values in
other sheets, macro workbooks, and files larger than their compressed size suggests (zip bombs).

XLSX is read with openpyxl. ODS is first converted to XLSX by headless LibreOffice (``soffice``),
the reference implementation of OpenDocument; positions of cells are kept by that conversion.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from kg.errors import SourceError

SHEET = "Maßnahmen"
# the other sheets ``kg template`` writes; they hold lists and instructions and are never read
TEMPLATE_SHEETS = ("Anleitung", "Herausforderungen", "Handlungsfelder", "Ziele", "Akteure", "Zielgruppen",
                   "Altersbereiche", "Finanzierung", "Steuerungslogik")
WORKBOOK_SUFFIXES = (".xlsx", ".ods")
# workbook kinds we refuse, with the reason (macros run code; the old binary formats need other parsers)
REFUSED_SUFFIXES = {
    ".xlsm": ("eine Arbeitsmappe mit Makros", "a macro-enabled workbook"),
    ".xltm": ("eine Vorlage mit Makros", "a macro-enabled template"),
    ".xlsb": ("eine binäre Excel-Arbeitsmappe", "a binary Excel workbook"),
    ".xls": ("eine alte Excel-Arbeitsmappe (vor 2007)", "an old Excel workbook (before 2007)"),
    ".ots": ("eine LibreOffice-Vorlage", "a LibreOffice template"),
    ".xltx": ("eine Excel-Vorlage", "an Excel template"),
}
MAX_UNCOMPRESSED_BYTES = 100_000_000  # what ``kg build`` accepts; the check page has its own setting
SOFFICE_TIMEOUT = 120.0


class NotAWorkbook(SourceError):
    """The file is no workbook we read: not a zip, a macro or binary workbook, another kind of file."""


class WorkbookTooLarge(SourceError):
    """The file would unpack to more bytes, or has more rows, than the limits allow."""


@dataclass(frozen=True)
class WorkbookLimits:
    """How large a workbook may be: unpacked bytes, rows of the measures sheet, seconds for LibreOffice."""

    max_bytes: int = MAX_UNCOMPRESSED_BYTES
    max_rows: int | None = None
    timeout: float = SOFFICE_TIMEOUT


_LIMITS: ContextVar[WorkbookLimits] = ContextVar("kik_workbook_limits", default=WorkbookLimits())


def current_limits() -> WorkbookLimits:
    return _LIMITS.get()


@contextmanager
def limited(limits: WorkbookLimits) -> Iterator[None]:
    """Read workbooks with stricter limits inside the block (the check page's settings), without
    passing them through the build's functions."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


@dataclass(frozen=True)
class Sheet:
    """The measures sheet as text: header names and the data rows with their row numbers."""

    path: Path
    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]

    def column(self, name: str) -> str:
        """How an error names a column: its letter and its header, e.g. ``E (H1)``."""
        if name in self.header:
            return f"{column_letter(self.header.index(name) + 1)} ({name})"
        return name

    def error(self, line: int | None, column: str | None, what: tuple[str, str], hint: tuple[str, str]) -> SourceError:
        return SourceError(self.path, line, column, what[0], hint[0], what[1], hint[1], sheet=self.name)


def column_letter(number: int) -> str:
    """1 → A, 27 → AA: the letter a spreadsheet shows above a column."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _error(path: Path, sheet: str | None, line: int | None, column: str | None, *args) -> SourceError:
    """``_error(path, sheet, line, column, [kind,] what, hint)``: ``kind`` a SourceError class."""
    kind, (what, hint) = (args[0], args[1:]) if len(args) == 3 else (SourceError, args)
    return kind(path, line, column, what[0], hint[0], what[1], hint[1], sheet=sheet)


def refuse_kind(path: Path) -> None:
    """Macro and binary workbooks are never read: say what to save instead."""
    kind = REFUSED_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        raise _error(
            path, None, None, None, NotAWorkbook,
            (f"Die Datei ist {kind[0]}; gelesen werden nur .xlsx, .ods und .csv.",
             f"the file is {kind[1]}; only .xlsx, .ods and .csv are read."),
            ("In Excel „Datei → Speichern unter → Excel-Arbeitsmappe (*.xlsx)“ wählen, in LibreOffice "
             "„ODF-Tabellendokument (.ods)“; Makros werden nicht übernommen.",
             "in Excel choose 'File → Save As → Excel Workbook (*.xlsx)', in LibreOffice 'ODF Spreadsheet (.ods)'; "
             "macros are not carried over."),
        )


def check_archive(path: Path, max_bytes: int = MAX_UNCOMPRESSED_BYTES) -> None:
    """An XLSX or ODS file is a zip archive: refuse one that is not, one with macros, and one whose
    content would unpack to more than ``max_bytes`` (checked from the archive's directory, before
    any XML is parsed; the zip reader never unpacks more than a member's declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = [m.filename for m in members]
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names and path.suffix.lower() == ".xlsx" \
                and archive.getinfo("[Content_Types].xml").file_size < 1_000_000 else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        raise _error(
            path, None, None, None, NotAWorkbook,
            ("Die Datei ist keine Arbeitsmappe (kein gültiges .xlsx/.ods).", "the file is not a workbook (no valid .xlsx/.ods)."),
            ("Die Datei in Excel oder LibreOffice öffnen und als .xlsx oder .ods speichern.",
             "open the file in Excel or LibreOffice and save it as .xlsx or .ods."),
        ) from None
    total = sum(member.file_size for member in members)
    if total > max_bytes:
        raise _error(
            path, None, None, None, WorkbookTooLarge,
            (f"Die Arbeitsmappe würde entpackt {total:,} Bytes groß (erlaubt: {max_bytes:,}).".replace(",", "."),
             f"the workbook would unpack to {total:,} bytes (allowed: {max_bytes:,})."),
            ("Nur die Maßnahmen in die Vorlage eintragen; Bilder und andere Blätter entfernen.",
             "enter only the measures in the template; remove pictures and other sheets."),
        )
    if any(name.lower().endswith("vbaproject.bin") or name.startswith(("Basic/", "Scripts/")) for name in names) \
            or b"macroEnabled" in types:
        raise _error(
            path, None, None, None, NotAWorkbook,
            ("Die Arbeitsmappe enthält Makros; sie wird nicht gelesen.", "the workbook contains macros; it is not read."),
            ("Als Arbeitsmappe ohne Makros speichern (Excel: *.xlsx, LibreOffice: .ods).",
             "save it as a workbook without macros (Excel: *.xlsx, LibreOffice: .ods)."),
        )


def soffice() -> str | None:
    """The LibreOffice command, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(path: Path, target: str, out_dir: Path, timeout: float = SOFFICE_TIMEOUT, shown: Path | None = None) -> Path:
    """Convert a workbook with headless LibreOffice (``target``: "xlsx" or "ods") into ``out_dir``.

    Each call has its own LibreOffice profile, so conversions may run at the same time."""
    command = soffice()
    shown = shown or path
    if command is None:
        raise _error(
            shown, None, None, None,
            ("LibreOffice (soffice) ist nicht installiert; es wird für .ods-Dateien gebraucht.",
             "LibreOffice (soffice) is not installed; it is needed for .ods files."),
            ("LibreOffice installieren (Debian/Ubuntu: apt-get install libreoffice-calc-nogui) oder die Datei als .xlsx speichern.",
             "install LibreOffice (Debian/Ubuntu: apt-get install libreoffice-calc-nogui) or save the file as .xlsx."),
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kik-soffice-") as profile:
        try:
            result = subprocess.run(
                [command, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation={Path(profile).as_uri()}",
                 "--convert-to", target, "--outdir", str(out_dir), str(path)],
                capture_output=True, timeout=timeout, check=False,
                env={**os.environ, "HOME": profile},
            )
        except subprocess.TimeoutExpired:
            result = None
    converted = out_dir / f"{path.stem}.{target}"
    if result is None or result.returncode != 0 or not converted.is_file():
        detail = "" if result is None else (result.stderr or result.stdout).decode("utf-8", "replace").strip()[-300:]
        raise _error(
            shown, None, None, None,
            (f"LibreOffice konnte die Datei nicht umwandeln ({detail or 'Zeitlimit überschritten'}).",
             f"LibreOffice could not convert the file ({detail or 'time limit exceeded'})."),
            ("Die Datei in LibreOffice öffnen, prüfen und erneut als .ods oder .xlsx speichern.",
             "open the file in LibreOffice, check it and save it again as .ods or .xlsx."),
        )
    return converted


def _text(value: object) -> str:
    """A cell's value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "WAHR" if value else "FALSCH"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_sheet(path: Path, max_bytes: int = MAX_UNCOMPRESSED_BYTES, max_rows: int | None = None,
               timeout: float = SOFFICE_TIMEOUT) -> Sheet:
    """The measures sheet of ``path`` (.xlsx or .ods) as text, or a SourceError (with its sheet) saying what to fix."""
    refuse_kind(path)
    check_archive(path, max_bytes)
    if path.suffix.lower() == ".ods":
        with tempfile.TemporaryDirectory(prefix="kik-ods-") as folder:
            converted = convert(path, "xlsx", Path(folder), timeout=timeout)
            check_archive(converted, max_bytes)
            sheet = _read_xlsx(converted, path, max_rows)
        return sheet
    return _read_xlsx(path, path, max_rows)


def _count_rows(path: Path, shown: Path, max_rows: int) -> None:
    """Refuse a sheet with more than ``max_rows`` rows before loading it whole (streaming read)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        if SHEET not in workbook.sheetnames:
            return
        count, empty = 0, None
        # at most 1024 columns: the reader pads every row to the width; rows the file lacks come as
        # one shared empty tuple, skipped without looking into it
        for values in workbook[SHEET].iter_rows(values_only=True, max_col=1024):
            if values is empty:
                continue
            if not any(value not in (None, "") for value in values):
                empty = values
                continue
            count += 1
            if count > max_rows + 1:
                raise _error(
                    shown, SHEET, None, None, WorkbookTooLarge,
                    (f"Das Blatt hat mehr als {max_rows} Zeilen.", f"the sheet has more than {max_rows} rows."),
                    ("Nur die Maßnahmen eintragen, eine Zeile je Maßnahme; leere formatierte Zeilen am Ende löschen.",
                     "enter only the measures, one row each; delete empty formatted rows at the end."),
                )
    finally:
        workbook.close()


def _read_xlsx(path: Path, shown: Path, max_rows: int | None) -> Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if max_rows is not None:
        try:
            _count_rows(path, shown, max_rows)
        except (InvalidFileException, KeyError, ValueError, TypeError, zipfile.BadZipFile, OSError):
            pass  # the full load below reports an unreadable file
    try:
        workbook = load_workbook(path, data_only=False, keep_vba=False, keep_links=False, rich_text=False)
    except (InvalidFileException, KeyError, ValueError, TypeError, IndexError, AttributeError,
            zipfile.BadZipFile, OSError, SyntaxError) as error:
        raise _error(
            shown, None, None, None,
            (f"Die Arbeitsmappe ist nicht lesbar ({type(error).__name__}).", f"the workbook cannot be read ({type(error).__name__})."),
            ("Die Datei in Excel oder LibreOffice öffnen und erneut als .xlsx speichern.",
             "open the file in Excel or LibreOffice and save it again as .xlsx."),
        ) from None
    if SHEET not in workbook.sheetnames:
        raise _error(
            shown, None, None, None,
            (f"Das Blatt „{SHEET}“ fehlt (vorhanden: {', '.join(workbook.sheetnames)}).",
             f"the sheet '{SHEET}' is missing (found: {', '.join(workbook.sheetnames)})."),
            (f"Die Maßnahmen im Blatt „{SHEET}“ der Vorlage eintragen (kg template) oder das Blatt so benennen.",
             f"enter the measures in the template's sheet '{SHEET}' (kg template) or rename the sheet."),
        )
    for other in workbook.worksheets:
        if other.title == SHEET or other.title in TEMPLATE_SHEETS:
            continue
        filled = next((c for _, cells in _value_rows(other) for c in cells if str(c.value).strip()), None)
        if filled is not None:
            raise _error(
                shown, other.title, filled.row, filled.column_letter,
                (f"Das Blatt „{other.title}“ enthält Werte, wird aber nicht gelesen.",
                 f"the sheet '{other.title}' holds values but is not read."),
                (f"Maßnahmen nur im Blatt „{SHEET}“ eintragen; das Blatt „{other.title}“ löschen.",
                 f"enter measures only in the sheet '{SHEET}'; delete the sheet '{other.title}'."),
            )
    return _sheet_text(workbook[SHEET], shown)


def _value_rows(sheet) -> list[tuple[int, list]]:
    """The cells that hold a value, by row, in sheet order.

    From the cells the file has (openpyxl keeps them in ``_cells``): iterating the sheet's range
    instead would make a cell for every position up to the farthest formatted one, which a file of a
    few bytes can put at row 1,048,576 and column XFD.
    """
    rows: dict[int, list] = {}
    for (row, _), cell in sheet._cells.items():
        if cell.value is not None:
            rows.setdefault(row, []).append(cell)
    return [(row, sorted(rows[row], key=lambda cell: cell.column)) for row in sorted(rows)]


def _sheet_text(sheet, shown: Path) -> Sheet:
    name = sheet.title
    for merged in sorted(sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        raise _error(
            shown, name, merged.min_row, column_letter(merged.min_col),
            (f"Die Zellen {merged.coord} sind verbunden.", f"the cells {merged.coord} are merged."),
            ("Verbindung aufheben (Excel: „Verbinden und zentrieren“ ausschalten; LibreOffice: „Zellen verbinden“ "
             "ausschalten) und jeden Wert in seine eigene Zelle schreiben.",
             "unmerge them (Excel: switch off 'Merge & Center'; LibreOffice: 'Merge Cells') and write each value "
             "into its own cell."),
        )
    hidden_columns = set()
    for key, dimension in sheet.column_dimensions.items():
        if dimension.hidden:
            low, high = (dimension.min or 0), (dimension.max or 0)
            hidden_columns.update(range(low, high + 1) if low and high else ())
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for number, cells in _value_rows(sheet):
        texts = [""] * cells[-1].column
        for cell in cells:
            where = (shown, name, cell.row, cell.column_letter)
            if cell.data_type == "f" or type(cell.value).__name__ in ("ArrayFormula", "DataTableFormula"):
                raise _error(
                    *where,
                    (f"Zelle {cell.coordinate} enthält eine Formel ({str(cell.value)[:60]}).",
                     f"cell {cell.coordinate} holds a formula ({str(cell.value)[:60]})."),
                    ("Die Formel durch ihren Wert ersetzen (Kopieren, dann „Inhalte einfügen → Nur Werte“).",
                     "replace the formula by its value (copy, then 'Paste Special → Values only')."),
                )
            if cell.data_type == "e":
                raise _error(
                    *where,
                    (f"Zelle {cell.coordinate} enthält den Fehlerwert {cell.value}.", f"cell {cell.coordinate} holds the error value {cell.value}."),
                    ("Den richtigen Wert eintragen.", "enter the right value."),
                )
            text = _text(cell.value)
            if text.strip():
                if sheet.row_dimensions[cell.row].hidden or cell.column in hidden_columns:
                    what = "Zeile" if sheet.row_dimensions[cell.row].hidden else "Spalte"
                    raise _error(
                        *where,
                        (f"Zelle {cell.coordinate} hat einen Wert, ist aber ausgeblendet ({what} ausgeblendet oder weggefiltert).",
                         f"cell {cell.coordinate} has a value but is hidden ({'row' if what == 'Zeile' else 'column'} hidden or filtered out)."),
                        ("Alle Zeilen und Spalten einblenden und Filter aufheben; was nicht veröffentlicht werden soll, löschen.",
                         "show all rows and columns and clear filters; delete what must not be published."),
                    )
            texts[cell.column - 1] = text
        while texts and not texts[-1].strip():
            texts.pop()
        if number == 1:
            header = texts
            continue
        if len(texts) > len(header):
            position = next(i for i in range(len(header), len(texts)) if texts[i].strip()) + 1
            raise _error(
                shown, name, number, column_letter(position),
                (f"Wert „{texts[position - 1]}“ steht in Spalte {column_letter(position)}, die keine Überschrift hat.",
                 f"value '{texts[position - 1]}' is in column {column_letter(position)}, which has no header."),
                ("Den Wert in die richtige Spalte verschieben oder löschen.", "move the value to the right column or delete it."),
            )
        rows.append((number, texts))
    return Sheet(path=shown, name=name, header=header, rows=rows)
