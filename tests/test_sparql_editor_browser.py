"""The query editor in a real browser: YASGUI loads, shows the example queries and runs a query."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from tests.browser.cdp import Browser

QUERY = "PREFIX kik: <https://w3id.org/kik/ontology#> SELECT ?m WHERE { ?m a kik:Measure } ORDER BY ?m LIMIT 5"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def wait_until(check: Callable[[], object], seconds: float = 30.0) -> object:
    """Poll the page until ``check`` is truthy (an upper bound for slow machines, not a timing test)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the page did not reach the expected state")


def test_yasgui_shows_examples_and_runs_a_query(browser: Browser, live_server: str) -> None:
    browser.open(f"{live_server}sparql")
    wait_until(lambda: browser.js("!!(window.kikYasgui && document.querySelector('.yasgui .CodeMirror'))"))
    assert browser.js("document.getElementById('kik-plain-editor').hidden") is True
    tabs = browser.js("document.querySelectorAll('.yasgui .tabsList .tab').length")
    assert tabs >= 12, "one tab per example query"
    browser.js(f"window.kikYasgui.getTab().getYasqe().setValue({json.dumps(QUERY)}); window.kikYasgui.getTab().query(); true")
    rows = wait_until(lambda: browser.js("document.querySelectorAll('.yasr tbody tr').length"))
    assert rows == 5
    text = browser.js("document.querySelector('.yasr tbody').innerText")
    assert "massnahme" in text
