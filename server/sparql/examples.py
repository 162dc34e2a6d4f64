"""The example queries of docs/queries/*.rq, with the title and description from their header comments.

A file starts with comment lines such as ``# title: …``, ``# title_en: …``, ``# description: …``;
the editor shows them, and the tests run every file against the built data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "docs" / "queries"
_FIELD = re.compile(r"^#\s*(title|title_en|description|description_en)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    title_en: str
    description: str
    description_en: str
    text: str


def parse_example(path: Path) -> ExampleQuery:
    """One .rq file; a missing title falls back to the file name so the editor still lists it."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _FIELD.match(line)
        if match:
            fields[match.group(1)] = match.group(2)
    return ExampleQuery(
        name=path.stem,
        title=fields.get("title", path.stem),
        title_en=fields.get("title_en", ""),
        description=fields.get("description", ""),
        description_en=fields.get("description_en", ""),
        text=text,
    )


def load_examples(directory: Path = DEFAULT_DIR) -> list[ExampleQuery]:
    """Every example in file-name order (the files are numbered)."""
    if not directory.is_dir():
        return []
    return [parse_example(path) for path in sorted(directory.glob("*.rq"))]
