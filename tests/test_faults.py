"""Faults: killed processes are replaced, an unusable dist/ stops the server at start with one line,
and a full disk during a build leaves dist/ as it was.

(A rebuild while serving is covered by tests/test_rebuild_while_serving.py.)
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from kg import export
from kg.cli import main as kg
from server import create_app
from server.sparql.endpoint import get_runner
from tests.conftest import MINI, REPOSITORY
from tests.production import gunicorn

ASK = {"query": "ASK { ?s ?p ?o }"}
WAITRESS = Path(sys.executable).with_name("waitress-serve")
WAIT = 60.0  # an upper bound for a replacement to appear, not a timing assertion


def fingerprint(dist: Path) -> tuple[str, dict[str, str]]:
    return os.path.realpath(dist), {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dist.iterdir())}


@pytest.fixture
def mini_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    assert kg(["build", str(MINI), "--dist", str(dist), "--quiet"]) == 0
    return dist


def test_killed_query_worker_is_replaced_and_the_next_query_answered(mini_dist) -> None:
    # no result cache: the repeated query must reach a worker
    app = create_app({"KIK_DIST": str(mini_dist), "KIK_MAX_CONCURRENT_QUERIES": 1, "KIK_RESULT_CACHE_MB": 0})
    client = app.test_client()
    try:
        assert client.get("/sparql", query_string=ASK).status_code == 200
        runner = get_runner(app)
        [victim] = runner.pids()
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and Path(f"/proc/{victim}").exists():  # gone (reaped by the forkserver)
            time.sleep(0.05)
        assert not Path(f"/proc/{victim}").exists()
        response = client.get("/sparql", query_string=ASK, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["boolean"] is True
        assert victim not in runner.pids() and len(runner.pids()) == 1
        assert runner.replaced >= 1
    finally:
        runner = app.extensions.get("kik.query_runner")
        if runner is not None:
            runner.close()


def test_killed_gunicorn_worker_is_replaced(mini_dist) -> None:
    with gunicorn(mini_dist, workers=2, threads=2, KIK_MAX_CONCURRENT_QUERIES="1") as server:
        deadline = time.monotonic() + WAIT
        while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        before = server.worker_pids()
        assert len(before) == 2
        os.kill(before[0], signal.SIGKILL)
        while time.monotonic() < deadline:
            now = server.worker_pids()
            if before[0] not in now and len(now) == 2:
                break
            time.sleep(0.2)
        after = server.worker_pids()
        assert before[0] not in after and len(after) == 2, "".join(server.log)
        for _ in range(6):  # both workers answer (connections spread over them)
            assert requests.get(server.base + "health", timeout=30).json()["status"] == "ok"
            response = requests.get(server.base + "sparql", params=ASK, timeout=60,
                                    headers={"Accept": "application/sparql-results+json"})
            assert response.status_code == 200 and response.json()["boolean"] is True


def unusable_dists(tmp_path: Path, good: Path) -> dict[str, Path]:
    """dist/ folders a server must refuse to start on (works as root too: no permission tricks)."""
    missing = tmp_path / "missing"
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n", encoding="utf-8")
    broken_manifest = tmp_path / "broken-manifest"
    broken_manifest.mkdir()
    (broken_manifest / "build.json").write_text("{not json", encoding="utf-8")
    (broken_manifest / "kg.nq").write_bytes((good / "kg.nq").read_bytes())
    unreadable_dump = tmp_path / "unreadable-dump"
    unreadable_dump.mkdir()
    (unreadable_dump / "build.json").write_bytes((good / "build.json").read_bytes())
    (unreadable_dump / "kg.nq").mkdir()  # a folder where the dump should be: reading it fails
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone", target_is_directory=True)
    return {"missing": missing, "file": a_file, "broken manifest": broken_manifest,
            "unreadable dump": unreadable_dump, "dangling link": dangling}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_kg_serve_refuses_an_unusable_dist(tmp_path, mini_dist, capsys) -> None:
    for name, dist in unusable_dists(tmp_path, mini_dist).items():
        capsys.readouterr()
        assert kg(["serve", "--dist", str(dist), "--port", "0"]) == 2, name
        line = one_line(capsys.readouterr().err)
        assert line.startswith("kg serve: cannot load the build") and "kg build" in line, line


def test_waitress_refuses_an_unusable_dist(tmp_path, mini_dist) -> None:
    for name, dist in unusable_dists(tmp_path, mini_dist).items():
        result = subprocess.run(
            [str(WAITRESS), "--listen=127.0.0.1:0", "server.wsgi:app"],
            cwd=REPOSITORY, env={**os.environ, "KIK_DIST": str(dist)}, capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode != 0, name
        line = one_line(result.stderr)
        assert "cannot load the build" in line and "kg build" in line, line


def test_gunicorn_stops_on_an_unusable_dist_instead_of_restarting_workers(tmp_path, mini_dist) -> None:
    """Our one line and exit status 3, which gunicorn reads as "worker failed to boot" and stops.

    When several workers fail at once, gunicorn's arbiter may print a traceback of its own
    ``HaltServer`` and exit 1: it still stops instead of starting workers again and again."""
    dist = unusable_dists(tmp_path, mini_dist)["broken manifest"]
    result = subprocess.run(
        [str(WAITRESS.with_name("gunicorn")), "--workers", "2", "--bind", "127.0.0.1:0", "server.wsgi:app"],
        cwd=REPOSITORY, env={**os.environ, "KIK_DIST": str(dist)}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode in (1, 3), result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("kik: ")]
    assert ours and "cannot load the build" in ours[0] and "kg build" in ours[0]
    assert "Worker failed to boot" in result.stderr
    assert "server/" not in result.stderr  # no traceback through our code


def test_full_disk_during_a_build_leaves_dist_unchanged(tmp_path, mini_dist, monkeypatch, capsys) -> None:
    before = fingerprint(mini_dist)
    real_gzip = export.gzip_copies

    def disk_full(folder, names):
        real_gzip(folder, list(names)[:1])  # some bytes are written, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "kg.nt.gz"))

    monkeypatch.setattr(export, "gzip_copies", disk_full)
    capsys.readouterr()
    assert kg(["build", str(MINI), "--dist", str(mini_dist), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert fingerprint(mini_dist) == before
    assert not list((mini_dist.parent / ".kg-builds").glob("*.partial"))
    assert "dist/ bleibt unverändert" in message and os.strerror(errno.ENOSPC) in message
    assert "Traceback" not in message and message.count("\n") == 1


def test_full_disk_when_starting_a_build_folder(tmp_path, mini_dist, monkeypatch, capsys) -> None:
    before = fingerprint(mini_dist)

    def no_space(dist):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dist.parent / ".kg-builds"))

    monkeypatch.setattr(export, "new_build_folder", no_space)
    assert kg(["build", str(MINI), "--dist", str(mini_dist), "--quiet", "--lang", "en"]) == 2
    assert fingerprint(mini_dist) == before
    assert "dist/ is unchanged" in capsys.readouterr().err
