"""HTML escapes all data: a fictional dataset full of payloads is built with `kg build`, served, and
no page, SVG or error page it produces contains anything a browser would run.

Checked with the standard library's HTML parser: no script element but our own files and data
blocks (JSON-LD, examples), no ``on…`` attribute, no ``javascript:`` (or ``data:``/``vbscript:``)
URL in any link or source, and the payload texts appear only escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from tests.serving import serving as serve_app

from kg.cli import main as kg
from server import create_app
from tests.xss_dataset import BASE, JAVASCRIPT_IRI, MEASURES, QUOTE_IRI, write_sources

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
DATA_SCRIPT_TYPES = {"application/ld+json", "application/json"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
RAW_PAYLOADS = ("<script>alert", "<img src=x", "onmouseover=\"alert", "onfocus='alert")


class Findings(HTMLParser):
    """Everything executable in one HTML or SVG document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                cleaned = "".join(value.split()).lower()
                if cleaned.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}> element")
        if tag == "script":
            kind = (values.get("type") or "").lower()
            source = values.get("src")
            if kind in DATA_SCRIPT_TYPES and not source:
                self._in_script = "data"
            elif source and source.startswith("/") and not source.startswith("//"):
                self._in_script = "file"
            else:
                self.problems.append(f"script element {attrs!r}")
                self._in_script = "bad"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script == "data" and "</" in data:
            self.problems.append("a data block contains '</'")
        if self._in_script == "file" and data.strip():
            self.problems.append("inline code in a script element with src")


def problems_in(markup: str) -> list[str]:
    parser = Findings()
    parser.feed(markup)
    parser.close()
    found = list(parser.problems)
    found += [f"raw payload {p!r}" for p in RAW_PAYLOADS if p in markup]
    return found


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("xss")
    sources = write_sources(root / "xss")
    dist = root / "dist"
    assert kg(["build", str(sources), "--dist", str(dist), "--quiet"]) == 0
    app = create_app({"KIK_DIST": str(dist), "KIK_QUERY_TIMEOUT": 10.0, "KIK_MAX_CONCURRENT_QUERIES": 1})
    with serve_app(app) as base:
        yield base


def local(base: str, iri: str) -> str:
    return base + quote(iri.removeprefix("https://w3id.org/kik/"), safe="/:'()")


def measure_iris() -> list[str]:
    return [f"{BASE}massnahme/{ident}" for ident in MEASURES]


def pages(base: str) -> list[tuple[str, dict]]:
    measures = measure_iris()
    return [
        (base, {}),
        (base + "?lang=en", {}),
        (base + "massnahmen", {}),
        (base + "massnahmen?q=" + quote("<script>alert(1)</script>"), {}),
        (base + "massnahmen?akteur=" + quote(QUOTE_IRI), {}),
        (base + "vergleich", {}),
        (base + "vergleich?" + "&".join("m=" + quote(m) for m in measures), {}),
        (base + "vergleich?m=" + quote("javascript:alert(1)") + "&m=" + quote('"><script>alert(1)</script>'), {}),
        (base + "profil.svg?iri=" + quote(measures[0]), {}),
        (base + "profil.svg?iri=" + quote('"><script>alert(1)</script>'), {}),
        (base + "catalog", {}),
        (base + ".well-known/void", {}),
        (base + "validation", {}),
        (base + "download/", {}),
        (base + "sparql?example=" + quote('"><script>alert(1)</script>'), {}),
        (local(base, BASE + "stadt"), {}),
        (local(base, BASE + "konzept/2024"), {}),
        (local(base, BASE + "quelle/erfunden"), {}),
        (local(base, BASE + "konzept/2024/ziel/1"), {}),
        (local(base, BASE + "akteur/amt"), {}),
        (local(base, QUOTE_IRI), {}),
        *[(local(base, m), {}) for m in measures],
        # reflected input in error pages
        (base + "fiktiv/xss/%3Cscript%3Ealert(1)%3C/script%3E", {}),
        (base + "fiktiv/xss/x%22%20onmouseover=%22alert(1)", {}),
        (base + "fiktiv/xss/stadt?format=" + quote("<script>alert(1)</script>"), {}),
        (base + "massnahmen?lang=" + quote("<script>alert(1)</script>"), {}),
        (base + "massnahmen?modus=" + quote("<img src=x onerror=alert(1)>"), {}),
    ]


def test_payloads_are_in_the_data(xss_server) -> None:
    """The test data really carries the payloads (else the checks below would prove nothing)."""
    query = f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "<script>") && STRSTARTS(STR(?s), "{BASE}")) }}'
    answer = requests.get(xss_server + "sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert answer.json()["boolean"] is True
    turtle = requests.get(local(xss_server, BASE + "stadt"), headers={"Accept": "text/turtle"}, timeout=30).text
    assert "<script>alert('xss-script')</script>" in turtle and JAVASCRIPT_IRI in turtle


def test_no_page_contains_anything_executable(xss_server) -> None:
    checked = 0
    for url, headers in pages(xss_server):
        response = requests.get(url, headers={"Accept": "text/html", **headers}, timeout=60)
        assert response.status_code < 500, (url, response.status_code)
        if not response.headers.get("Content-Type", "").startswith(("text/html", "image/svg+xml")):
            continue
        assert problems_in(response.text) == [], url
        checked += 1
    assert checked >= 25


def test_measure_pages_show_the_payload_as_text(xss_server) -> None:
    """Escaped, not dropped: people see the odd title as it is in the data."""
    page = requests.get(local(xss_server, measure_iris()[0]), headers={"Accept": "text/html"}, timeout=60).text
    assert "&lt;script&gt;alert(" in page


def test_the_checker_finds_payloads() -> None:
    """The checks above can fail: each kind of payload is caught when it is not escaped."""
    assert problems_in("<p><script>alert(1)</script></p>")
    assert problems_in('<a href=" javascript:alert(1)">x</a>')
    assert problems_in('<span title="" onmouseover="alert(1)">x</span>')
    assert problems_in('<script type="application/ld+json">{"a": "</script><script>alert(1)</script>"}</script>')
    assert problems_in('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>')
    assert problems_in('<p>ok</p>') == []


def test_the_build_refuses_non_web_source_urls(tmp_path: Path, capsys) -> None:
    """A javascript: URL in the CSV's source column is bad input, not data."""
    sources = write_sources(tmp_path / "xss")
    table = sources / "massnahmen.csv"
    text = table.read_text(encoding="utf-8")
    table.write_text(text.replace(f"{BASE}quelle/erfunden", JAVASCRIPT_IRI, 1), encoding="utf-8")
    assert kg(["build", str(sources), "--dist", str(tmp_path / "dist"), "--quiet"]) == 2
    assert "quelle" in capsys.readouterr().err
