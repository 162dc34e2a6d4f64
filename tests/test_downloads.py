"""Downloads of the build: checksums, caching headers, conditional and range requests, no traversal."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

CONTENT_TYPES = {"kg.ttl": "text/turtle", "kg.nt": "application/n-triples", "kg.nq": "application/n-quads",
                 "kg.trig": "application/trig", "kg.rdf": "application/rdf+xml", "kg.jsonld": "application/ld+json",
                 "kg.ttl.gz": "application/gzip", "build.json": "application/json", "SHA256SUMS": "text/plain",
                 "validation.ttl": "text/turtle", "validation.json": "application/json"}


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
