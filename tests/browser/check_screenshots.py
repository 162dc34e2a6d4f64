"""Screenshots of city staff's path for docs/sources.md (fictional Musterstadt): the template link on
the municipality's page, the filled-in workbook (as LibreOffice renders it), /pruefen with an error and
with the preview.

    .venv/bin/python -m tests.browser.check_screenshots --dist dist --out docs/screenshots
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
from pathlib import Path

from openpyxl import load_workbook
from werkzeug.serving import make_server

from kg.spreadsheet import SHEET, soffice
from server import create_app
from tests.browser.cdp import Browser
from tests.browser.screenshots import shoot

MUNICIPALITY = "kommune/fiktiv/musterstadt"
# a measure added as an officer would, fictional like everything in Musterstadt
NEW_ROW = {"id": "lesepaten-stadtteil", "titel": "Lesepatenschaften im Stadtteil (fiktiv)",
           "titel_en": "Reading mentors in the district (fictional)", "H1": "x", "H2": "x", "H13": "x",
           "handlungsfelder": "2", "akteure": "verein-bruecken:traeger", "zielgruppen": "kinder",
           "altersbereich": "6-10", "beginn": "2024", "quelle": "https://w3id.org/kik/fiktiv/musterstadt/quelle/erfunden"}


def upload(browser: Browser, selector: str, path: Path) -> None:
    """Put ``path`` into the file input ``selector`` (as a person choosing the file would)."""
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(path)], nodeId=node)


def fill_in(template: Path, out: Path, mark: str = "x") -> Path:
    """The template with one more measure; ``mark`` other than x gives the error a check must find."""
    book = load_workbook(template)
    sheet = book[SHEET]
    header = [cell.value for cell in sheet[1]]
    row = 2  # on top, where the screenshot shows it
    sheet.insert_rows(row)
    for name, value in NEW_ROW.items():
        sheet.cell(row=row, column=header.index(name) + 1, value=mark if value == "x" and name == "H2" else value)
    book.save(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app({"KIK_DIST": str(args.dist), "KIK_CHECK_PAGE": 1})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    browser = Browser()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        try:
            browser.open(base + MUNICIPALITY + "?lang=de")
            shoot(browser, args.out / "sources-1-template-link.png", "ul.completeness", 330)
            with app.test_client() as client:
                (work / "vorlage.xlsx").write_bytes(client.get("/vorlage/musterstadt.xlsx").data)
            filled = fill_in(work / "vorlage.xlsx", work / "massnahmen.xlsx")
            wrong = fill_in(work / "vorlage.xlsx", work / "massnahmen-fehler.xlsx", mark="ja")
            subprocess.run([soffice(), "--headless", f"-env:UserInstallation={(work / 'profile').as_uri()}",
                            "--convert-to", "html", "--outdir", str(work / "html"), str(filled)],
                           check=True, capture_output=True, timeout=120)
            browser.open((work / "html" / "massnahmen.html").as_uri())
            shoot(browser, args.out / "sources-2-workbook.png", 'a[name="table0"]', 520)
            for name, path in (("sources-3-check-error.png", wrong), ("sources-4-check-preview.png", filled)):
                browser.open(base + "pruefen?ordner=musterstadt&lang=de")
                upload(browser, "#datei", path)
                browser.click("form.check button[type=submit]")
                shoot(browser, args.out / name, "section.check-result", 1300)
        finally:
            browser.close()
            server.shutdown()
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
