"""Every response carries CSP, nosniff, a frame policy and a Referrer-Policy; errors leak nothing.

The Content-Security-Policy is checked in headless Chromium too: the pages and the YASGUI editor
(including running a query) work under it without a single violation.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from server import create_app
from server.security import CONTENT_SECURITY_POLICY, EDITOR_POLICY
from tests.browser.cdp import Browser

COLLECT_VIOLATIONS = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__csp.push([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber]))"
)
# (method, path, extra request arguments, expected status): every kind of response, good and bad
REQUESTS = [
    ("GET", "", {}, 200),
    ("GET", "massnahmen", {}, 200),
    ("GET", "massnahmen?modus=keine", {}, 400),
    ("GET", "raster", {}, 200),
    ("GET", "raster?skala=keine", {}, 400),
    ("GET", "vergleich", {}, 200),
    ("GET", "vergleich?m=x", {}, 400),
    ("GET", "profil.svg", {}, 400),
    ("GET", "sparql", {}, 200),
    ("GET", "sparql", {"headers": {"Accept": "text/turtle"}}, 200),
    ("GET", "sparql?query=SELECT%20*%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D%20LIMIT%201", {}, 200),
    ("GET", "sparql?query=SELEKT", {}, 400),
    ("POST", "sparql", {"data": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
    ("OPTIONS", "sparql", {}, 204),
    ("GET", "sparql/yasgui/nothing.js", {}, 404),
    ("GET", "catalog", {}, 200),
    ("GET", "catalog?format=ttl", {}, 200),
    ("GET", "catalog?format=nope", {}, 400),
    ("GET", ".well-known/void", {"headers": {"Accept": "application/ld+json"}}, 200),
    ("GET", "hamm/konzept/2018", {}, 200),
    ("GET", "hamm/konzept/2018.ttl", {}, 200),
    ("GET", "hamm/gibt-es-nicht", {}, 404),
    ("GET", "hamm/konzept/2018", {"headers": {"Accept": "image/png"}}, 406),
    ("GET", "download/", {}, 200),
    ("GET", "download/kg.ttl", {}, 200),
    ("GET", "download/nope", {}, 404),
    ("GET", "context.jsonld", {}, 200),
    ("GET", "health", {}, 200),
    ("GET", "openapi.json", {}, 200),
    ("GET", "static/pages/style.css", {}, 200),
    ("DELETE", "catalog", {}, 405),
    ("PUT", "sparql", {"data": b"x"}, 405),
]
LEAKS = ("Traceback", 'File "', str(Path(__file__).resolve().parents[1]), "site-packages", ".py\"", "line ", "Werkzeug Debugger")


def check_headers(response: requests.Response) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(("method", "path", "extra", "status"), REQUESTS)
def test_every_response_has_the_security_headers(served, method, path, extra, status) -> None:
    """On the development and the production server alike."""
    response = requests.request(method, served + path, timeout=60, **extra)
    assert response.status_code == status, response.text[:500]
    check_headers(response)


ERRORS = [r for r in REQUESTS if r[3] >= 400 and r[1] != "sparql/yasgui/nothing.js"]


@pytest.mark.parametrize(("method", "path", "extra", "status"), ERRORS)
def test_error_responses_leak_no_trace_or_path(served, dist_dir, method, path, extra, status) -> None:
    response = requests.request(method, served + path, timeout=60, **extra)
    assert response.status_code == status
    body = response.text
    assert body.strip(), "an error says what went wrong"
    assert not any(leak in body for leak in LEAKS if leak != "line "), body
    assert str(dist_dir) not in body and str(dist_dir.resolve()) not in body


def test_the_editor_page_alone_allows_inline_styles(live_server) -> None:
    editor = requests.get(live_server + "sparql", headers={"Accept": "text/html"}, timeout=30)
    assert editor.headers["Content-Security-Policy"] == EDITOR_POLICY
    page = requests.get(live_server, timeout=30)
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY.replace("style-src-attr 'unsafe-inline'", "")


def test_unexpected_errors_become_a_plain_500(dist_dir) -> None:
    """A bug in a view: the client gets a sentence, the log gets the traceback."""
    app = create_app({"KIK_DIST": str(dist_dir)})

    def broken():
        raise RuntimeError(f"secret detail {dist_dir}/kg.nq")

    app.add_url_rule("/broken", "broken", broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "secret detail" not in body and str(dist_dir) not in body and "Traceback" not in body
    assert "500" in body and "logged" in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_method_not_allowed_keeps_allow_header(live_server) -> None:
    response = requests.delete(live_server + "massnahmen", headers={"Accept": "text/plain"}, timeout=30)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.text.startswith("405")


def test_openapi_description_is_served(live_server) -> None:
    response = requests.get(live_server + "openapi.json", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    description = response.json()
    assert description["openapi"].startswith("3.")
    for path in ("/", "/massnahmen", "/vergleich", "/raster", "/profil.svg", "/sparql", "/catalog", "/.well-known/void",
                 "/download/{file}", "/context.jsonld", "/ontology", "/shapes", "/validation", "/health", "/{resource}"):
        assert path in description["paths"], path
    assert {"get", "post"} <= set(description["paths"]["/sparql"])


@pytest.fixture(scope="module")
def browser():
    chromium = Browser()
    try:
        chromium.send("Page.addScriptToEvaluateOnNewDocument", source=COLLECT_VIOLATIONS)
        yield chromium
    finally:
        chromium.close()


def wait_until(browser: Browser, expression: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if browser.js(expression):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("path", ["", "massnahmen", "vergleich", "catalog", "hamm/konzept/2018", "ontology",
                                  "download/", "validation"])
def test_pages_work_under_the_policy(browser, live_server, path) -> None:
    browser.open(live_server + path)
    assert browser.js("document.styleSheets.length") >= 1, "the style sheet loaded"
    assert browser.js("JSON.stringify(window.__csp)") == "[]"


def test_yasgui_runs_a_query_under_the_policy(browser, live_server) -> None:
    browser.open(live_server + "sparql")
    assert wait_until(browser, "!!document.querySelector('.yasgui .yasqe_queryButton')"), "YASGUI started"
    browser.js("document.querySelector('.yasgui .yasqe_queryButton').click()")
    assert wait_until(browser, "!!document.querySelector('.yasr .dataTable, .yasr table')"), "results shown"
    assert browser.js("JSON.stringify(window.__csp)") == "[]"
