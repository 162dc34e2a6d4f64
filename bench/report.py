"""The benchmark results as Markdown: machine, versions, date, one table per figure, goals."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.load import CellResult, median, percentile

PACKAGES = ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "pyshacl", "flask", "waitress", "uvicorn", "fastapi")
GOALS = {
    "throughput_oxigraph": 0.8,
    "throughput_rdflib": 10.0,
    "download_nginx": 0.5,
    "start_hamm": 2.0,
    "start_400": 30.0,
    "build_400": 300.0,
}


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            memory = f"{int(info.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=10, check=False).stderr.strip().split("/")[-1]
    except (OSError, subprocess.SubprocessError):
        nginx = "not installed"
    versions["nginx"] = nginx
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "memory": memory,
        "python": sys.version.split()[0],
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else (f"{value * 1000:.1f}" if value < 1 else f"{value * 1000:.0f}")


def _ratio(ours: float | None, peer: float | None) -> str:
    if not ours or not peer or math.isnan(ours) or math.isnan(peer):
        return "–"
    return f"{ours / peer:.2f}×"


def _mb(value: float | None) -> str:
    return "–" if not value else f"{value / 1e6:.0f} MB"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _ok(passed: bool | None) -> str:
    return "n/a" if passed is None else ("met" if passed else "**missed**")


def _label(result) -> str:
    return "Hamm + Musterstadt" if result.size == "hamm" else f"{result.size} generated"


def render(info: dict[str, str], options, results, total_seconds: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py` (command: `.venv/bin/python -m bench.run`); do not edit by hand.",
        "Every figure is measured in one run, side by side with a peer on the same build and the same",
        "queries (`docs/queries/*.rq`); ratios are ours ÷ peer (> 1 = ours is faster or larger).",
        "Load: closed loop, N client threads with keep-alive connections on loopback, each cycling through",
        f"all example queries for {options.seconds:g} s per cell; only HTTP 200 answers count. Client and",
        "servers share the machine's cores, as on a small production host. Other jobs running on the machine",
        "at the same time make single figures noisy; the ratios of one run are the figures to read.",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['machine']}, {info['cpu']}, {info['memory']} RAM",
        f"- Python {info['python']}; {info['versions']}",
        "- our server: `waitress-serve --threads=8 server.wsgi:app` (production settings);",
        "  `oxigraph serve --union-default-graph` on a store made by `oxigraph load`;",
        "  `rdflib-endpoint serve kg.nq` (uvicorn); nginx 1 worker, sendfile, generated config on loopback",
        f"- whole run: {total_seconds / 60:.1f} min",
        "",
    ]
    lines += _goals(results)
    lines += _datasets(results)
    lines += _throughput(results, options)
    lines += _cpu(results, options)
    lines += _per_query(results, options)
    lines += _start_memory(results)
    lines += _downloads(results, options)
    notes = [note for result in results for note in result.notes]
    if notes:
        lines += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    fixes = Path(__file__).with_name("fixes.md")
    if fixes.is_file():
        lines += [fixes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines) + "\n"


def _cell(result, peer: str, clients: int) -> CellResult | None:
    server = result.servers.get(peer) or {}
    return (server.get("cells") or {}).get(clients)


def _goals(results) -> list[str]:
    by_size = {r.size: r for r in results}
    rows = []
    small = by_size.get("hamm") or (results[0] if results else None)
    if small:
        for peer, key, name in (("oxigraph", "throughput_oxigraph", "oxigraph serve"),
                                ("rdflib", "throughput_rdflib", "rdflib-endpoint")):
            for clients in sorted({c for r in [small] for s in r.servers.values() for c in (s.get("cells") or {})}):
                for mine, how in (("ours", ""), ("ours-nocache", ", ours with the answer cache off")):
                    ours, other = _cell(small, mine, clients), _cell(small, peer, clients)
                    if ours and other and other.throughput:
                        ratio = ours.throughput / other.throughput
                        rows.append(f"| throughput ≥ {GOALS[key]:g}× {name} ({_label(small)}, {clients} clients{how}) "
                                    f"| {ratio:.2f}× | {_ok(ratio >= GOALS[key])} |")
    for result in results:
        ours, nginx = result.downloads.get("ours", {}).get("cells", {}), result.downloads.get("nginx", {}).get("cells", {})
        for clients in sorted(set(ours) & set(nginx)):
            if nginx[clients].mb_per_s:
                ratio = ours[clients].mb_per_s / nginx[clients].mb_per_s
                rows.append(f"| dump download ≥ 0.5× nginx ({_label(result)}, {clients} clients) | {ratio:.2f}× | {_ok(ratio >= GOALS['download_nginx'])} |")
    for size, key in (("hamm", "start_hamm"), ("400", "start_400")):
        start = (by_size.get(size) and by_size[size].servers.get("ours", {}).get("start_s"))
        if start is not None:
            rows.append(f"| start to first answer < {GOALS[key]:g} s ({_label(by_size[size])}) | {start:.2f} s | {_ok(start < GOALS[key])} |")
    big = by_size.get("400")
    if big and big.build:
        rows.append(f"| `kg build` (validation included) of 400 < 300 s | {big.build['seconds']:.0f} s, peak RSS {_mb(big.build['peak_rss'])} "
                    f"| {_ok(big.build['seconds'] < GOALS['build_400'])} |")
    if not rows:
        return []
    return ["## Goals", "", "| goal | measured | |", "|---|---|---|", *rows, ""]


def _datasets(results) -> list[str]:
    lines = ["## Build and validation", "",
             "`kg build` reads the sources, validates (SHACL), computes statistics and writes every dump and the",
             "on-disk store; the step times come from its progress lines. Peer: `oxigraph load` of the same `kg.nq`",
             "(what a user of Oxigraph would run on our dump). Memory is the whole process tree's (PSS, sampled).",
             "*reading* is reading and validating each data folder (kg.incremental), *validating* the folders' reports",
             "combined; see also \"Build at scale\" below.", "",
             "| data | municipalities | triples | kg.nq | `kg build` | peak memory | reading | validating | statistics | dumps + store | `oxigraph load` | build ÷ load (time) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        load = r.oxigraph_load.get("seconds")
        build = r.build.get("seconds")
        steps = r.build.get("steps", {})
        dumps = sum(v for k, v in steps.items() if k in ("writing dumps", "gzip and checksums")) or None
        lines.append(
            f"| {_label(r)} | {r.municipalities} | {r.triples:,} | {_mb(r.dump_bytes)} | {_s(build)} | {_mb(r.build.get('peak_rss'))} "
            f"| {_s(steps.get('reading sources', steps.get('reading and validating folders')))} "
            f"| {_s(steps.get('validating', steps.get('validation report')))} | {_s(steps.get('statistics'))} | {_s(dumps)} "
            f"| {_s(load)} | {_ratio(build, load)} |"
        )
    alone = [r for r in results if r.validate]
    if alone:
        lines += ["", "| data | `kg validate` of the served build | peak memory |", "|---|---|---|"]
        lines += [f"| {_label(r)} | {_s(r.validate.get('seconds'))} | {_mb(r.validate.get('peak_rss'))} |" for r in alone]
    return lines + [""]


def _throughput(results, options) -> list[str]:
    lines = ["## Query throughput and latency (all example queries, mixed)", "",
             "| data | clients | server | answers/s | p50 ms | p99 ms | non-200 | ours ÷ this (answers/s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for clients in options.clients:
            ours = _cell(r, "ours", clients)
            for peer, server in r.servers.items():
                cell = _cell(r, peer, clients)
                if cell is None:
                    if "error" in server:
                        lines.append(f"| {_label(r)} | {clients} | {server['name']} | failed: {server['error']} | | | | |")
                    continue
                ratio = "—" if peer == "ours" else _ratio(ours.throughput if ours else None, cell.throughput)
                lines.append(f"| {_label(r)} | {clients} | {server['name']} | {cell.throughput:.1f} | {_ms(percentile(cell.latencies, 50))} "
                             f"| {_ms(percentile(cell.latencies, 99))} | {cell.errors} | {ratio} |")
    return lines + ["", "\"ours\" is the server as deployed: answers of repeated queries come from its answer cache",
                    "(`KIK_RESULT_CACHE_MB`; the load repeats the same example queries, so after the warm-up nearly every",
                    "answer is a cache hit). \"ours, cache off\" evaluates every request in a query worker, the figure to",
                    "compare query engines and request paths by. Non-200 answers of our server are 503 \"busy\": at most",
                    "`KIK_MAX_CONCURRENT_QUERIES` (default 4) queries are evaluated at once, a query beyond waits up to",
                    "`KIK_QUERY_QUEUE_SECONDS` (default 2 s) for a free worker and is refused after that.", ""]


def _cpu(results, options) -> list[str]:
    """CPU per answer of each server's process tree: the profile that explains the throughput ratios."""
    rows = []
    for r in results:
        for clients in options.clients:
            for peer, server in r.servers.items():
                cell = _cell(r, peer, clients)
                if cell is None or not cell.cpu_ms or not cell.ok:
                    continue
                cpu = cell.cpu_ms
                rest = cpu["server"] - cpu["workers"]
                split = (f"{cpu['workers']:.2f} | {rest:.2f}" if cpu["workers"] else "– | –")
                rows.append(f"| {_label(r)} | {clients} | {server['name']} | {cpu['server']:.2f} | {split} | {cpu['client']:.2f} |")
    if not rows:
        return []
    return ["## Where the CPU goes (per answer)", "",
            "CPU milliseconds (user + system) per answer, read from /proc before and after each load cell: the",
            "server's whole process tree; for ours, the part spent in query worker processes (evaluation and",
            "serialisation in pyoxigraph) and the rest (waitress, Flask, the endpoint, the hand-over to a",
            "worker); and the load generator. When every core is busy (16 clients on 2 cores), answers/s is",
            "about cores ÷ (server + client CPU per answer), so these figures explain the throughput ratios.", "",
            "| data | clients | server | server CPU ms | of it: query workers | of it: HTTP + app | client CPU ms |",
            "|---|---|---|---|---|---|---|", *rows, ""]


def _per_query(results, options) -> list[str]:
    clients = options.clients[0] if options.clients else 1
    lines = [f"## Per query: median latency at {clients} client(s), and answer sizes", "",
             "Answer: rows of a SELECT, bytes of a CONSTRUCT — the same count for every server shows they answer alike.", ""]
    for r in results:
        present = [p for p in r.servers if _cell(r, p, clients)]
        if not present:
            continue
        names = [r.servers[p]["name"] for p in present]
        lines += [f"### {_label(r)}", "",
                  "| query | " + " | ".join(f"{n} p50 ms" for n in names) + " | " +
                  " | ".join(f"ours ÷ {r.servers[p]['name']}" for p in present if p != "ours") + " | answers |",
                  "|---|" + "---|" * (len(present) + len([p for p in present if p != "ours"]) + 1)]
        ours = _cell(r, "ours", clients)
        for name in (ours or _cell(r, present[0], clients)).per_request:
            medians = {p: median(_cell(r, p, clients).per_request.get(name, [])) for p in present}
            # speed ratio ours ÷ peer = peer latency ÷ our latency
            ratios = [_ratio(medians[p], medians.get("ours")) for p in present if p != "ours"]
            answers = sorted({str(r.servers[p].get("answers", {}).get(name, "?")) for p in present})
            lines.append(f"| {name} | " + " | ".join(_ms(medians[p]) for p in present) + " | " + " | ".join(ratios)
                         + f" | {' / '.join(answers)} |")
        lines.append("")
    return lines


def _start_memory(results) -> list[str]:
    lines = ["## Start to first answer and memory", "",
             "Start: from launching the process to the first answered SPARQL query (our server starts its",
             "query workers on that first query, so their loading is included). RSS: whole process tree, after",
             "start and the highest seen under load.", "",
             "| data | server | start → first answer | ours ÷ this (speed) | RSS after start | RSS peak under load | ours ÷ this (RSS peak) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        ours = r.servers.get("ours", {})
        for peer, server in r.servers.items():
            start = server.get("start_s")
            lines.append(
                f"| {_label(r)} | {server['name']} | {_s(start)} | {'—' if peer == 'ours' else _ratio(start, ours.get('start_s'))} "
                f"| {_mb(server.get('rss_idle'))} | {_mb(server.get('rss_peak'))} "
                f"| {'—' if peer == 'ours' else _ratio(ours.get('rss_peak'), server.get('rss_peak'))} |"
            )
    return lines + [""]


def _downloads(results, options) -> list[str]:
    lines = ["## Dump download (kg.nq) against nginx", "",
             f"Whole-file GETs back to back for {options.download_seconds:g} s per cell; body read and discarded.", "",
             "| data | kg.nq | clients | ours MB/s | nginx MB/s | ours ÷ nginx |", "|---|---|---|---|---|---|"]
    for r in results:
        ours, nginx = r.downloads.get("ours", {}), r.downloads.get("nginx", {})
        for clients in sorted(set(ours.get("cells", {})) | set(nginx.get("cells", {}))):
            a, b = ours.get("cells", {}).get(clients), nginx.get("cells", {}).get(clients)
            lines.append(f"| {_label(r)} | {_mb(r.dump_bytes)} | {clients} | {a.mb_per_s if a else float('nan'):.0f} "
                         f"| {b.mb_per_s if b else float('nan'):.0f} | {_ratio(a.mb_per_s if a else None, b.mb_per_s if b else None)} |")
        for side in (ours, nginx):
            if "error" in side:
                lines.append(f"| {_label(r)} | | | {side['name']} failed: {side['error']} | | |")
    return lines + [""]
