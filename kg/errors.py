"""Errors in source data, told the way city staff can act on them.

Every error names the file, the line (or table row) and the column, what is wrong and how to fix
it, in German and English, so one message is enough to repair the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SourceError(Exception):
    """A problem in one place of one source file; the build stops and dist/ stays as it was."""

    file: Path
    line: int | None
    column: str | int | None
    what_de: str
    hint_de: str
    what_en: str
    hint_en: str
    sheet: str | None = None  # a workbook's sheet (then ``line`` is its row, ``column`` its letter)

    def where(self, lang: str = "de") -> str:
        parts = [str(self.file)]
        if self.sheet is not None:
            parts.append(f"Blatt „{self.sheet}“" if lang == "de" else f"sheet '{self.sheet}'")
        if self.line is not None:
            parts.append(f"{'Zeile' if lang == 'de' else ('row' if self.sheet is not None else 'line')} {self.line}")
        if self.column is not None:
            parts.append(f"{'Spalte' if lang == 'de' else 'column'} {self.column}")
        return ", ".join(parts)

    def message(self, lang: str = "de") -> str:
        what, hint = (self.what_de, self.hint_de) if lang == "de" else (self.what_en, self.hint_en)
        label = "Abhilfe" if lang == "de" else "Fix"
        return f"{self.where(lang)}: {what}\n  {label}: {hint}"

    def __str__(self) -> str:
        return self.message("en")
