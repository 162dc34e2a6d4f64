"""/pruefen in headless Chromium (Debian's /usr/bin/chromium): a person chooses a file and presses
"Prüfen". One upload with an error (shown with its row and column), one without (the preview shows
the grid with the CSV's counts)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.browser.cdp import Browser
from tests.browser.check_screenshots import NEW_ROW, fill_in, upload
from tests.test_check_page import check_server, template  # noqa: F401 - shared fixtures
from tests.test_pages_browser import browser  # noqa: F401 - one Chromium per module

REPOSITORY = Path(__file__).resolve().parents[1]
MUSTERSTADT = REPOSITORY / "data" / "musterstadt"


def _check(browser: Browser, base: str, path: Path) -> None:
    browser.open(base + "pruefen?ordner=musterstadt")
    assert browser.js("document.querySelector('#ordner').value") == "musterstadt"
    upload(browser, "#datei", path)
    browser.click("form.check button[type=submit]")


def _visible(browser: Browser, selector: str) -> str:
    """The text of ``selector`` if it is shown on the page (has a size), else ''."""
    return browser.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return '';"
                      " const r = e.getBoundingClientRect(); return r.width && r.height ? e.innerText : ''; })()")


def test_upload_with_an_error_shows_row_and_column(browser, check_server, template, tmp_path):
    wrong = fill_in(template, tmp_path / "massnahmen.xlsx", mark="ja")
    _check(browser, check_server, wrong)
    assert browser.js("document.querySelector('.check-result').dataset.status") == "error"
    assert _visible(browser, ".source-error .row") == "2"
    assert _visible(browser, ".source-error .column") == "F (H2)"
    assert "„ja“ ist keine Markierung" in _visible(browser, ".source-error .what")
    assert "mit x markieren" in _visible(browser, ".source-error .hint")
    assert not browser.js("document.querySelector('.check-preview') !== null")


def test_upload_without_errors_shows_the_grid(browser, check_server, template, tmp_path):
    filled = fill_in(template, tmp_path / "massnahmen.xlsx")
    _check(browser, check_server, filled)
    assert browser.js("document.querySelector('.check-result').dataset.status") == "ok"
    cells = browser.js("[...document.querySelectorAll('.check-preview table.heat td[data-index]')]"
                       ".map(td => [Number(td.dataset.index), Number(td.dataset.count), td.getBoundingClientRect().width > 0])")
    with (MUSTERSTADT / "massnahmen.csv").open(encoding="utf-8") as stream:
        rows = [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]
    expected = {i: sum(row[f"H{i}"] == "x" for row in rows) + (NEW_ROW.get(f"H{i}") == "x") for i in range(1, 19)}
    assert {i: n for i, n, _ in cells} == expected and all(shown for _, _, shown in cells)
    assert browser.js("document.querySelectorAll('.check-profiles li').length") == len(rows) + 1
    new = browser.js(f"document.querySelector('.check-profiles li[data-id=\"{NEW_ROW['id']}\"] svg')"
                     ".getAttribute('aria-label')")
    assert "3 von 18" in new
