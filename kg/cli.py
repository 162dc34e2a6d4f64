"""The ``kg`` command: build, validate, stats, serve, generate, push, template.

Exit codes: 0 fine (warnings allowed), 1 SHACL violations, 2 bad input (file, line, column, fix).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
from pathlib import Path

from kg.errors import SourceError

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_DATA = Path("data")
DEFAULT_DIST = Path("dist")


def default_data_dirs(root: Path = DEFAULT_DATA) -> list[Path]:
    """Every folder under data/ that has a datensatz.toml (Hamm and the fictional example)."""
    return sorted(p.parent for p in root.glob("*/datensatz.toml"))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("mindestens 1 / at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description="Kommunale Integrationskonzepte als Wissensgraph.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="Quellen → Graph → dist/ (atomar)")
    build.add_argument("data_dirs", nargs="*", type=Path, help="Datenordner (Standard: alle unter data/)")
    build.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    build.add_argument("--lang", choices=("de", "en"), default="de")
    build.add_argument("--quiet", action="store_true")
    build.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                       help="Prozesse zum Lesen und Prüfen (Standard: alle Kerne)")
    build.add_argument("--no-cache", action="store_true",
                       help="alle Datenordner neu lesen und prüfen (der Cache unter .kg-builds/cache/ wird neu gefüllt)")

    validate = commands.add_parser("validate", help="SHACL-Prüfung von dist/ oder von Datenordnern")
    validate.add_argument("data_dirs", nargs="*", type=Path, help="Datenordner; ohne Angabe wird dist/ geprüft")
    validate.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    validate.add_argument("--lang", choices=("de", "en"), default="de")
    validate.add_argument("--format", choices=("text", "json", "turtle"), default="text")

    stats = commands.add_parser("stats", help="Zählungen und Vollständigkeitsbericht")
    stats.add_argument("data_dirs", nargs="*", type=Path, help="Datenordner; ohne Angabe wird dist/ gelesen")
    stats.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    stats.add_argument("--lang", choices=("de", "en"), default="de")
    stats.add_argument("--format", choices=("text", "json"), default="text")

    serve = commands.add_parser("serve", help="Entwicklungsserver (Produktion: siehe README)")
    serve.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)

    generate = commands.add_parser("generate", help="fiktive Kommunen für Benchmarks erzeugen")
    generate.add_argument("count", type=int)
    generate.add_argument("out_dir", type=Path)
    generate.add_argument("--seed", type=int, default=0)

    template = commands.add_parser("template", help="Arbeitsmappe zum Ausfüllen der Maßnahmen (xlsx/ods)")
    template.add_argument("data_dir", type=Path, help="Datenordner, z. B. data/hamm")
    template.add_argument("--format", choices=("xlsx", "ods"), default="xlsx")
    template.add_argument("--out", type=Path, help="Zieldatei (Standard: massnahmen-<id>.<format> im aktuellen Ordner)")

    push = commands.add_parser("push", help="dist/ in einen externen SPARQL-1.1-Speicher laden (Graph Store Protocol)")
    push.add_argument("--dist", type=Path, default=DEFAULT_DIST)
    push.add_argument("--store", default=os.environ.get("KIK_STORE_GSP_URL", ""),
                      help="Graph-Store-Protocol-Endpunkt, z. B. http://localhost:7878/store (Standard: $KIK_STORE_GSP_URL)")
    push.add_argument("--query", default=os.environ.get("KIK_STORE_QUERY_URL", ""),
                      help="Abfrage-Endpunkt, nur für --prune (Standard: $KIK_STORE_QUERY_URL)")
    push.add_argument("--user", default=os.environ.get("KIK_STORE_USER", ""),
                      help="Benutzer; das Passwort kommt aus $KIK_STORE_PASSWORD")
    push.add_argument("--digest", action="store_true", help="HTTP-Digest statt Basic (Virtuoso)")
    push.add_argument("--graph-param", default="graph",
                      help="Name des Graph-Parameters (Standard: graph; Virtuoso: graph-uri)")
    push.add_argument("--prune", action="store_true",
                      help="Graphen unter https://w3id.org/kik/ löschen, die der Build nicht mehr hat")
    push.add_argument("--quiet", action="store_true")
    return parser


def _load_graph(data_dirs: list[Path], dist: Path):
    """The union graph from sources (if given) or from the served build."""
    from kg.build import union_graph

    return union_graph(_load_dataset(data_dirs, dist))


def _load_dataset(data_dirs: list[Path], dist: Path):
    """The dataset (a named graph per municipality) from sources (if given) or from the served build."""
    from rdflib import Dataset

    from kg.build import build_dataset

    if data_dirs:
        return build_dataset(data_dirs)
    dump = dist / "kg.nq"
    if not dump.is_file():
        raise SourceError(
            dump, None, None,
            "kein Build vorhanden.", "Zuerst `kg build` ausführen.",
            "no build found.", "run `kg build` first.",
        )
    dataset = Dataset()
    dataset.parse(dump, format="nquads")
    return dataset


def _write_failed(error: OSError, lang: str) -> int:
    """One line for a build that could not be written (e.g. a full disk); dist/ is untouched."""
    if lang == "de":
        print(f"Build abgebrochen: Schreiben fehlgeschlagen ({error}); dist/ bleibt unverändert. "
              "Abhilfe: Speicherplatz und Schreibrechte prüfen, dann erneut bauen.", file=sys.stderr)
    else:
        print(f"Build stopped: writing failed ({error}); dist/ is unchanged. "
              "Fix: check free space and permissions, then build again.", file=sys.stderr)
    return EXIT_BAD_INPUT


def command_build(args: argparse.Namespace) -> int:
    """Sources → dist/: each data folder read and validated once per change (``kg.incremental``),
    the union assembled from the cached pieces; the whole dataset in one when the folders are not
    independent."""
    from kg import export, incremental
    from kg.progress import Progress
    from kg.validate import format_report, load_shapes

    data_dirs = args.data_dirs or default_data_dirs()
    progress = Progress(total=6, quiet=args.quiet)
    progress.step("Datenordner lesen und prüfen / reading and validating folders")
    shapes = load_shapes()
    context = _jsonld_context()
    if getattr(args, "no_cache", False):
        shutil.rmtree(incremental.cache_dir(args.dist), ignore_errors=True)
    bar = progress.bar("Datenordner / folders")
    pieces = incremental.make_pieces(data_dirs, args.dist, shapes, context, args.jobs, tick=bar.update)
    made = sum(not piece.reused for piece in pieces if piece.folder is not None)
    bar.close(f"{made} von {len(data_dirs)} Datenordnern gelesen und geprüft, {len(data_dirs) - made} aus dem Cache "
              f"/ {made} of {len(data_dirs)} folders read and validated, {len(data_dirs) - made} cached")
    metas = incremental.load_metas(pieces)
    if not incremental.independent(metas):
        progress.detail("Datenordner beschreiben gemeinsame Ressourcen: das Ganze wird geprüft "
                        "/ folders describe shared resources: validating the whole")
        del metas
        return _build_whole(args, data_dirs, progress, shapes, context, pieces)
    progress.step("Prüfbericht / validation report")
    report = incremental.combined_report(pieces)
    if not report.conforms_without_violations:
        return _violations(report, args.lang)
    progress.step("Statistik / statistics")
    if incremental.statistics_combine(metas):
        stats = incremental.combined_statistics(metas)
    else:
        from kg.stats import statistics

        stats = statistics(incremental.union_graph(pieces))
    del metas
    graphs = {piece.graph: piece.triples for piece in pieces if piece.triples}

    def dumps(folder: Path) -> None:
        served = args.dist.resolve() if args.dist.is_symlink() and args.dist.exists() else None
        incremental.write_dumps(pieces, folder, context, export.store_dir(folder), jobs=args.jobs,
                                step=lambda name: progress.detail(f"{name} ✓"),
                                previous=export.store_dir(served) if served is not None else None)

    nodes = {piece.graph: piece.path("nodes.jsonl") for piece in pieces if piece.folder is not None}
    code = _write_build(args, data_dirs, progress, shapes, report, stats, graphs, dumps, nodes)
    if code == EXIT_OK:
        incremental.prune(args.dist, pieces)
    return code


def _jsonld_context() -> dict | None:
    from kg.build import REPOSITORY

    path = REPOSITORY / "ontology" / "context.jsonld"
    return json.loads(path.read_text(encoding="utf-8")).get("@context") if path.is_file() else None


def _violations(report, lang: str) -> int:
    from kg.validate import format_report

    print(format_report(report, lang=lang, fmt="text"), file=sys.stderr)
    print("Build abgebrochen: Verstöße gegen die Shapes; dist/ bleibt unverändert."
          if lang == "de" else "Build stopped: shape violations; dist/ is unchanged.", file=sys.stderr)
    return EXIT_VIOLATIONS


def _build_whole(args, data_dirs, progress, shapes, context, pieces) -> int:
    """The dataset read and validated as one (parallel only where ``validate_dataset`` finds parts
    independent): needed when folders describe the same resources."""
    from kg import export, incremental
    from kg.build import UnionView, build_dataset
    from kg.stats import statistics
    from kg.validate import validate_dataset

    dataset = build_dataset(data_dirs, progress=progress.detail)
    # The dataset lives until the end: the cyclic garbage collector need not scan its millions of
    # objects again (each full pass costs seconds), nor touch them in forked workers (copy-on-write).
    gc.freeze()
    union = UnionView(dataset)  # read-only, no copy of the triples
    progress.detail(f"{len(union)} Tripel")
    progress.step("SHACL-Prüfung / validating")
    report = validate_dataset(dataset, shapes, workers=args.jobs)
    if not report.conforms_without_violations:
        return _violations(report, args.lang)
    progress.step("Statistik / statistics")
    stats = statistics(union)
    graphs = {str(g.identifier): len(g) for g in dataset.graphs() if len(g)}

    def dumps(folder: Path) -> None:
        export.write_dumps(dataset, folder, context, workers=args.jobs)

    code = _write_build(args, data_dirs, progress, shapes, report, stats, graphs, dumps)
    if code == EXIT_OK:
        incremental.prune(args.dist, pieces)
    return code


def _write_build(args, data_dirs, progress, shapes, report, stats, graphs, dumps, nodes=None) -> int:
    """Dumps, copies, report, statistics, checksums and manifest into a new build folder, then
    published atomically; on any failure the folder is removed and dist/ stays as it was."""
    from kg import export
    from kg.build import REPOSITORY
    from kg.validate import format_report, load_shapes

    progress.step("Dumps schreiben / writing dumps")
    try:
        folder = export.new_build_folder(args.dist)
    except OSError as error:
        return _write_failed(error, args.lang)
    try:
        dumps(folder)
        for name, source in (("ontology.ttl", REPOSITORY / "ontology" / "kik.ttl"),
                             ("context.jsonld", REPOSITORY / "ontology" / "context.jsonld")):
            if source.is_file():
                shutil.copyfile(source, folder / name)
        # freshly read: pyshacl adds inferred triples to a shapes graph it validated with in this process
        (folder / "shapes.ttl").write_text(load_shapes().serialize(format="turtle"), encoding="utf-8")
        (folder / "validation.ttl").write_text(format_report(report, fmt="turtle"), encoding="utf-8")
        (folder / "validation.json").write_text(format_report(report, fmt="json"), encoding="utf-8")
        export.write_json(folder / "stats.json", stats)
        from kg import portal  # per-concept dumps, concepts.json, kennzahlen.csv; ontology, shapes, report as graphs
        progress.detail("Konzept-Dateien / per-concept files (kg.portal)")
        portal_manifest = portal.write_portal_files(folder, data_dirs, _jsonld_context(), export.store_dir(folder), nodes)
        from kg import page_summaries
        if not (folder / page_summaries.SUMMARY_FILE).is_file():  # the incremental writers made it beside the store
            progress.detail("Seitendaten / the pages' data (kg.page_summaries)")
            page_summaries.write(folder, export.store_dir(folder))
        progress.step("Komprimieren und Prüfsummen / gzip and checksums")
        export.gzip_copies(folder, [name for name in (*export.DUMP_FORMATS, export.JSONLD_FILE)
                                    if not (folder / f"{name}.gz").is_file()])  # the incremental writers made theirs
        files = export.write_checksums(folder)
        export.write_json(folder / "build.json", {
            "build": folder.name.removesuffix(".partial"),
            "inputs": [str(d) for d in data_dirs],
            "graphs": graphs,
            "triples": stats["triples"],
            "files": files,
            "validation": {"conforms": report.conforms_without_violations, "results": len(report.results)},
            **portal_manifest,
        })
        progress.step("Veröffentlichen / publishing")
        final = export.publish(folder, args.dist)
    except OSError as error:  # full disk, no permission: the served build stays as it was
        export.discard(folder)
        return _write_failed(error, args.lang)
    except BaseException:
        export.discard(folder)
        raise
    progress.detail(f"{args.dist} → {final}")
    return EXIT_OK


def command_validate(args: argparse.Namespace) -> int:
    from kg.validate import exit_code, format_report, validate_dataset

    report = validate_dataset(_load_dataset(args.data_dirs, args.dist))
    print(format_report(report, lang=args.lang, fmt=args.format))
    return exit_code(report)


def command_stats(args: argparse.Namespace) -> int:
    from kg.stats import format_statistics, statistics

    stats = statistics(_load_graph(args.data_dirs, args.dist))
    if args.format == "json":
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        print(format_statistics(stats, lang=args.lang), end="")
    return EXIT_OK


def command_serve(args: argparse.Namespace) -> int:
    from server import create_app
    from server.store.interface import DistUnavailable

    try:
        app = create_app({"KIK_DIST": str(args.dist.resolve())})
    except DistUnavailable as error:  # no half-working server: say why in one line and stop
        print(f"kg serve: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from werkzeug.serving import make_server

    server = make_server(args.host, args.port, app, threaded=True)  # bound before we say it is ready
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"kg serve: bereit / ready: http://{host}:{server.server_port}/  (Strg+C / Ctrl+C beendet)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def command_generate(args: argparse.Namespace) -> int:
    from kg.generate import generate_municipalities

    generate_municipalities(args.count, args.out_dir, seed=args.seed)
    return EXIT_OK


def command_template(args: argparse.Namespace) -> int:
    from kg.sources import read_settings
    from kg.template import write_template

    out = args.out or Path(f"massnahmen-{read_settings(args.data_dir).id}.{args.format}")
    write_template(args.data_dir, args.format, out)
    print(f"kg template: {out}", file=sys.stderr)
    return EXIT_OK


def command_push(args: argparse.Namespace) -> int:
    from kg.push import PushError, Target, push

    if not args.store:
        print("kg push: kein Speicher angegeben / no store given. Pass --store URL (the Graph Store Protocol "
              "endpoint, e.g. http://localhost:7878/store) or set KIK_STORE_GSP_URL.", file=sys.stderr)
        return EXIT_BAD_INPUT
    target = Target(gsp_url=args.store, query_url=args.query, user=args.user,
                    password=os.environ.get("KIK_STORE_PASSWORD", ""), digest=args.digest,
                    graph_param=args.graph_param)
    report = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        push(args.dist, target, prune=args.prune, report=report)
    except PushError as error:
        print(f"kg push: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


COMMANDS = {
    "build": command_build,
    "validate": command_validate,
    "stats": command_stats,
    "serve": command_serve,
    "generate": command_generate,
    "push": command_push,
    "template": command_template,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SourceError as error:
        print(error.message(getattr(args, "lang", "de")), file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
