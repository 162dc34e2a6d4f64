"""Check a measures table against one data folder without building or publishing anything.

What the check page (/pruefen) runs: the folder's Turtle and settings with the uploaded table in
place of its own, read by ``kg.build`` and validated by ``kg.validate`` exactly as ``kg build``
would, so the messages are the build's. The answer is plain data (no rdflib terms), so it can come
back from the worker process that runs it under a time limit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import RDF, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from kg.errors import SourceError
from kg.namespace import KIK
from kg.sources import SETTINGS_FILE, read_settings, turtle_files
from kg.spreadsheet import NotAWorkbook, WorkbookLimits, WorkbookTooLarge, limited

TABLE_SUFFIXES = (".csv", ".xlsx", ".ods")


@dataclass
class Finding:
    severity: str
    focus: str
    label: str
    message_de: str
    message_en: str


@dataclass
class CheckResult:
    """What a check found: the build's first source error, or its SHACL findings and a preview."""

    status: str  # "ok" (a build would accept it), "invalid" (violations), "error" (source error), "too-large", "not-a-table"
    error: dict | None = None  # SourceError fields plus message_de / message_en
    report_de: str = ""
    report_en: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    grid: dict | None = None  # rows, columns, cells: [iri, index, row, column, label_de, label_en]
    measures: list[dict] = field(default_factory=list)  # iri, id, title_de, title_en, challenges

    def as_dict(self) -> dict:
        return asdict(self)


def _error_result(error: SourceError) -> CheckResult:
    status = "too-large" if isinstance(error, WorkbookTooLarge) else "not-a-table" if isinstance(error, NotAWorkbook) else "error"
    fields = {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(error).items()}
    return CheckResult(status=status, error={**fields, "message_de": error.message("de"), "message_en": error.message("en")})


def _label(graph, node, lang: str) -> str:
    found = {value.language or "": str(value) for predicate in (SKOS.prefLabel, DCTERMS.title)
             for value in graph.objects(node, predicate) if isinstance(value, Literal)}
    return found.get(lang) or found.get("de") or found.get("") or next(iter(found.values()), "")


def check_table(folder: Path, upload: Path, limits: WorkbookLimits, shapes_file: Path | None = None) -> CheckResult:
    """Build ``folder`` with ``upload`` as its measures table in a scratch copy, validate, preview.

    Changes the working directory (so messages name ``<folder name>/massnahmen.<ext>`` as a build in
    the data folder's parent would): run it in a process of its own.
    """
    from kg.build import build_dataset, union_graph
    from kg.validate import format_report, load_shapes, validate_dataset

    suffix = upload.suffix.lower()
    settings = read_settings(folder)
    with tempfile.TemporaryDirectory(prefix="kik-check-") as scratch:
        copy = Path(scratch) / folder.name
        copy.mkdir()
        for path in [folder / SETTINGS_FILE, *turtle_files(folder)]:
            shutil.copyfile(path, copy / path.name)
        shutil.copyfile(upload, copy / f"massnahmen{suffix}")
        os.chdir(scratch)
        try:
            with limited(limits):
                dataset = build_dataset([Path(folder.name)])
        except SourceError as error:
            return _error_result(error)
        shapes = load_shapes([shapes_file]) if shapes_file is not None and shapes_file.is_file() else load_shapes()
        report = validate_dataset(dataset, shapes, workers=1)
        union = union_graph(dataset)
    result = CheckResult(
        status="ok" if report.conforms_without_violations else "invalid",
        report_de=format_report(report, "de"), report_en=format_report(report, "en"), counts=report.counts(),
        findings=[Finding(r.severity, str(r.focus_node), (report.labels.get(r.focus_node) or {}).get("de", ""),
                          r.message("de"), r.message("en")) for r in report.results],
    )
    grid = union.value(settings.concept, KIK.challengeGrid)
    if grid is not None:
        cells = []
        for challenge in union.subjects(SKOS.inScheme, grid):
            index, row, column = (union.value(challenge, KIK[name]) for name in ("gridIndex", "gridRow", "gridColumn"))
            if index is not None and row is not None and column is not None:
                cells.append([str(challenge), int(index), int(row), int(column),
                              _label(union, challenge, "de"), _label(union, challenge, "en")])
        rows, columns = union.value(grid, KIK.gridRows), union.value(grid, KIK.gridColumns)
        result.grid = {"iri": str(grid), "rows": int(rows) if rows is not None else 3,
                       "columns": int(columns) if columns is not None else 6, "cells": sorted(cells, key=lambda c: c[1])}
    measures = [m for m in union.subjects(RDF.type, KIK.Measure) if (m, DCTERMS.isPartOf, settings.concept) in union]
    result.measures = [
        {"iri": str(m), "id": str(union.value(m, DCTERMS.identifier) or ""), "title_de": _label(union, m, "de"),
         "title_en": _label(union, m, "en"), "challenges": sorted(str(c) for c in union.objects(m, KIK.addressesChallenge))}
        for m in sorted(measures, key=lambda m: str(m))
    ]
    return result


def run(connection, folder: str, upload: str, limits: WorkbookLimits, shapes_file: str | None) -> None:
    """Process entry point: the result (as a dict) goes back through ``connection``."""
    # every scratch file (the copy, LibreOffice's) beside the upload: the caller removes that folder
    # even when it had to kill this process
    tempfile.tempdir = str(Path(upload).parent)
    try:
        result = check_table(Path(folder), Path(upload), limits, Path(shapes_file) if shapes_file else None)
        connection.send(("done", result.as_dict()))
    except SourceError as error:  # e.g. the folder's own settings or Turtle
        connection.send(("done", _error_result(error).as_dict()))
    except Exception as error:  # noqa: BLE001 - told to the caller, who logs it and answers 500-free
        connection.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()
