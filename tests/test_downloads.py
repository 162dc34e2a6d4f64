"""Downloads of the build: checksums, caching headers, conditional and range requests, no traversal."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

CONTENT_TYPES = {"kg.ttl": "text/turtle", "kg.nt": "application/n-triples", "kg.nq": "application/n-quads",
                 "kg.trig": "application/trig", "kg.rdf": "application/rdf+xml", "kg.jsonld": "application/ld+json",
                 "kg.ttl.gz": "application/gzip", "build.json": "application/json", "SHA256SUMS": "text/plain",
                 "validation.ttl": "text/turtle", "validation.json": "application/json", "kennzahlen.csv": "text/csv",
                 "konzept-hamm.ttl": "text/turtle", "konzept-hamm.jsonld.gz": "application/gzip"}


@pytest.fixture(scope="module")
def manifest(dist_dir) -> dict:
    return json.loads((dist_dir / "build.json").read_text(encoding="utf-8"))


def test_every_file_downloads_with_its_checksum(live_server, manifest):
    with requests.Session() as http:
        for name, info in manifest["files"].items():
            response = http.get(f"{live_server}download/{name}")
            assert response.status_code == 200, name
            assert int(response.headers["Content-Length"]) == info["bytes"] == len(response.content)
            assert hashlib.sha256(response.content).hexdigest() == info["sha256"], name
            assert response.headers["ETag"].strip('"') == info["sha256"]
            assert "Last-Modified" in response.headers
            assert "Content-Encoding" not in response.headers  # .gz files are files, not encodings
            if name in CONTENT_TYPES:
                assert response.headers["Content-Type"].split(";")[0] == CONTENT_TYPES[name], name


def test_published_checksums_match(live_server, manifest):
    sums = requests.get(f"{live_server}download/SHA256SUMS").text
    listed = dict(reversed(line.split("  ", 1)) for line in sums.splitlines())
    assert {name: info["sha256"] for name, info in manifest["files"].items()} == listed
    assert requests.get(f"{live_server}download/build.json").json()["build"] == manifest["build"]


def test_conditional_get_head_and_ranges(app):
    client = app.test_client()
    first = client.get("/download/kg.nt")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/download/kg.nt", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/download/kg.nt", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/download/kg.nt", headers={"If-None-Match": '"other"'}).status_code == 200
    head = client.head("/download/kg.nt")
    assert head.status_code == 200 and head.data == b"" and head.headers["Content-Length"] == first.headers["Content-Length"]
    part = client.get("/download/kg.nt", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == first.data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(first.data)}"
    assert client.get("/download/kg.nt", headers={"Range": f"bytes={len(first.data) + 5}-"}).status_code == 416


@pytest.mark.parametrize("path", [
    "/download/../pyproject.toml", "/download/..%2fbuild.json", "/download/%2e%2e/%2e%2e/etc/passwd",
    "/download/%2e%2e%2fkg.nt", "/download//etc/passwd", "/download/%2Fetc%2Fpasswd", "/download/..",
    "/download/kg.ttl/../build.json", "/download/.kg-builds", "/download/nonexistent.ttl", "/download/kg.ttl%00",
])
def test_no_path_escapes_the_build(app, path):
    response = app.test_client().get(path, headers={"Accept": "text/plain"})
    assert response.status_code == 404, path
    assert b"root:" not in response.data and b"Traceback" not in response.data


def test_raw_traversal_over_http(live_server):
    """Paths as a raw client sends them (requests would normalise ``..``)."""
    import http.client
    from urllib.parse import urlsplit

    host = urlsplit(live_server)
    for raw in ("/download/../../etc/passwd", "/download/..%2f..%2fetc%2fpasswd", "/download/%2e%2e/build.json"):
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        connection.request("GET", raw)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 404, raw
        assert b"root:" not in body
        connection.close()


def test_download_index_lists_files_and_checksums(app, manifest):
    page = app.test_client().get("/download/").get_data(as_text=True)
    for name, info in manifest["files"].items():
        assert f"/download/{name}" in page and info["sha256"] in page


# --- the per-build listing and the files kept in memory -------------------------------------------------


def _copy_build(source: Path, folder: Path, nt: bytes | None = None) -> None:
    """A build folder copied from ``source``; with ``nt`` its kg.nt (and the manifest's entry) replaced."""
    shutil.copytree(source, folder)
    if nt is not None:
        (folder / "kg.nt").write_bytes(nt)
        manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
        manifest["build"] = manifest["build"] + "-b"
        manifest["files"]["kg.nt"] = {"bytes": len(nt), "sha256": hashlib.sha256(nt).hexdigest()}
        (folder / "build.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture()
def two_builds(tmp_path, dist_dir) -> tuple[Path, Path, Path]:
    """``dist`` → build a; build b differs in kg.nt. Returns (dist link, a, b)."""
    builds = tmp_path / ".kg-builds"
    builds.mkdir()
    source = dist_dir.resolve()
    _copy_build(source, builds / "a")
    _copy_build(source, builds / "b", nt=(source / "kg.nt").read_bytes() + b"# build b\n")
    link = tmp_path / "dist"
    link.symlink_to(Path(".kg-builds") / "a", target_is_directory=True)
    return link, builds / "a", builds / "b"


def _swap(link: Path, folder: Path) -> None:
    temporary = link.with_name(".dist.new")
    temporary.symlink_to(Path(".kg-builds") / folder.name, target_is_directory=True)
    temporary.replace(link)


def test_a_build_swap_serves_the_new_builds_files(two_builds):
    from server import create_app
    from server.publishing import downloads

    link, first, second = two_builds
    app = create_app({"KIK_DIST": str(link), "TESTING": True})
    client = app.test_client()
    before = client.get("/download/kg.nt")
    assert before.data == (first / "kg.nt").read_bytes()
    assert app.extensions[downloads.LISTING].kept()["kg.nt"] == len(before.data)  # kept in memory

    _swap(link, second)
    assert app.extensions["kik.publication"].refresh(force=True)
    after = client.get("/download/kg.nt")
    expected = (second / "kg.nt").read_bytes()
    assert after.data == expected and after.data != before.data
    assert after.headers["ETag"].strip('"') == hashlib.sha256(expected).hexdigest()
    assert int(after.headers["Content-Length"]) == len(expected)
    assert client.get("/download/kg.nt", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    listing = app.extensions[downloads.LISTING]
    assert listing.folder == second.resolve()
    assert client.get("/download/build.json").get_json()["build"].endswith("-b")
    with app.test_request_context():
        assert downloads.published()["kg.nt"]["sha256"] == hashlib.sha256(expected).hexdigest()


def test_a_file_changed_or_removed_on_disk_is_not_served_from_memory(two_builds):
    from server import create_app

    link, first, _ = two_builds
    app = create_app({"KIK_DIST": str(link), "TESTING": True})
    client = app.test_client()
    original = client.get("/download/kg.ttl").data
    assert original == (first / "kg.ttl").read_bytes()
    changed = original.replace(b"@prefix", b"@PREFIX", 1)
    (first / "kg.ttl").write_bytes(changed + b"\n")
    assert client.get("/download/kg.ttl").data == changed + b"\n"
    (first / "kg.ttl").unlink()
    missing = client.get("/download/kg.ttl", headers={"Accept": "text/plain"})
    assert missing.status_code == 404 and b"kg.ttl" in missing.data
    with app.test_request_context():
        from server.publishing import downloads

        assert "kg.ttl" not in downloads.published() and "kg.nt" in downloads.published()


def test_memory_limits_leave_big_files_on_disk(app, manifest, monkeypatch):
    from server.publishing import downloads

    monkeypatch.setattr(downloads, "MEMORY_FILE_BYTES", manifest["files"]["kg.ttl"]["bytes"])
    monkeypatch.setattr(downloads, "MEMORY_TOTAL_BYTES", manifest["files"]["kg.ttl"]["bytes"])
    with app.app_context():
        app.extensions.pop(downloads.LISTING, None)  # a fresh listing under these limits
    client = app.test_client()
    for name in ("kg.nq", "kg.ttl", "kg.nt.gz"):
        response = client.get(f"/download/{name}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == manifest["files"][name]["sha256"]
    kept = app.extensions[downloads.LISTING].kept()
    assert "kg.nq" not in kept  # bigger than one file may be
    assert kept == {"kg.ttl": manifest["files"]["kg.ttl"]["bytes"]}  # the budget is full: kg.nt.gz stays on disk
    part = client.get("/download/kg.nq", headers={"Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == client.get("/download/kg.nq").data[5:10]
    app.extensions.pop(downloads.LISTING, None)  # the session app gets a listing with the real limits again


@contextmanager
def waitress_serving(app) -> Iterator[str]:
    """The app behind waitress (as in production, with its ``wsgi.file_wrapper``) on 127.0.0.1."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/"
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)


def test_downloads_through_waitress(app, manifest):
    """Whole files (from memory and from disk), ranges, HEAD and 304 over waitress's file wrapper."""
    with waitress_serving(app) as base, requests.Session() as http:
        for _ in range(2):  # the first answer reads the file, the second comes from memory
            for name in ("kg.nq", "kg.ttl.gz", "SHA256SUMS"):
                response = http.get(f"{base}download/{name}")
                assert response.status_code == 200
                body = response.content
                assert len(body) == int(response.headers["Content-Length"])
                if name in manifest["files"]:
                    assert hashlib.sha256(body).hexdigest() == manifest["files"][name]["sha256"]
        whole = http.get(f"{base}download/kg.nq").content
        part = http.get(f"{base}download/kg.nq", headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == whole[100:1100]
        head = http.head(f"{base}download/kg.nq")
        assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) == len(whole)
        etag = head.headers["ETag"]
        assert http.get(f"{base}download/kg.nq", headers={"If-None-Match": etag}).status_code == 304
        assert http.get(f"{base}download/kg.nq").content == whole  # the connection still works after a 304
