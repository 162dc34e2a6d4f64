"""A tiny fictional dataset full of HTML/URL payloads, built from the mini fixture (for the XSS tests).

Namespace https://w3id.org/kik/fiktiv/xss/; every resource is ``kik:fictional true`` and labelled
"(fiktiv)". The payloads sit in titles, descriptions, labels, source titles, IRIs and literals that
look like URLs.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from tests.conftest import MINI

BASE = "https://w3id.org/kik/fiktiv/xss/"
SCRIPT = "<script>alert('xss-script')</script>"
ATTRIBUTE = "\" onmouseover=\"alert('xss-attr')\" x=\""
SINGLE_QUOTE_ATTRIBUTE = "' onfocus='alert(1)' autofocus='"
IMAGE = "<img src=x onerror=alert('xss-img')>"
JAVASCRIPT_URL = "javascript:alert('xss-url')"
# IRIs that are valid in Turtle but dangerous in HTML
JAVASCRIPT_IRI = "javascript:alert(1)//"
QUOTE_IRI = BASE + "akteur/x'onmouseover='alert(1)"
MEASURES = {
    "skript": (f"{SCRIPT} Skript (fiktiv)", f"{IMAGE} Beschreibung (fiktiv)"),
    "attribut": (f"{ATTRIBUTE} Attribut (fiktiv)", f"{SINGLE_QUOTE_ATTRIBUTE} (fiktiv)"),
    "url": (f"{JAVASCRIPT_URL} (fiktiv)", f"{JAVASCRIPT_URL}"),
}


def _turtle_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_sources(folder: Path) -> Path:
    """The payload dataset in ``folder`` (a copy of the mini fixture with a new base and payloads)."""
    shutil.copytree(MINI, folder)
    for name in ("datensatz.toml", "struktur.ttl", "massnahmen.csv"):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace("fiktiv/test-mini/", "fiktiv/xss/")
                        .replace('id = "test-mini"', 'id = "xss"'), encoding="utf-8")
    structure = folder / "struktur.ttl"
    text = structure.read_text(encoding="utf-8")
    text = text.replace('rdfs:label "Testkommune (fiktiv)"@de',
                        f'rdfs:label {_turtle_string(SCRIPT + " Testkommune " + ATTRIBUTE + " (fiktiv)")}@de', 1)
    text = text.replace('dct:title "Integrationskonzept 2024 (fiktiv)"@de',
                        f'dct:title {_turtle_string(IMAGE + " Integrationskonzept 2024 (fiktiv)")}@de', 1)
    text = text.replace('dct:title "Erfundene Testdaten (fiktiv)"@de',
                        f'dct:title {_turtle_string(SCRIPT + " Erfundene Testdaten (fiktiv)")}@de', 1)
    text = text.replace('skos:prefLabel "Ziel eins (fiktiv)"@de',
                        f'skos:prefLabel {_turtle_string(ATTRIBUTE + " Ziel eins (fiktiv)")}@de', 1)
    text = text.replace('rdfs:label "Testamt (fiktiv)"@de',
                        f'rdfs:label {_turtle_string(JAVASCRIPT_URL + " Testamt (fiktiv)")}@de', 1)
    text += f"""
# payloads in IRIs and in literals that look like URLs (all fictional)
<{JAVASCRIPT_IRI}> a kik:Source ; dct:title {_turtle_string(JAVASCRIPT_URL + " Quelle (fiktiv)")}@de ;
    rdfs:label "Skript-Quelle (fiktiv)"@de ; kik:sourceKind "fiktiv" ; kik:fictional true ; dct:source <{JAVASCRIPT_IRI}> .
<{QUOTE_IRI}> a kik:AdministrativeUnit ; rdfs:label {_turtle_string(SINGLE_QUOTE_ATTRIBUTE + " Amt (fiktiv)")}@de ;
    rdfs:seeAlso {_turtle_string(JAVASCRIPT_URL)} ; kik:fictional true ; dct:source <{JAVASCRIPT_IRI}> .
t:stadt rdfs:comment {_turtle_string(JAVASCRIPT_URL)} ; rdfs:seeAlso <{JAVASCRIPT_IRI}> .
"""
    structure.write_text(text, encoding="utf-8")
    table = folder / "massnahmen.csv"
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    fields = list(rows[0].keys())
    for row, (ident, (title, description)) in zip(rows, MEASURES.items()):
        row["id"], row["titel"], row["beschreibung"] = ident, title, description
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    table.write_text(out.getvalue(), encoding="utf-8")
    return folder
