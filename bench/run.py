"""Run every benchmark end to end and write docs/benchmarks.md.

    .venv/bin/python -m bench.run                      # full run (< 15 min on 2 cores)
    .venv/bin/python -m bench.run --tiny --out /tmp/b.md   # smoke run: 1 municipality, ours vs oxigraph

Every figure is measured side by side in this one run, on the same build and the same queries,
against a peer: `oxigraph serve`, rdflib-endpoint, nginx (dumps). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import atexit
import json
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import peers, procs
from bench.load import Request, read_discarding, run_cell
from bench.report import machine_info, render

REPOSITORY = Path(__file__).resolve().parents[1]
QUERIES = REPOSITORY / "docs" / "queries"
DEFAULT_OUT = REPOSITORY / "docs" / "benchmarks.md"
KEPT_HEADINGS = ("## Build at scale", "## Load test", "## Pages at scale",
                 "## Virtuoso 7 against the embedded store (example queries)")  # written by
# bench/build_scale.py, tests/test_load.py, bench/pages.py and bench/virtuoso.py
# into the same file; a bench run keeps them
HAMM_DIRS = [REPOSITORY / "data" / "hamm", REPOSITORY / "data" / "musterstadt"]


@dataclass
class Options:
    sizes: list[str]
    peers: list[str]
    rdflib_sizes: list[str]
    clients: list[int]
    seconds: float
    download_seconds: float
    download_clients: list[int]
    out: Path
    workdir: Path
    build_timeout: float = 900.0
    start_timeout: float = 300.0
    request_timeout: float = 20.0
    keep: bool = False
    validate_alone: bool = False
    temporary: bool = False  # the workdir was made by us: removed at the end unless --keep


@dataclass
class SizeResult:
    size: str
    municipalities: int
    triples: int = 0
    dump_bytes: int = 0
    build: dict = field(default_factory=dict)
    validate: dict = field(default_factory=dict)
    oxigraph_load: dict = field(default_factory=dict)
    servers: dict = field(default_factory=dict)  # peer → {start_s, rss_idle, rss_peak, cells: {clients: …}, answers}
    downloads: dict = field(default_factory=dict)  # peer → {clients: {mb_s, ok, errors}}
    notes: list[str] = field(default_factory=list)


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def example_requests() -> list[tuple[str, str]]:
    """(name, query text) of every example query, in file order."""
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(QUERIES.glob("*.rq"))]


def data_dirs(size: str, generated: Path) -> list[Path]:
    if size == "hamm":
        return HAMM_DIRS
    return sorted(generated.glob("gen-*"))[: int(size)]


def generate(count: int, out: Path) -> None:
    from kg.generate import generate_municipalities

    if len(list(out.glob("gen-*"))) >= count:
        return
    log(f"generating {count} fictional municipalities into {out}")
    generate_municipalities(count, out, seed=0)


def kg(*args: str) -> list[str]:
    return [str(peers.BIN / "kg"), *args]


def measure_build(result: SizeResult, dirs: list[Path], folder: Path, options: Options) -> Path:
    dist = folder / "dist"
    logs = folder / "logs"
    log(f"{result.size}: kg build ({len(dirs)} folders)")
    timed = procs.run_timed(kg("build", *map(str, dirs), "--dist", str(dist)), logs / "build.log",
                            timeout=options.build_timeout, cwd=REPOSITORY)
    if timed.returncode != 0:
        raise RuntimeError(f"kg build failed for {result.size}: see {logs / 'build.log'}")
    steps = step_seconds((logs / "build.log").read_text(encoding="utf-8", errors="replace"))
    result.build = {"seconds": timed.seconds, "peak_rss": timed.peak_rss, "steps": steps}
    manifest = json.loads((dist / "build.json").read_text(encoding="utf-8"))
    result.triples = manifest.get("triples", 0)
    result.dump_bytes = (dist / "kg.nq").stat().st_size
    if options.validate_alone:
        log(f"{result.size}: kg validate")
        timed = procs.run_timed(kg("validate", "--dist", str(dist), "--format", "json"), logs / "validate.log",
                                timeout=options.build_timeout, cwd=REPOSITORY)
        result.validate = {"seconds": timed.seconds, "peak_rss": timed.peak_rss, "returncode": timed.returncode}
    return dist


STEP_LINE = re.compile(r"^\s*([0-9.]+)s \[(\d+)/(\d+)\] (.*)$")


def step_seconds(progress: str) -> dict[str, float]:
    """Seconds per step of ``kg build`` from its progress lines ("  12.3s [2/6] SHACL-Prüfung / validating")."""
    marks = [(float(m.group(1)), m.group(4).split(" / ")[-1]) for m in map(STEP_LINE.match, progress.splitlines()) if m]
    return {name: round(marks[i + 1][0] - at, 2) for i, (at, name) in enumerate(marks[:-1])}


def _warm_and_count(running: peers.Running, queries: list[tuple[str, str]], timeout: float,
                    budget: float = 30.0) -> dict[str, object]:
    """One request per query (warms caches); the answer's row or byte count, to compare peers.
    Stops after ``budget`` seconds, so a slow peer cannot stretch the run."""
    import http.client
    import urllib.parse

    base = urllib.parse.urlsplit(running.base_url)
    answers: dict[str, object] = {}
    until = time.monotonic() + budget
    for name, text in queries:
        if time.monotonic() > until:
            answers[name] = "not run (warm-up time used up)"
            continue
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=timeout)
        try:
            connection.request("GET", running.query_url_path(text), headers={"Accept": peers.accept_for(text)})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                answers[name] = f"HTTP {response.status}"
            elif peers.accept_for(text) == peers.SELECT_JSON:
                answers[name] = len(json.loads(body)["results"]["bindings"])
            else:
                answers[name] = f"{len(body)} B"
        except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
            answers[name] = f"error: {type(error).__name__}"
        finally:
            connection.close()
    return answers


def measure_server(result: SizeResult, peer: str, dist: Path, folder: Path, queries: list[tuple[str, str]],
                   options: Options) -> None:
    logs = folder / "logs"
    started = time.monotonic()
    if peer in ("ours", "ours-nocache"):
        running = peers.start_ours(dist, logs, started, cache=peer == "ours")
    elif peer == "oxigraph":
        running = peers.start_oxigraph(folder / "oxigraph-store", logs, started)
    elif peer == "rdflib":
        running = peers.start_rdflib_endpoint(dist, logs, started)
    else:
        raise ValueError(peer)
    entry: dict[str, object] = {"name": running.name}
    result.servers[peer] = entry
    try:
        probe = running.base_url + running.query_url_path(peers.PROBE)
        entry["start_s"] = procs.wait_until_answers(probe, running.process, options.start_timeout, started,
                                                    headers={"Accept": peers.SELECT_JSON})
        log(f"{result.size}: {running.name} answered after {entry['start_s']:.2f} s")
        entry["answers"] = _warm_and_count(running, queries, options.request_timeout)
        entry["rss_idle"] = procs.tree_rss(running.process.pid)
        requests = [Request(name, running.query_url_path(text), {"Accept": peers.accept_for(text)}) for name, text in queries]
        cells = {}
        with procs.RssSampler(running.process.pid, interval=0.25) as sampler:
            for clients in options.clients:
                before, client_before = procs.tree_cpu(running.process.pid), time.process_time()
                cell = run_cell(running.base_url, requests, clients, options.seconds, options.request_timeout)
                after, client_after = procs.tree_cpu(running.process.pid), time.process_time()
                answers = max(1, cell.ok + cell.errors)
                cell.cpu_ms = {"server": (after[0] - before[0]) * 1000 / answers,
                               "workers": (after[1] - before[1]) * 1000 / answers,
                               "client": (client_after - client_before) * 1000 / answers}
                cells[clients] = cell
                log(f"{result.size}: {running.name} × {clients} clients: {cell.throughput:.1f} q/s, {cell.errors} non-200")
        entry["rss_peak"] = max(sampler.peak, entry["rss_idle"])
        entry["cells"] = cells
    except (RuntimeError, TimeoutError) as error:
        entry["error"] = str(error)
        log(f"{result.size}: {running.name}: {error}")
    finally:
        procs.stop(running.process)


def measure_downloads(result: SizeResult, dist: Path, folder: Path, options: Options) -> None:
    """The biggest dump (kg.nq) from our /download/ against the same file from nginx."""
    logs = folder / "logs"
    for peer in ("ours", "nginx"):
        started = time.monotonic()
        if peer == "ours":
            running = peers.start_ours(dist, logs, started)
            path = "/download/kg.nq"
        else:
            running = peers.start_nginx(dist, folder / "nginx", logs, started)
            path = "/kg.nq"
        try:
            procs.wait_until_answers(running.base_url + path, running.process, options.start_timeout, started)
            cells = {}
            for clients in options.download_clients:
                cells[clients] = run_cell(running.base_url, [Request("kg.nq", path)], clients, options.download_seconds,
                                          options.request_timeout, read=read_discarding)
                log(f"{result.size}: download from {running.name} × {clients}: {cells[clients].mb_per_s:.0f} MB/s")
            result.downloads[peer] = {"name": running.name, "cells": cells}
        except (RuntimeError, TimeoutError) as error:
            result.downloads[peer] = {"name": running.name, "error": str(error)}
        finally:
            procs.stop(running.process)


def run(options: Options) -> list[SizeResult]:
    queries = example_requests()
    generated = options.workdir / "generated"
    numbers = [int(s) for s in options.sizes if s != "hamm"]
    if numbers:
        generate(max(numbers), generated)
    results = []
    for size in options.sizes:
        dirs = data_dirs(size, generated)
        result = SizeResult(size=size, municipalities=len(dirs))
        results.append(result)
        folder = options.workdir / f"size-{size}"
        if folder.exists():
            shutil.rmtree(folder)
        try:
            dist = measure_build(result, dirs, folder, options)
            if "oxigraph" in options.peers:
                log(f"{size}: oxigraph load")
                timed = peers.oxigraph_load(dist, folder / "oxigraph-store", folder / "logs", options.build_timeout)
                result.oxigraph_load = {"seconds": timed.seconds, "peak_rss": timed.peak_rss}
            for peer in options.peers:
                if peer == "rdflib" and size not in options.rdflib_sizes:
                    result.notes.append(f"rdflib-endpoint not run at {size} (`--rdflib-sizes`): at 50 municipalities a trial run answered one request per example query in over 2 minutes, so load cells would measure little but its time-outs.")
                    continue
                measure_server(result, peer, dist, folder, queries, options)
            if options.download_clients:
                measure_downloads(result, dist, folder, options)
        except (RuntimeError, TimeoutError) as error:
            result.notes.append(f"stopped: {error}")
            log(f"{size}: {error}")
        finally:
            procs.stop_all()
            if not options.keep:
                for name in ("oxigraph-store", ".kg-builds", "dist"):
                    target = folder / name
                    if target.is_symlink():
                        target.unlink()
                    elif target.exists():
                        shutil.rmtree(target, ignore_errors=True)
    return results


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="hamm,1,50,400", help="comma-separated: hamm and/or numbers of generated municipalities")
    parser.add_argument("--peers", default="ours,ours-nocache,oxigraph,rdflib",
                        help="ours (answer cache on, as deployed), ours-nocache (every query evaluated), oxigraph, rdflib")
    parser.add_argument("--rdflib-sizes", default="hamm,1", help="sizes at which rdflib-endpoint runs")
    parser.add_argument("--clients", default="1,16")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per load cell")
    parser.add_argument("--download-seconds", type=float, default=3.0)
    parser.add_argument("--download-clients", default="1,4")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep builds and stores in the workdir")
    parser.add_argument("--validate-alone", action="store_true", help="also time `kg validate` of each build on its own")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 1 municipality, 1 s cells, ours vs oxigraph")
    args = parser.parse_args(argv)
    if args.tiny:
        args.sizes, args.peers, args.clients, args.seconds = "1", "ours,ours-nocache,oxigraph", "1,4", 1.0
        args.download_seconds, args.download_clients = 0.5, "1"
    split = lambda text: [part.strip() for part in text.split(",") if part.strip()]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kik-bench-"))
    return Options(
        sizes=split(args.sizes), peers=split(args.peers), rdflib_sizes=split(args.rdflib_sizes),
        clients=[int(c) for c in split(args.clients)], seconds=args.seconds,
        download_seconds=args.download_seconds, download_clients=[int(c) for c in split(args.download_clients)],
        out=args.out, workdir=workdir, keep=args.keep, validate_alone=args.validate_alone,
        temporary=args.workdir is None,
    )


def kept_sections(out: Path) -> str:
    """The build-scale and load-test sections of an existing report, so a benchmark run does not erase them."""
    current = out.read_text(encoding="utf-8") if out.exists() else ""
    kept = ""
    for heading in KEPT_HEADINGS:
        start = current.find(heading + "\n")
        if start == -1:
            continue
        following = current.find("\n## ", start + len(heading))
        section = current[start:following + 1] if following != -1 else current[start:]
        kept += "\n" + section.rstrip("\n") + "\n"
    return kept


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    options.workdir.mkdir(parents=True, exist_ok=True)
    atexit.register(procs.stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    info = machine_info()
    try:
        results = run(options)
    finally:
        procs.stop_all()
    total = time.monotonic() - began
    text = render(info, options, results, total) + kept_sections(options.out)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(text, encoding="utf-8")
    (options.workdir / "results.json").write_text(json.dumps([asdict(r) for r in results], default=_plain, indent=1), encoding="utf-8")
    if options.temporary and not options.keep:
        shutil.rmtree(options.workdir, ignore_errors=True)
    log(f"done in {total:.0f} s; wrote {options.out}")
    return 0


def _plain(value: object) -> object:
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if k not in ("latencies", "per_request")}
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
