"""The benchmark harness runs end to end in its tiny mode and writes ratio tables (no timing asserted)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench import procs
from bench.run import main, step_seconds


def test_tiny_run_writes_markdown_with_ratio_columns(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    assert main(["--tiny", "--out", str(out), "--workdir", str(tmp_path / "work")]) == 0
    text = out.read_text(encoding="utf-8")
    for heading in ("## Build and validation", "## Query throughput and latency", "## Start to first answer and memory",
                    "## Dump download"):
        assert heading in text
    assert "| ours ÷ this (answers/s) |" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1 generated |") and "oxigraph serve" in line]
    assert rows, "oxigraph serve was measured beside our server"
    assert any(re.search(r"\| \d+\.\d\d× \|", row) for row in rows), "a ratio was computed"
    assert "Python " in text and "pyoxigraph" in text and "date:" in text
    results = json.loads((tmp_path / "work" / "results.json").read_text(encoding="utf-8"))
    assert results[0]["servers"]["ours"]["answers"]["06-konzeptversionen"] == results[0]["servers"]["oxigraph"]["answers"]["06-konzeptversionen"]
    assert not procs._STARTED, "every process the harness started was stopped"


def test_build_step_times_are_read_from_progress_lines() -> None:
    progress = "   0.0s [1/6] Quellen lesen / reading sources\n   0.1s       x\n   2.5s [2/6] SHACL-Prüfung / validating\n  4.0s [3/6] Statistik / statistics\n"
    assert step_seconds(progress) == {"reading sources": 2.5, "validating": 1.5}
