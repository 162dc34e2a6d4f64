"""bench/pages.py runs end to end on the Hamm + Musterstadt build and writes only its own section
(no timing asserted: the figures go to docs/benchmarks.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import procs
from bench.pages import HEADING, main


def test_pages_bench_measures_every_page_and_query_and_keeps_other_sections(tmp_path: Path, dist_dir: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Load test\n\nkept as it is\n", encoding="utf-8")
    work = tmp_path / "work"
    assert main(["--sizes", "2", "--dist", f"2={dist_dir}", "--seconds", "0.2", "--clients", "1,2",
                 "--out", str(out), "--workdir", str(work)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Load test\n\nkept as it is\n" in text and text.count(HEADING) == 1
    runs = json.loads((work / "pages.json").read_text(encoding="utf-8"))
    pages = {p["name"]: p for p in runs[0]["pages"]}
    assert pages["unknown IRI (404)"]["first_status"] == 404
    assert all(p["first_status"] == 200 for name, p in pages.items() if name != "unknown IRI (404)"), pages
    assert all(p["bytes"] > 0 for p in pages.values())
    examples = sorted(path.stem for path in (Path(__file__).resolve().parents[1] / "docs" / "queries").glob("*.rq"))
    assert sorted(runs[0]["queries"]) == examples and set(runs[0]["query_status"].values()) == {"ok"}
    assert not procs._STARTED, "every server the bench started was stopped"
