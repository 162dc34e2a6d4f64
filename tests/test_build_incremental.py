"""Incremental `kg build`: after one municipality's table changes, only that folder is read and
validated again, and dist/ holds the same bytes as a full build of the changed sources.

Truth the incremental code did not make: the dumps of ``kg.export.write_dumps`` over the whole
dataset (checked against rdflib in tests/test_build_speed_equivalence.py), a full build with an empty
cache, and the source table itself (read with the csv module).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from kg import incremental
from kg.build import build_dataset, union_graph
from kg.cli import main as kg
from kg.export import JSONLD_FILE, store_dir, write_dumps
from kg.generate import generate_municipalities
from kg.progress import Progress
from kg.sources import read_settings
from kg.validate import format_report, load_shapes, validate
from tests.conftest import REPOSITORY

DUMPS = ("kg.nt", "kg.nq", "kg.ttl", "kg.trig", "kg.rdf", JSONLD_FILE)
CONTEXT = json.loads((REPOSITORY / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    for name in ("hamm", "musterstadt"):
        shutil.copytree(REPOSITORY / "data" / name, root / name)
    generate_municipalities(3, root / "gen", seed=3)
    return root


def folders_of(root: Path) -> list[Path]:
    return [root / "hamm", root / "musterstadt", *sorted((root / "gen").glob("gen-*"))]


def copy_sources(sources: Path, target: Path) -> list[Path]:
    shutil.copytree(sources, target)
    return folders_of(target)


def build(folders: list[Path], dist: Path, *extra: str) -> int:
    return kg(["build", *map(str, folders), "--dist", str(dist), *extra])


def store_quads(dist: Path, others: bool = True) -> set[str]:
    """The store's quads in the default graph and the municipalities' and vocabularies' graphs, the
    names of all its graphs (a graph emptied by an update must be gone too) and the size of the
    others (ontology, shapes, report: loaded from Turtle, with new blank node labels each time)."""
    store = ox.Store.read_only(str(store_dir(dist.resolve())))
    ours = {None, *json.loads((dist / "build.json").read_text(encoding="utf-8"))["graphs"]}
    found = {f"graph {graph}" for graph in store.named_graphs()} if others else set()
    for graph in [ox.DefaultGraph(), *store.named_graphs()]:
        quads = store.quads_for_pattern(None, None, None, graph)
        if (graph.value if isinstance(graph, ox.NamedNode) else None) in ours:
            found |= {str(quad) for quad in quads}
        elif others:
            found.add(f"{graph}: {sum(1 for _ in quads)} quads")
    return found


def assert_same_build(first: Path, second: Path) -> None:
    """Every file of the two dist/ folders byte for byte, except the manifest's build id (the
    manifest's checksums of every other file must still agree), and the stores' quads."""
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        if name == "build.json":
            ours, theirs = (json.loads((d / name).read_text(encoding="utf-8")) for d in (first, second))
            assert ours.pop("build") != theirs.pop("build")
            ours.pop("inputs"), theirs.pop("inputs")  # the folders' paths
            assert ours == theirs
        else:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert store_quads(first) == store_quads(second)


def test_dumps_equal_those_written_from_the_whole_dataset(sources: Path, tmp_path: Path) -> None:
    folders = folders_of(sources)
    assert build(folders, tmp_path / "dist", "--quiet") == 0
    dataset = build_dataset(folders)
    expected = tmp_path / "expected"
    expected.mkdir()
    write_dumps(dataset, expected, CONTEXT, workers=1)
    for name in DUMPS:
        assert (tmp_path / "dist" / name).read_bytes() == (expected / name).read_bytes(), name
    store = ox.Store.read_only(str(store_dir(expected)))
    assert store_quads(tmp_path / "dist", others=False) == {str(quad) for quad in store}
    report = validate(union_graph(dataset), load_shapes())
    assert (tmp_path / "dist" / "validation.json").read_text(encoding="utf-8") == format_report(report, fmt="json")
    manifest = json.loads((tmp_path / "dist" / "build.json").read_text(encoding="utf-8"))
    assert manifest["triples"] == len(union_graph(dataset))


def test_a_changed_table_is_read_again_alone_and_the_build_equals_a_full_one(sources: Path, tmp_path: Path, capsys) -> None:
    folders = copy_sources(sources, tmp_path / "src")
    dist = tmp_path / "dist"
    assert build(folders, dist) == 0
    assert f"{len(folders)} von {len(folders)} Datenordnern gelesen und geprüft" in capsys.readouterr().err
    cached = set(incremental.cache_dir(dist).iterdir())
    assert len(cached) == len(folders) + 1  # and the vocabularies

    changed = folders[3]  # gen-0002
    table = changed / "massnahmen.csv"
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
    title = rows[0].index("titel")
    rows[1][title] = "Sprachcafé am Markt (fiktiv, geändert)"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    table.write_text(out.getvalue(), encoding="utf-8")

    assert build(folders, dist, "--jobs", "1") == 0
    assert f"1 von {len(folders)} Datenordnern gelesen und geprüft, {len(folders) - 1} aus dem Cache" in capsys.readouterr().err
    assert '"Sprachcafé am Markt (fiktiv, geändert)"@de' in (dist / "kg.nt").read_text(encoding="utf-8")
    left = set(incremental.cache_dir(dist).iterdir())
    assert len(left) == len(folders) + 1 and len(left - cached) == 1  # the old piece of gen-0002 is pruned

    full = tmp_path / "full" / "dist"
    assert build(folders, full, "--quiet", "--no-cache") == 0
    assert_same_build(dist.resolve(), full.resolve())


def test_a_violation_in_a_changed_folder_stops_the_build(sources: Path, tmp_path: Path, capsys) -> None:
    folders = copy_sources(sources, tmp_path / "src")
    dist = tmp_path / "dist"
    assert build(folders, dist, "--quiet") == 0
    served = dist.resolve()
    structure = folders[2] / "struktur.ttl"  # gen-0001
    text = structure.read_text(encoding="utf-8")
    settings = read_settings(folders[2])
    structure.write_text(text + f'\n<{settings.base}ziel/99> a <https://w3id.org/kik/ontology#StrategicGoal> .\n',
                         encoding="utf-8")
    assert build(folders, dist, "--quiet") == 1
    assert f"{settings.base}ziel/99" in capsys.readouterr().err
    assert dist.resolve() == served  # the last good build keeps serving


def test_folders_describing_one_resource_are_validated_as_a_whole(sources: Path, tmp_path: Path, capsys) -> None:
    folders = copy_sources(sources, tmp_path / "src")
    first, second = read_settings(folders[2]), read_settings(folders[3])
    shared = URIRef(first.base + "stadt")
    with (folders[3] / "struktur.ttl").open("a", encoding="utf-8") as stream:
        stream.write(f'\n<{shared}> <{SKOS.note}> {Literal("in zwei Datenordnern beschrieben (fiktiv)", lang="de").n3()} .\n')
    dist = tmp_path / "dist"
    assert build(folders, dist) == 0
    assert "validating the whole" in capsys.readouterr().err
    dataset = build_dataset(folders)
    expected = tmp_path / "expected"
    expected.mkdir()
    write_dumps(dataset, expected, CONTEXT, workers=1)
    for name in DUMPS:
        assert (dist / name).read_bytes() == (expected / name).read_bytes(), name
    report = validate(union_graph(dataset), load_shapes())
    assert (dist / "validation.json").read_text(encoding="utf-8") == format_report(report, fmt="json")
    assert second.base != first.base
    # the pages' data is written on this path too, and listed, so the server reads it instead of the store
    listed = json.loads((dist / "build.json").read_text(encoding="utf-8"))["files"]
    for name in ("pages.json", "pages-measures.json"):
        assert name in listed and (dist / name).stat().st_size == listed[name]["bytes"], name
    measures = json.loads((dist / "pages-measures.json").read_text(encoding="utf-8"))["measures"]
    assert measures["records"], "measure records"


def test_a_changed_shapes_file_or_code_changes_every_key(sources: Path) -> None:
    folder = folders_of(sources)[2]
    assert incremental.folder_key(folder, "a") != incremental.folder_key(folder, "b")
    assert incremental.folder_key(folder, "a") == incremental.folder_key(folder, "a")
    assert len(incremental.common_key()) == 64


def test_progress_bar_draws_in_place_on_a_terminal_and_sums_up_elsewhere() -> None:
    terminal, log = io.StringIO(), io.StringIO()
    for stream, tty in ((terminal, True), (log, False)):
        progress = Progress(total=1, stream=stream, tty=tty)
        bar = progress.bar("Datenordner")
        for done in range(0, 5):
            bar.update(done, 4)
        bar.close()
    assert "\r" in terminal.getvalue() and "4/4" in terminal.getvalue()
    assert "\r" not in log.getvalue() and log.getvalue().count("\n") == 1 and "Datenordner: 4/4" in log.getvalue()
    quiet = io.StringIO()
    bar = Progress(total=1, quiet=True, stream=quiet, tty=True).bar("x")
    bar.update(1, 2)
    bar.close()
    assert quiet.getvalue() == ""


def test_the_cache_is_not_counted_as_a_build(tmp_path: Path) -> None:
    from tests.conftest import MINI

    dist = tmp_path / "dist"
    for _ in range(4):
        assert build([MINI], dist, "--quiet") == 0
    builds = dist.parent / ".kg-builds"
    finished = [p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".oxigraph")]
    assert sorted(p.name for p in finished if p.name != "cache") == sorted(p.name for p in finished)[:3]
    assert len(finished) == 4 and (builds / "cache").is_dir()  # the last three builds and the cache
    assert len(list((builds / "cache").iterdir())) == 2  # the folder's piece and the vocabularies'
