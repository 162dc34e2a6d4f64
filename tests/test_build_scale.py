"""bench/build_scale.py end to end at the smallest size: its section replaces only itself."""

from __future__ import annotations

from pathlib import Path

from bench import build_scale


def test_fit_is_least_squares() -> None:
    assert build_scale.fit([(1, 3.0), (2, 5.0), (3, 7.0)]) == (1.0, 2.0)


def test_one_municipality_writes_its_section_and_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Build at scale\n\nold\n\n## Load test\n\nkept\n", encoding="utf-8")
    assert build_scale.main(["--sizes", "1", "--out", str(out), "--workdir", str(tmp_path / "work")]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\n## Build at scale\n") and "\nold\n" not in text
    assert text.endswith("## Load test\n\nkept\n")
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3].endswith(" s") and cells[8].endswith(" s")  # full build, rebuild
    assert float(cells[4].removesuffix(" s")) > 0  # CPU seconds read from /usr/bin/time -v
    assert "reading and validating folders" in cells[12]
    assert "### Reading the curve" in text  # bench/build_scale.md, kept across runs
