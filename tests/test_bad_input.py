"""Bad source input: one clear message (file, line/row, column, fix), exit code 2, dist/ unchanged."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from kg.cli import main as kg
from tests.conftest import MINI

MEASURES = "massnahmen.csv"


@pytest.fixture
def setup(tmp_path: Path):
    """A good build of the mini fixture, and a copy of its sources to break."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    dist = tmp_path / "dist"
    assert kg(["build", str(folder), "--dist", str(dist), "--quiet"]) == 0
    return folder, dist


def fingerprint(dist: Path) -> tuple[Path, dict[str, str]]:
    return dist.resolve(), {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dist.iterdir())}


def rebuild_fails(folder: Path, dist: Path, capsys) -> str:
    """Rebuild the broken sources; assert exit 2 and an untouched dist; return the message."""
    before = fingerprint(dist)
    capsys.readouterr()
    assert kg(["build", str(folder), "--dist", str(dist), "--quiet"]) == 2
    assert fingerprint(dist) == before
    assert not list(dist.parent.glob(".kg-builds/*.partial"))
    message = capsys.readouterr().err
    assert message.count("\n") <= 3, "one message, not a traceback"
    return message


def edit_csv(folder: Path, old: str, new: str) -> None:
    path = folder / MEASURES
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_malformed_turtle(setup, capsys) -> None:
    folder, dist = setup
    path = folder / "struktur.ttl"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if "t:stadt a kik:Municipality" in line)
    lines[broken] = lines[broken].replace('"Testkommune (fiktiv)"@de', '"Testkommune (fiktiv)@de')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = rebuild_fails(folder, dist, capsys)
    assert "struktur.ttl" in message and f"Zeile {broken + 1}" in message and "Spalte" in message
    assert "Turtle" in message and "Abhilfe" in message


def test_grid_mark_in_column_19_as_extra_cell(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, ",3\n", ",3,x\n")
    message = rebuild_fails(folder, dist, capsys)
    assert "massnahmen.csv" in message and "Zeile 2" in message
    assert "Rasterspalte 19" in message


def test_grid_mark_in_column_19_as_header(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, "H18,", "H18,H19,")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 1" in message and "Spalte H19" in message and "nur 18 Felder" in message


def test_non_mark_value(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, "Erfunden.,x,", "Erfunden.,ja,")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 2" in message and "Spalte H1" in message and "„ja“ ist keine Markierung" in message


def test_duplicate_measure_id(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, "lotsen,", "sprachcafe,")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 3" in message and "Spalte id" in message and "Zeile 2" in message


def test_unknown_actor(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, "amt:partner", "jugendamt:partner")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 3" in message and "Spalte akteure" in message and "jugendamt" in message


def test_unknown_challenge(setup, capsys) -> None:
    folder, dist = setup
    path = folder / "struktur.ttl"
    text = path.read_text(encoding="utf-8")
    start = text.index("t:konzept\\/2024\\/herausforderung\\/4 a")
    end = text.index("\n\n", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 3" in message and "Spalte H4" in message and "Herausforderung 4" in message


def test_unknown_action_field(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, ",1,amt:traeger", ",9,amt:traeger")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 2" in message and "Spalte handlungsfelder" in message


def test_missing_required_column(setup, capsys) -> None:
    folder, dist = setup
    path = folder / MEASURES
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    keep = [i for i, name in enumerate(rows[0]) if name != "quelle"]
    path.write_text("\n".join(",".join(r[i] for i in keep) for r in rows) + "\n", encoding="utf-8")
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 1" in message and "Spalte quelle" in message and "Pflichtspalte" in message


def test_wrong_encoding(setup, capsys) -> None:
    folder, dist = setup
    path = folder / MEASURES
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    message = rebuild_fails(folder, dist, capsys)
    assert "Zeile 2" in message and "UTF-8" in message


def test_bad_date(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, ",2024,", ",Sommer 2024,")
    message = rebuild_fails(folder, dist, capsys)
    assert "Spalte beginn" in message


def test_english_messages(setup, capsys) -> None:
    folder, dist = setup
    edit_csv(folder, "lotsen,", "sprachcafe,")
    capsys.readouterr()
    assert kg(["build", str(folder), "--dist", str(dist), "--quiet", "--lang", "en"]) == 2
    message = capsys.readouterr().err
    assert "line 3" in message and "already used in line 2" in message and "Fix:" in message
