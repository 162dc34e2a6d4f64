"""Example-query latency: our server on the embedded store against our server on Virtuoso 7.

``python -m bench.virtuoso --size 400`` generates and builds Hamm + Musterstadt + N municipalities
(or takes ``--dist``), starts Virtuoso on free loopback ports (tests/stores.py, set up with
docs/virtuoso-setup.sql), loads the build with ``kg push``, and asks every example query of
docs/queries/ through two of our servers on the same build: embedded and external
(``KIK_STORE_QUERY_URL``), the answer cache off in both. It writes its own section of
docs/benchmarks.md (replacing an earlier one). Median of ``--repeat`` answers per query, after one
warm-up answer; the ratio is Virtuoso ÷ embedded (> 1 = Virtuoso is slower).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPOSITORY = Path(__file__).resolve().parents[1]
QUERIES = REPOSITORY / "docs" / "queries"
OUT = REPOSITORY / "docs" / "benchmarks.md"
HEADING = "## Virtuoso 7 against the embedded store (example queries)"
TIMEOUT = 120.0
NOTE = ("Latency only: whether the answers are equal is the test's business (`tests/test_external_store.py`; "
        "where Virtuoso differs, see docs/external-store.md, e.g. 15 is empty there because `kg push` does not load "
        "the ontology's graph). Other jobs may share the cores during a run, so single figures are noisy.")


def log(text: str) -> None:
    print(f"[bench.virtuoso {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def build(size: int, root: Path) -> Path:
    from kg.cli import main as kg_main
    from kg.generate import generate_municipalities

    folders = generate_municipalities(size, root / "data", seed=0)
    dist = root / "dist"
    started = time.monotonic()
    code = kg_main(["build", str(REPOSITORY / "data" / "hamm"), str(REPOSITORY / "data" / "musterstadt"),
                    *map(str, folders), "--dist", str(dist), "--quiet"])
    if code != 0:
        raise SystemExit(f"kg build failed ({code})")
    log(f"kg build of {size}: {time.monotonic() - started:.0f} s")
    return dist


def timed(base: str, query: str) -> tuple[float, int, int]:
    """Seconds for one whole answer, its HTTP status and size."""
    started = time.perf_counter()
    response = requests.post(base + "sparql", data={"query": query}, timeout=TIMEOUT,
                             headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
    return time.perf_counter() - started, response.status_code, len(response.content)


def measure(base: str, queries: list[tuple[str, str]], repeat: int) -> dict[str, dict]:
    results = {}
    for name, text in queries:
        timed(base, text)  # warm-up
        runs = [timed(base, text) for _ in range(repeat)]
        results[name] = {"median_ms": statistics.median(r[0] for r in runs) * 1000,
                         "status": sorted({r[1] for r in runs}), "bytes": runs[-1][2]}
    return results


def render(size: int, triples: int, push_s: float, repeat: int, embedded: dict, virtuoso: dict, version: str) -> str:
    lines = [HEADING, "",
             f"Written by `bench/virtuoso.py` (command: `.venv/bin/python -m bench.virtuoso --size {size}`), "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Hamm + Musterstadt + {size} generated "
             f"municipalities ({triples:,} triples); {version}. Our server (werkzeug, threaded, on loopback) "
             "once on the embedded store and once on Virtuoso (`KIK_STORE_QUERY_URL`), the answer cache off in "
             f"both; each example query {repeat}× after one warm-up, one client, median. `kg push` into "
             f"Virtuoso: {push_s:.1f} s. Ratio = Virtuoso ÷ embedded (> 1: Virtuoso slower).", "",
             "| query | embedded ms | Virtuoso ms | Virtuoso ÷ embedded | HTTP (embedded / Virtuoso) |",
             "|---|---|---|---|---|"]
    ratios = []
    for name in embedded:
        e, v = embedded[name], virtuoso[name]
        ok = e["status"] == [200] and v["status"] == [200]
        ratio = v["median_ms"] / e["median_ms"] if e["median_ms"] else float("nan")
        if ok:
            ratios.append(ratio)
        lines.append(f"| {name} | {e['median_ms']:.1f} | {v['median_ms']:.1f} | {ratio:.2f}× | "
                     f"{'/'.join(map(str, e['status']))} / {'/'.join(map(str, v['status']))} |")
    if ratios:
        lines += ["", f"Geometric mean of the ratios (answers with HTTP 200 on both): "
                      f"{statistics.geometric_mean(ratios):.2f}×."]
    lines += ["", NOTE]
    return "\n".join(lines) + "\n"


def write_section(section: str, out: Path = OUT) -> None:
    """Replace this module's section of the report, or add it before the load test's (bench.run keeps that one)."""
    text = out.read_text(encoding="utf-8") if out.exists() else "# Benchmarks\n"
    start = text.find(HEADING)
    if start != -1:
        following = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + (text[following + 1:] if following != -1 else "")
    else:
        anchor = text.find("\n## Load test")
        text = text[:anchor + 1] + section + "\n" + text[anchor + 1:] if anchor != -1 else text.rstrip("\n") + "\n\n" + section
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--dist", type=Path, help="an existing build (of --size generated municipalities)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPOSITORY))
    import json

    from server import create_app
    from tests.serving import serving
    from tests.stores import virtuoso_serve

    work = Path(tempfile.mkdtemp(prefix="kik-bench-virtuoso-"))
    dist = args.dist or build(args.size, work)
    triples = json.loads((dist / "build.json").read_text(encoding="utf-8"))["triples"]
    queries = [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(QUERIES.glob("*.rq"))]
    about = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True)
    version = next((line.strip() for line in (about.stdout + about.stderr).splitlines() if line.startswith("Version")), "7")
    settings = {"KIK_DIST": str(dist), "KIK_RESULT_CACHE_MB": 0, "KIK_QUERY_TIMEOUT": TIMEOUT}
    with virtuoso_serve(work / "virtuoso", buffers=170_000) as store:
        started = time.monotonic()
        if store.push(dist) != 0:
            raise SystemExit("kg push into Virtuoso failed")
        push_s = time.monotonic() - started
        log(f"kg push: {push_s:.1f} s")
        embedded_app = create_app(dict(settings))
        external_app = create_app({**settings, **store.server_settings})
        with serving(embedded_app) as embedded_base, serving(external_app) as external_base:
            embedded = measure(embedded_base, queries, args.repeat)
            log("embedded done")
            virtuoso = measure(external_base, queries, args.repeat)
            log("Virtuoso done")
    write_section(render(args.size, triples, push_s, args.repeat, embedded, virtuoso, f"Virtuoso {version}"), args.out)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
