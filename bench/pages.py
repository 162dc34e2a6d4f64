"""The pages for people and the example queries at 2, 50 and 400 municipalities (issue 13).

    .venv/bin/python -m bench.pages                                   # builds what it needs (~15 min)
    .venv/bin/python -m bench.pages --dist 400=/tmp/dist400 --dist 2=dist   # reuse builds

For each size: the production server (waitress, as in README) on that build; the seconds until it
answers; the first request of every kind of page after that; then p50 latency and bytes per page at
1 and 16 clients. At the largest size also every example query's p50 with the answer cache off, and
the server's memory. Writes the section "## Pages at scale" of docs/benchmarks.md (the rest stays).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import peers, procs
from bench.load import Request, median, run_cell
from bench.run import HAMM_DIRS, QUERIES, generate, kg

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPOSITORY / "docs" / "benchmarks.md"
HEADING = "## Pages at scale"
GOAL_P50_MS, GOAL_BYTES, GOAL_FIRST_S, GOAL_QUERY_MS, GOAL_RSS_MB = 300, 1_000_000, 2.0, 500, 800
HTML = {"Accept": "text/html"}
PREFIXES = ("PREFIX kik: <https://w3id.org/kik/ontology#> PREFIX dct: <http://purl.org/dc/terms/> ")


@dataclass
class PageResult:
    name: str
    path: str
    first_ms: float = 0.0
    first_status: int = 0
    p50_ms: dict[int, float] = field(default_factory=dict)  # clients → p50
    uncached_ms: dict[int, float] = field(default_factory=dict)  # clients → p50 with the page cache off
    bytes: int = 0
    errors: int = 0


@dataclass
class SizeRun:
    size: int
    start_s: float = 0.0
    pages: list[PageResult] = field(default_factory=list)
    queries: dict[str, float] = field(default_factory=dict)  # name → p50 ms (cache off)
    query_status: dict[str, str] = field(default_factory=dict)
    rss_mb: float = 0.0  # main process
    tree_rss_mb: float = 0.0


def _select(base: str, query: str) -> list[dict[str, str]]:
    url = base + "/sparql?" + urllib.parse.urlencode({"query": PREFIXES + query})
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"}),
                                timeout=60) as response:
        rows = json.loads(response.read())["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


def page_kinds(base: str) -> list[tuple[str, str]]:
    """One URL of every kind of page, chosen from the build (a generated municipality when there is one)."""
    measures = _select(base, """SELECT ?m WHERE { ?m a kik:Measure ; kik:addressesChallenge ?c }
        GROUP BY ?m ORDER BY DESC(STRSTARTS(STR(?m), "https://w3id.org/kik/fiktiv/gen-")) ?m LIMIT 2""")
    concept = _select(base, """SELECT ?k WHERE { ?k a kik:IntegrationConcept }
        ORDER BY DESC(STRSTARTS(STR(?k), "https://w3id.org/kik/fiktiv/gen-")) ?k LIMIT 1""")[0]["k"]
    local = lambda iri: "/" + iri.removeprefix("https://w3id.org/kik/")  # noqa: E731
    municipality = local(concept).rsplit("/konzept/", 1)[0]
    a, b = (m["m"] for m in measures)
    return [
        ("landing", "/"),
        ("landing, search", "/?q=" + urllib.parse.quote(municipality.rsplit("/", 1)[-1])),
        ("municipality", "/kommune" + municipality),
        ("grids", "/raster"),
        ("measures", "/massnahmen"),
        ("measures, text search", "/massnahmen?q=Sprach"),
        ("measures, last page", "/massnahmen?seite=1"),
        ("compare", "/vergleich?" + urllib.parse.urlencode([("m", a), ("m", b)])),
        ("compare form", "/vergleich"),
        ("concept", local(concept)),
        ("measure", local(a)),
        ("municipality resource", municipality + "/stadt"),
        ("unknown IRI (404)", municipality + "/massnahme/gibt-es-nicht"),
        ("catalog", "/catalog"),
        ("VoID", "/.well-known/void"),
    ]


def _last_page(base: str) -> str:
    with urllib.request.urlopen(urllib.request.Request(base + "/massnahmen", headers=HTML), timeout=120) as response:
        text = response.read().decode("utf-8")
    pages = re.search(r"Seite \d+ von (\d+)", text)
    return f"/massnahmen?seite={pages.group(1) if pages else 1}"


def _get(base: str, path: str) -> tuple[int, float, int]:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=HTML), timeout=120) as response:
            size = len(response.read())
            return response.status, time.monotonic() - began, size
    except urllib.error.HTTPError as error:
        size = len(error.read())
        return error.code, time.monotonic() - began, size


def measure_size(size: int, dist: Path, logs: Path, seconds: float, clients: list[int], queries: bool) -> SizeRun:
    result = SizeRun(size=size)
    started = time.monotonic()
    running = peers.start_ours(dist, logs, started)
    try:
        result.start_s = procs.wait_until_answers(running.base_url + "/health", running.process, 600, started)
        base = running.base_url
        first = _get(base, "/")  # the very first page request after start
        kinds = page_kinds(base)
        pages = [PageResult(name=name, path=path) for name, path in kinds]
        pages[0].first_status, pages[0].first_ms = first[0], first[1] * 1000
        for page in pages[1:]:
            if page.name == "measures, last page":
                page.path = _last_page(base)
            page.first_status, elapsed, _ = _get(base, page.path)
            page.first_ms = elapsed * 1000
        for page in pages:
            for n in clients:
                page.p50_ms[n] = _p50(base, page, n, seconds)
            if page.first_status == 404:
                page.bytes = _get(base, page.path)[2]
        result.pages = pages
        rss = procs.tree_rss(running.process.pid)
        result.tree_rss_mb = rss / 1e6
        result.rss_mb = _own_rss(running.process.pid) / 1e6
    finally:
        procs.stop(running.process)
    # the same pages with the page cache off: what a page nobody asked for yet costs under load
    running = peers.start_ours(dist, logs, time.monotonic(), settings={"KIK_PAGE_CACHE_MB": "0"})
    try:
        procs.wait_until_answers(running.base_url + "/health", running.process, 600, time.monotonic())
        for page in result.pages:
            _get(running.base_url, page.path)  # the page data of the build, computed once per process
        for page in result.pages:
            for n in clients:
                page.uncached_ms[n] = _p50(running.base_url, page, n, seconds, count=False)
    finally:
        procs.stop(running.process)
    if queries:
        measure_queries(result, dist, logs, seconds)
    return result


def _p50(base: str, page: PageResult, clients: int, seconds: float, count: bool = True) -> float:
    """Median latency of ``page`` under ``clients`` closed-loop clients (ms); ``count``: record its bytes and errors."""
    if page.first_status == 404:  # run_cell counts only 200s; the 404 page's status is the point
        times = _loop(base, page.path, clients, seconds)
    else:
        cell = run_cell(base, [Request(page.name, page.path, HTML)], clients, seconds, request_timeout=120)
        times = cell.per_request[page.name]
        if count:
            page.errors += cell.errors
            page.bytes = cell.bytes // cell.ok if cell.ok else 0
    return median(times) * 1000 if times else float("nan")


def _loop(base: str, path: str, clients: int, seconds: float) -> list[float]:
    """Latencies of ``clients`` threads fetching ``path`` for ``seconds``, whatever the status."""
    times: list[float] = []
    end = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < end:
            times.append(_get(base, path)[1])

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


def _own_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure_queries(result: SizeRun, dist: Path, logs: Path, seconds: float) -> None:
    """Every example query with the answer cache off (each request evaluated), one client."""
    started = time.monotonic()
    running = peers.start_ours(dist, logs, started, cache=False)
    try:
        procs.wait_until_answers(running.base_url + "/health", running.process, 600, started)
        for path in sorted(QUERIES.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            request = Request(path.stem, running.query_url_path(text), {"Accept": peers.accept_for(text)})
            cell = run_cell(running.base_url, [request], 1, seconds, request_timeout=30)
            times = cell.per_request[path.stem]
            result.queries[path.stem] = median(times) * 1000 if times else float("nan")
            result.query_status[path.stem] = "ok" if times else f"failed: {dict(cell.statuses)}"
    finally:
        procs.stop(running.process)


def build(size: int, workdir: Path) -> Path:
    """Hamm + Musterstadt, plus ``size`` generated municipalities (seed 0) unless ``size`` is 2."""
    generated = workdir / "generated"
    dirs = list(HAMM_DIRS)
    if size > 2:
        generate(size, generated)
        dirs += sorted(generated.glob("gen-*"))[:size]
    dist = workdir / f"dist-{size}"
    procs.run_timed(kg("build", *map(str, dirs), "--dist", str(dist), "--quiet"), workdir / f"build-{size}.log", 3600)
    return dist


def _fmt(ms: float) -> str:
    return "–" if ms != ms else (f"{ms:.0f}" if ms >= 10 else f"{ms:.1f}")


def render(runs: list[SizeRun], clients: list[int], seconds: float, command: str, load: str = "") -> str:
    """The section: a table of pages by size, the example queries and memory at the largest size, the goals."""
    largest = max(runs, key=lambda r: r.size)
    lines = [HEADING, "",
             f"`{command}` (production server: waitress, 8 threads; each cell {seconds:g} s of closed-loop load; "
             "p50 over the cell; bytes per response). Sizes are municipalities in the build (Hamm, Musterstadt "
             "and generated ones). \"first\" is the first request of that page after the server answered "
             "`/health`, in the order listed." + (f" {load}" if load else ""), ""]
    head = "| page | " + " | ".join(f"{r.size}: first ms | " + " | ".join(f"{r.size}: p50 ms ({n})" for n in clients)
                                     + " | " + " | ".join(f"{r.size}: uncached p50 ms ({n})" for n in clients)
                                     + f" | {r.size}: KB" for r in runs) + " |"
    lines += [head, "|" + "---|" * (1 + len(runs) * (2 + 2 * len(clients)))]
    for i, page in enumerate(runs[0].pages):
        cells = []
        for run in runs:
            p = run.pages[i]
            status = "" if p.first_status in (200, 404) else f" ({p.first_status})"
            cells.append(f"{_fmt(p.first_ms)}{status} | " + " | ".join(_fmt(p.p50_ms.get(n, float('nan'))) for n in clients)
                         + " | " + " | ".join(_fmt(p.uncached_ms.get(n, float('nan'))) for n in clients)
                         + f" | {p.bytes / 1000:.0f}")
        lines.append(f"| {page.name} | " + " | ".join(cells) + " |")
    lines += ["", "\"p50\" is the production server as configured: after its first request a page is kept per build "
              "(`KIK_PAGE_CACHE_MB`, docs/pages.md), so the load repeats kept pages. \"uncached p50\" is a second "
              "server with `KIK_PAGE_CACHE_MB=0`: every request renders its page (the build's page data, "
              "read once per process, is still shared; the catalog keeps its serialisations either way)."]
    lines += ["", "Server start until `/health` answers: " + ", ".join(f"{r.size}: {r.start_s:.1f} s" for r in runs) + ".",
              "", f"Example queries at {largest.size} municipalities, answer cache off, 1 client:", "",
              "| query | p50 ms | |", "|---|---|---|"]
    for name, ms in largest.queries.items():
        ok = ms == ms and ms <= GOAL_QUERY_MS
        status = largest.query_status.get(name, "")
        lines.append(f"| {name} | {_fmt(ms)} | {'✓' if ok else '✗' + ('' if status == 'ok' else ' ' + status)} |")
    lines += ["", f"Server memory at {largest.size}: {largest.rss_mb:.0f} MB RSS (main process), "
                  f"{largest.tree_rss_mb:.0f} MB with its query workers.", ""]
    own = [p for p in largest.pages if p.name not in ("catalog", "VoID")]
    one = min(clients)
    slow = [p.name for p in own if not (p.p50_ms.get(one, float("nan")) <= GOAL_P50_MS)]
    crowded = [p.name for p in own if not all(v == v and v <= GOAL_P50_MS for v in p.p50_ms.values())]
    uncached = [p.name for p in own if not all(v == v and v <= GOAL_P50_MS for v in p.uncached_ms.values())]
    big = [p.name for p in own if p.bytes > GOAL_BYTES]
    late = [p.name for p in own if p.first_ms > GOAL_FIRST_S * 1000]
    queries = [n for n, ms in largest.queries.items() if not (ms == ms and ms <= GOAL_QUERY_MS)]
    lines += [f"Goals at {largest.size} (pages of `server/pages`; catalog and VoID shown for comparison):", "",
              f"- every page p50 ≤ {GOAL_P50_MS} ms ({one} client): " + ("met" if not slow else "missed by " + ", ".join(slow))
              + (f"; with {max(clients)} clients missed by " + ", ".join(crowded) if crowded else f"; also with {max(clients)} clients")
              + (f" (with the page cache off, missed by {', '.join(uncached)})" if uncached else " (also with the page cache off)"),
              f"- every page ≤ 1 MB: " + ("met" if not big else "missed by " + ", ".join(big)),
              f"- first request after start ≤ {GOAL_FIRST_S:g} s: " + ("met" if not late else "missed by " + ", ".join(late)),
              f"- every example query ≤ {GOAL_QUERY_MS} ms: " + ("met" if not queries else f"missed by {len(queries)}: " + ", ".join(queries)),
              f"- server RSS ≤ {GOAL_RSS_MB} MB: " + ("met" if largest.rss_mb <= GOAL_RSS_MB else "missed"), ""]
    return "\n".join(lines) + "\n"


def write_section(out: Path, section: str) -> None:
    """Replace (or append) this section; every other section of the report stays as it is."""
    current = out.read_text(encoding="utf-8") if out.exists() else ""
    start = current.find(HEADING + "\n")
    if start == -1:
        text = current.rstrip("\n") + "\n\n" + section
    else:
        following = current.find("\n## ", start + len(HEADING))
        text = current[:start] + section + (current[following + 1:] if following != -1 else "")
    out.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2,50,400", help="municipalities per build (2 = Hamm + Musterstadt)")
    parser.add_argument("--dist", action="append", default=[], help="SIZE=PATH: use this build for that size")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", default="1,16")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    clients = [int(c) for c in args.clients.split(",")]
    given = {int(k): Path(v) for k, v in (item.split("=", 1) for item in args.dist)}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kik-bench-pages-"))
    workdir.mkdir(parents=True, exist_ok=True)
    atexit.register(procs.stop_all)
    runs = []
    for size in sizes:
        dist = given.get(size) or build(size, workdir)
        print(f"[pages] {size} municipalities: {dist}", flush=True)
        runs.append(measure_size(size, dist, workdir, args.seconds, clients, queries=size == max(sizes)))
    command = "python -m bench.pages " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    load = f"Load average of the machine at the end of the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
    write_section(args.out, render(runs, clients, args.seconds, command.strip(), load))
    (workdir / "pages.json").write_text(json.dumps([r.__dict__ | {"pages": [p.__dict__ for p in r.pages]} for r in runs],
                                                   indent=1, default=str), encoding="utf-8")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"[pages] wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
