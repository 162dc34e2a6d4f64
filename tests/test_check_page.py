"""/pruefen and /vorlage over real HTTP: what kg build would say about an uploaded table, nothing stored.

Expected values come from the repository's CSV (read here with the csv module) and from the served
build's own validation report, not from the check page's code.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook, load_workbook

from kg.cli import main as kg_main
from kg.spreadsheet import SHEET
from tests.serving import serving

REPOSITORY = Path(__file__).resolve().parents[1]
MUSTERSTADT = REPOSITORY / "data" / "musterstadt"
MUSTER_BASE = "https://w3id.org/kik/fiktiv/musterstadt/"
LIMITS = {"KIK_CHECK_MAX_UPLOAD_BYTES": 2_000_000, "KIK_CHECK_MAX_UNPACKED_BYTES": 20_000_000, "KIK_CHECK_MAX_ROWS": 2_000}


def _app(dist: Path, **overrides):
    from server import create_app

    return create_app({"KIK_DIST": str(dist), "TESTING": True, "KIK_CHECK_PAGE": 1, **LIMITS, **overrides})


@pytest.fixture(scope="module")
def check_server(dist_dir):
    with serving(_app(dist_dir)) as base:
        yield base


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vorlage") / "massnahmen.xlsx"
    assert kg_main(["template", str(MUSTERSTADT), "--out", str(out)]) == 0
    return out


def _upload(base: str, name: str, data: bytes, folder: str = "musterstadt", lang: str = "de") -> requests.Response:
    return requests.post(base + "pruefen", params={"lang": lang}, data={"ordner": folder},
                         files={"datei": (name, data)}, timeout=120)


def _csv_counts(path: Path) -> dict[int, int]:
    with path.open(encoding="utf-8", newline="") as stream:
        rows = [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]
    return {i: sum(1 for row in rows if row[f"H{i}"].strip().lower() == "x") for i in range(1, 19)}


def _heat(html: str) -> dict[int, int]:
    return {int(i): int(n) for i, n in re.findall(r'data-index="(\d+)" data-count="(\d+)"', html)}


def _edited(template: Path, edit) -> bytes:
    book = load_workbook(template)
    edit(book, book[SHEET])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_off_by_default(live_server):
    assert requests.get(live_server + "pruefen", timeout=30).status_code == 404
    assert requests.post(live_server + "pruefen", timeout=30).status_code in (404, 405)


def test_form_lists_the_builds_data_folders(check_server, dist_dir):
    page = requests.get(check_server + "pruefen", timeout=30)
    assert page.status_code == 200
    ids = re.findall(r'<option value="([^"]+)"', page.text)
    inputs = json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))["inputs"]
    assert sorted(ids) == sorted(Path(p).name for p in inputs) == ["hamm", "musterstadt"]


def test_good_workbook_gives_the_builds_findings_and_a_preview(check_server, template, dist_dir):
    response = _upload(check_server, "massnahmen.xlsx", template.read_bytes())
    assert response.status_code == 200, response.text[-2000:]
    assert 'data-status="ok"' in response.text
    # the heat map counts the x of the repository's CSV
    assert _heat(response.text) == _csv_counts(MUSTERSTADT / "massnahmen.csv")
    # one profile per measure row of the CSV
    with (MUSTERSTADT / "massnahmen.csv").open(encoding="utf-8") as stream:
        ids = sorted(row["id"] for row in csv.DictReader(stream) if not row["id"].startswith("#"))
    assert sorted(re.findall(r'<li data-id="([^"]+)"', response.text)) == ids
    # the findings are the served build's own for Musterstadt (same table content, same shapes)
    served = json.loads((dist_dir / "validation.json").read_text(encoding="utf-8"))
    expected = sorted((r["severity"], r["focusNode"], r["messages"]["de"]) for r in served
                      if r["focusNode"].startswith(MUSTER_BASE))
    shown = [(s, f, html.unescape(text)) for s, f, text in
             re.findall(r'<li data-severity="(\w+)" data-focus="([^"]+)">(.*?)</li>', response.text)]
    assert expected and sorted((s, f) for s, f, _ in shown) == [(s, f) for s, f, _ in expected]
    for severity, focus, message in expected:
        assert any(s == severity and f == focus and text.endswith(": " + message) for s, f, text in shown), message


def test_csv_and_english(check_server):
    response = _upload(check_server, "massnahmen.csv", (MUSTERSTADT / "massnahmen.csv").read_bytes(), lang="en")
    assert response.status_code == 200
    assert "A build would accept this table." in response.text


def test_ods_upload(check_server, tmp_path):
    ods = tmp_path / "massnahmen.ods"
    assert kg_main(["template", str(MUSTERSTADT), "--format", "ods", "--out", str(ods)]) == 0
    response = _upload(check_server, "massnahmen.ods", ods.read_bytes())
    assert response.status_code == 200 and 'data-status="ok"' in response.text
    assert _heat(response.text) == _csv_counts(MUSTERSTADT / "massnahmen.csv")


def test_error_names_row_and_column(check_server, template):
    data = _edited(template, lambda b, s: s.cell(row=6, column=6, value="ja"))
    response = _upload(check_server, "meine-tabelle.xlsx", data)
    assert response.status_code == 422
    assert '<span class="row">6</span>' in response.text and '<span class="column">F (H2)</span>' in response.text
    assert "Blatt „Maßnahmen“, Zeile 6, Spalte F (H2): „ja“ ist keine Markierung." in response.text
    assert "Abhilfe" in response.text


def _xlsx_rows(count: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append(["id", "titel", "quelle", *(f"H{i}" for i in range(1, 19))])
    for number in range(count):
        sheet.append([f"m-{number}", "Titel", "https://example.org/"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)
    return out.getvalue()


BAD = {
    "not a spreadsheet (png)": ("bild.png", lambda t: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "keine Tabelle"),
    "not a spreadsheet (xlsx name)": ("massnahmen.xlsx", lambda t: b"%PDF-1.4 not a workbook", 415, "keine Arbeitsmappe"),
    "zip bomb": ("massnahmen.xlsx", lambda t: _zip_bomb(), 413, "(erlaubt: 20.000.000)"),
    "50,000 rows (xlsx)": ("massnahmen.xlsx", lambda t: _xlsx_rows(50_000), 413, "mehr als 2000 Zeilen"),
    "50,000 rows (csv)": ("massnahmen.csv", lambda t: ("id,titel,quelle\n" + "m,T,https://e.org/\n" * 50_000).encode(), 413, "mehr als 2000 Zeilen"),
    "macro workbook": ("massnahmen.xlsm", lambda t: t.read_bytes(), 415, "Makros"),
    "wrong column": ("massnahmen.xlsx", lambda t: _edited(t, lambda b, s: s.cell(row=1, column=3, value="title_english")), 422,
                     "unbekannte Spalte „title_english“"),
    "too large upload": ("massnahmen.csv", lambda t: b"x" * 2_100_000, 413, "größer als 2000000 Bytes"),
    "not utf-8 csv": ("massnahmen.csv", lambda t: "id,titel\nä,ö\n".encode("latin-1"), 422, "nicht UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_upload_is_a_clear_4xx(case, check_server, template):
    name, make, status, text = BAD[case]
    response = _upload(check_server, name, make(template))
    assert response.status_code == status, response.text[-1500:]
    assert text in response.text
    assert "<form" in response.text, "the page offers the form again"


def test_missing_fields_and_unknown_folder(check_server, template):
    assert requests.post(check_server + "pruefen", data={"ordner": "musterstadt"}, timeout=30).status_code == 400
    assert requests.post(check_server + "pruefen", files={"datei": ("m.csv", b"id\n")}, timeout=30).status_code == 400
    assert _upload(check_server, "m.csv", b"id\n", folder="nirgendwo").status_code == 404


def test_time_limit_is_a_setting(dist_dir, template):
    with serving(_app(dist_dir, KIK_CHECK_TIMEOUT=0.01)) as base:
        response = _upload(base, "massnahmen.xlsx", template.read_bytes())
    assert response.status_code == 422 and "länger als 0.01 Sekunden" in response.text


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_nothing_is_stored_and_nothing_served_changes(check_server, template, dist_dir):
    before = (requests.get(check_server + "health", timeout=30).json(), _tree_digest(dist_dir.resolve()),
              _tree_digest(MUSTERSTADT), requests.get(check_server + "download/kg.nq", timeout=30).content)
    data = _edited(template, lambda b, s: s.cell(row=2, column=2, value="Ganz anderer Titel (fiktiv)"))
    assert _upload(check_server, "massnahmen.xlsx", data).status_code == 200
    after = (requests.get(check_server + "health", timeout=30).json(), _tree_digest(dist_dir.resolve()),
             _tree_digest(MUSTERSTADT), requests.get(check_server + "download/kg.nq", timeout=30).content)
    assert before == after
    assert "Ganz anderer Titel" not in requests.get(check_server + "massnahmen", timeout=30).text


def test_template_download(check_server, tmp_path):
    response = requests.get(check_server + "vorlage/musterstadt.xlsx", timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="massnahmen-musterstadt.xlsx"' in response.headers["Content-Disposition"]
    path = tmp_path / "m.xlsx"
    path.write_bytes(response.content)
    sheet = load_workbook(path)[SHEET]
    with (MUSTERSTADT / "massnahmen.csv").open(encoding="utf-8") as stream:
        rows = [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]
    assert [sheet.cell(row=r, column=1).value for r in range(2, len(rows) + 2)] == [row["id"] for row in rows]
    assert requests.get(check_server + "vorlage/nirgendwo.xlsx", timeout=30).status_code == 404
    landing = requests.get(check_server, timeout=30).text
    municipality = next(link for link in re.findall(r'href="(/kommune/[^"?]+)"', landing) if "musterstadt" in link)
    for page in (municipality.lstrip("/"), "fiktiv/musterstadt/konzept/2023"):
        html_page = requests.get(check_server + page, headers={"Accept": "text/html"}, timeout=30).text
        assert 'href="/vorlage/musterstadt.xlsx"' in html_page and 'href="/pruefen?ordner=musterstadt"' in html_page, page


def test_generated_deployment(generated_build, tmp_path):
    """With 50 generated municipalities more: every folder offered; a generated one's template checks clean."""
    dist = generated_build(50)
    inputs = json.loads((dist / "build.json").read_text(encoding="utf-8"))["inputs"]
    folder = Path(next(p for p in inputs if "gen-" in Path(p).name))
    with serving(_app(dist)) as base:
        ids = re.findall(r'<option value="([^"]+)"', requests.get(base + "pruefen", timeout=60).text)
        assert len(ids) == len(inputs) == 52
        data = requests.get(base + f"vorlage/{folder.name}.xlsx", timeout=60)
        assert data.status_code == 200
        response = _upload(base, "massnahmen.xlsx", data.content, folder=folder.name)
    assert response.status_code == 200, response.text[-2000:]
    with (folder / "massnahmen.csv").open(encoding="utf-8") as stream:
        rows = [row for row in csv.DictReader(stream) if not row["id"].startswith("#")]
    assert len(re.findall(r'<li data-id="', response.text)) == len(rows)


def test_production_server(dist_dir, template):
    """waitress as README.md starts it (threads, body bound), /pruefen switched on by its setting:
    the check runs in its own process from the forkserver, not in waitress' threads."""
    from tests.production import waitress

    with waitress(dist_dir, KIK_CHECK_PAGE="1") as running:
        base = running.base.rstrip("/") + "/"
        assert len(template.read_bytes()) < 100_000  # within README's body bound (KIK_MAX_QUERY_BYTES)
        response = _upload(base, "massnahmen.xlsx", template.read_bytes())
        assert response.status_code == 200 and 'data-status="ok"' in response.text
        assert _heat(response.text) == _csv_counts(MUSTERSTADT / "massnahmen.csv")
        bad = _upload(base, "massnahmen.xlsm", template.read_bytes())
        assert bad.status_code == 415 and "Makros" in bad.text
