"""Build time and peak memory against the number of municipalities, and the curve extrapolated.

    .venv/bin/python -m bench.build_scale                          # 1, 50, 400, 1000; writes docs/benchmarks.md
    .venv/bin/python -m bench.build_scale --sizes 1,5 --out /tmp/b.md   # smoke run

For each size: a full `kg build` (empty cache) of Hamm + Musterstadt + N generated municipalities,
then one municipality's massnahmen.csv changed and `kg build` again (the incremental rebuild). Each
run under `/usr/bin/time -v` (largest single process's peak RSS) and sampled for the whole process
tree's memory (PSS). A least-squares line per step over the sizes gives seconds per municipality;
extrapolated to Germany's ~10,800 municipalities it names the step that then limits the build.
The section "## Build at scale" of the output file is replaced; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import procs
from bench.report import machine_info
from bench.run import REPOSITORY, STEP_LINE, log

HEADING = "## Build at scale"
GERMANY = 10_800
GOALS = {"rebuild_s": 15.0, "full_s": 120.0, "peak_mb": 2048.0}
MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
CPU = re.compile(r"(?:User|System) time \(seconds\): ([0-9.]+)")


def steps_of(text: str) -> dict[str, float]:
    """Seconds per step from kg build's progress lines (the last step runs to the end of the run)."""
    marks = [(float(m.group(1)), m.group(4).split(" / ")[-1]) for m in map(STEP_LINE.match, text.splitlines()) if m]
    return {name: round(marks[i + 1][0] - at, 2) for i, (at, name) in enumerate(marks[:-1])}


def snapshot(workdir: Path) -> Path:
    """The code, ontology, shapes and data as they are now, so that edits in the checkout during the
    run (which change the build cache's key) do not turn the rebuild into a full build."""
    target = workdir / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    for name in ("kg", "ontology", "shapes", "data"):
        shutil.copytree(REPOSITORY / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def kg(code: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "kg.cli", *args]


def timed_build(code: Path, dirs: list[Path], dist: Path, logs: Path, name: str, jobs: int, timeout: float) -> dict:
    log_file = logs / f"{name}.log"
    argv = ["/usr/bin/time", "-v", *kg(code, "build", *map(str, dirs), "--dist", str(dist), "--jobs", str(jobs))]
    timed = procs.run_timed(argv, log_file, timeout=timeout, cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
    text = log_file.read_text(encoding="utf-8", errors="replace")
    if timed.returncode != 0:
        raise RuntimeError(f"kg build failed ({name}): see {log_file}")
    largest = MAX_RSS.search(text)
    return {"seconds": round(timed.seconds, 2), "cpu_s": round(sum(float(v) for v in CPU.findall(text)), 1),
            "load": round(os.getloadavg()[0], 1), "tree_mb": round(timed.peak_rss / 2**20),
            "process_mb": round(int(largest.group(1)) / 1024) if largest else None, "steps": steps_of(text)}


def change_one_table(folder: Path) -> None:
    """A new title in the first row of one generated municipality's table (fictional data)."""
    table = folder / "massnahmen.csv"
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
    column = rows[0].index("titel")
    rows[1][column] = rows[1][column].replace(" (fiktiv)", "") + f" – geändert {time.time_ns()} (fiktiv)"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    table.write_text(out.getvalue(), encoding="utf-8")


def measure(sizes: list[int], workdir: Path, jobs: int, timeout: float) -> list[dict]:
    code = snapshot(workdir)
    generated = workdir / "generated"
    if not generated.is_dir() or len(list(generated.glob("gen-*"))) < max(sizes):
        shutil.rmtree(generated, ignore_errors=True)
        log(f"generating {max(sizes)} municipalities")
        procs.run_timed(kg(code, "generate", str(max(sizes)), str(generated)), workdir / "generate.log", timeout=timeout,
                        cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
    results = []
    for size in sizes:
        folder = workdir / f"n{size}"
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "logs").mkdir(parents=True)
        sources = folder / "sources"
        sources.mkdir()
        for gen in sorted(generated.glob("gen-*"))[:size]:
            shutil.copytree(gen, sources / gen.name)
        dirs = [code / "data" / "hamm", code / "data" / "musterstadt", *sorted(sources.glob("gen-*"))]
        log(f"{size}: full build ({len(dirs)} folders)")
        full = timed_build(code, dirs, folder / "dist", folder / "logs", "full", jobs, timeout)
        manifest = json.loads((folder / "dist" / "build.json").read_text(encoding="utf-8"))
        change_one_table(dirs[-1])
        log(f"{size}: rebuild after one change")
        rebuild = timed_build(code, dirs, folder / "dist", folder / "logs", "rebuild", jobs, timeout)
        results.append({"municipalities": size, "folders": len(dirs), "triples": manifest["triples"],
                        "nq_bytes": manifest["files"]["kg.nq"]["bytes"], "full": full, "rebuild": rebuild})
        shutil.rmtree(folder / ".kg-builds", ignore_errors=True)
        shutil.rmtree(sources, ignore_errors=True)
    return results


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares: (intercept, slope)."""
    n = len(points)
    if n < 2:
        return (points[0][1] if points else 0.0), 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0
    return mean_y - slope * mean_x, slope


def render(results: list[dict], info: dict, jobs: int, command: str) -> str:
    lines = [HEADING, "",
             f"Written by `bench/build_scale.py` (command: `{command}`), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{info['machine']}, {info['cpu']}, {info['memory']} RAM, Python {info['python']}; `kg build --jobs {jobs}`; "
             f"load average at the end {os.getloadavg()[0]:.1f}. Data: Hamm + Musterstadt + N generated municipalities "
             "(`kg generate`). *Full*: empty cache. *Rebuild*: one municipality's `massnahmen.csv` changed, then "
             "`kg build` again with the cache of the full build. Memory: *process* = the largest single process "
             "(`/usr/bin/time -v`, maximum RSS), *tree* = the whole process tree (PSS, sampled). Other jobs shared "
             "the machine's cores during the run: read the figures as ±20 %.", "",
             "*CPU* = user + system seconds of the whole process tree (`/usr/bin/time -v`): unlike wall time it hardly "
             "depends on what else runs; *load* = the 1-minute load average when the build ended (2 cores: above 2, "
             "other jobs were waiting for the same cores and the wall times are stretched).", "",
             "| municipalities | triples | kg.nq | full build | CPU | load | peak process | peak tree | rebuild after one change | CPU | load | rebuild peak process | steps of the full build (s) | steps of the rebuild (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        steps = lambda run: ", ".join(f"{k} {v:g}" for k, v in run["steps"].items())  # noqa: E731
        lines.append(f"| {r['municipalities']} | {r['triples']:,} | {r['nq_bytes'] / 2**20:.0f} MB | {r['full']['seconds']:.1f} s "
                     f"| {r['full'].get('cpu_s', '?')} s | {r['full'].get('load', '?')} "
                     f"| {r['full']['process_mb']} MB | {r['full']['tree_mb']} MB | {r['rebuild']['seconds']:.1f} s "
                     f"| {r['rebuild'].get('cpu_s', '?')} s | {r['rebuild'].get('load', '?')} "
                     f"| {r['rebuild']['process_mb']} MB | {steps(r['full'])} | {steps(r['rebuild'])} |")
    lines += ["", "### The curve", ""]
    if len(results) >= 2:
        xs = [r["folders"] for r in results]
        full_fit = fit([(x, r["full"]["seconds"]) for x, r in zip(xs, results)])
        rebuild_fit = fit([(x, r["rebuild"]["seconds"]) for x, r in zip(xs, results)])
        full_cpu = fit([(x, r["full"].get("cpu_s", 0.0)) for x, r in zip(xs, results)])
        rebuild_cpu = fit([(x, r["rebuild"].get("cpu_s", 0.0)) for x, r in zip(xs, results)])
        memory_fit = fit([(x, r["full"]["process_mb"] or 0) for x, r in zip(xs, results)])
        tree_fit = fit([(x, r["full"]["tree_mb"]) for x, r in zip(xs, results)])
        names = sorted({k for r in results for k in r["full"]["steps"]} | {k for r in results for k in r["rebuild"]["steps"]})
        lines += [f"Least-squares lines over the {len(results)} sizes (x = data folders):", "",
                  "| what | fixed | per municipality | at 10,800 municipalities |", "|---|---|---|---|",
                  _row("full build", full_fit, "s"), _row("rebuild after one change", rebuild_fit, "s"),
                  _row("full build, CPU", full_cpu, "s"), _row("rebuild after one change, CPU", rebuild_cpu, "s"),
                  _row("peak memory, largest process", memory_fit, "MB"), _row("peak memory, process tree", tree_fit, "MB")]
        slopes = {}
        for run in ("full", "rebuild"):
            for name in names:
                points = [(x, r[run]["steps"].get(name, 0.0)) for x, r in zip(xs, results)]
                line = fit(points)
                slopes[(run, name)] = line
                lines.append(_row(f"{run}: step „{name}“", line, "s"))
        full_limit = max((k for k in slopes if k[0] == "full"), key=lambda k: slopes[k][0] + slopes[k][1] * GERMANY)
        rebuild_limit = max((k for k in slopes if k[0] == "rebuild"), key=lambda k: slopes[k][0] + slopes[k][1] * GERMANY)
        lines += ["", f"Extrapolated to {GERMANY:,} municipalities: a full build "
                  f"≈ {(full_fit[0] + full_fit[1] * GERMANY) / 60:.0f} min, limited by the step „{full_limit[1]}“ "
                  f"(≈ {(slopes[full_limit][0] + slopes[full_limit][1] * GERMANY) / 60:.0f} min); a rebuild after one change "
                  f"≈ {(rebuild_fit[0] + rebuild_fit[1] * GERMANY) / 60:.1f} min, limited by „{rebuild_limit[1]}“ "
                  f"(≈ {(slopes[rebuild_limit][0] + slopes[rebuild_limit][1] * GERMANY) / 60:.1f} min). "
                  f"By CPU time, which the load of a shared machine does not stretch: a full build "
                  f"≈ {(full_cpu[0] + full_cpu[1] * GERMANY) / 60:.0f} CPU-min (≈ {(full_cpu[0] + full_cpu[1] * GERMANY) / 60 / jobs:.0f} min "
                  f"on {jobs} idle cores if every step ran in parallel), a rebuild ≈ {(rebuild_cpu[0] + rebuild_cpu[1] * GERMANY) / 60:.1f} CPU-min. "
                  "The wall-time lines extrapolate the load of the largest run as well."]
    lines += ["", "### Goals at 400", ""]
    at = next((r for r in results if r["municipalities"] == 400), None)
    if at is None:
        lines.append("(400 not measured in this run)")
    else:
        lines += ["| goal | measured | |", "|---|---|---|",
                  _goal("rebuild after one change ≤ 15 s", at["rebuild"]["seconds"], GOALS["rebuild_s"], "s"),
                  _goal("full build ≤ 120 s", at["full"]["seconds"], GOALS["full_s"], "s"),
                  _goal("peak memory ≤ 2 GB (largest process)", at["full"]["process_mb"], GOALS["peak_mb"], "MB"),
                  _goal("peak memory ≤ 2 GB (process tree)", at["full"]["tree_mb"], GOALS["peak_mb"], "MB")]
    notes = Path(__file__).with_suffix(".md")  # hand-written reading of the figures, kept across runs
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip("\n")]
    return "\n".join(lines) + "\n"


def _row(what: str, line: tuple[float, float], unit: str) -> str:
    scale = 1000 if unit == "s" else 1
    per = f"{line[1] * scale:.1f} m{unit}" if unit == "s" else f"{line[1]:.2f} {unit}"
    return f"| {what} | {line[0]:.1f} {unit} | {per} | {line[0] + line[1] * GERMANY:,.0f} {unit} |"


def _goal(what: str, value: float | None, limit: float, unit: str) -> str:
    met = value is not None and value <= limit
    return f"| {what} | {value} {unit} | {'met' if met else '**missed**'} |"


def replace_section(path: Path, section: str) -> None:
    """Put ``section`` in place of the file's own "## Build at scale" section (or at its end)."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = current.find(HEADING + "\n")
    if start == -1:
        path.write_text(current.rstrip("\n") + "\n\n" + section, encoding="utf-8")
        return
    following = current.find("\n## ", start + len(HEADING))
    rest = current[following + 1:] if following != -1 else ""
    path.write_text(current[:start] + section + ("\n" + rest if rest else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,50,400,1000", help="generated municipalities per run (comma-separated)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=REPOSITORY / "docs" / "benchmarks.md")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated data and logs here")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per build")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kik-build-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = measure(sizes, workdir, args.jobs, args.timeout)
    finally:
        procs.stop_all()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    info = machine_info()
    command = "python -m bench.build_scale" + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    replace_section(args.out, render(results, info, args.jobs, command))
    if args.workdir is not None:
        (workdir / "build_scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
