"""No URL reaches a file outside the served build: downloads, resources, static files, editor assets.

Requests go over a raw socket (http.client) so that no client library normalises ``..`` away; a
marker file beside dist/ and /etc/passwd must never come back, and every such request is a 4xx.
Each test runs on the development server and on the production server (waitress, as README.md
starts it): a production server that normalised or decoded paths differently would show here.
"""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

MARKER = "kik-traversal-marker-7f3a"
TRAVERSALS = [
    "../secret.txt", "..%2fsecret.txt", "..%2Fsecret.txt", "%2e%2e/secret.txt", "%2e%2e%2fsecret.txt",
    "%2E%2E%2Fsecret.txt", "..%5csecret.txt", "..\\secret.txt", "%252e%252e%252fsecret.txt",
    "....//secret.txt", "..;/secret.txt", "%c0%ae%c0%ae/secret.txt", "kg.ttl/../../secret.txt",
    "kg.ttl%00../../secret.txt", "kg.ttl%00", "%00", "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "../../../../../../etc/passwd",
    "C:%5cWindows%5cwin.ini", "file:///etc/passwd", "..%2f.kg-builds", ".%2e/secret.txt",
]
PREFIXES = ["download/", "", "hamm/", "hamm/konzept/", "static/", "static/pages/", "sparql/yasgui/", "context.jsonld/"]


@pytest.fixture(scope="module")
def secret(dist_dir: Path) -> Path:
    """A file right beside the dist link (where a ``..`` would land)."""
    path = dist_dir.parent / "secret.txt"
    path.write_text(MARKER + "\n", encoding="utf-8")
    (dist_dir.resolve().parent / "secret.txt").write_text(MARKER + "\n", encoding="utf-8")
    return path


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.putheader("Accept", "*/*")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_traversal_is_a_client_error_and_reads_nothing(served, secret, prefix) -> None:
    for attempt in TRAVERSALS:
        status, body = raw_get(served, "/" + prefix + attempt)
        assert 400 <= status < 500, (prefix + attempt, status)
        assert MARKER.encode() not in body, prefix + attempt
        assert b"root:x:0:0" not in body and b"[fonts]" not in body, prefix + attempt


def test_absolute_request_targets_are_refused(served, secret) -> None:
    """An absolute-form request target or one without a leading slash reads nothing either."""
    for target in ("http://127.0.0.1/download/../secret.txt", "download/../secret.txt", "*"):
        status, body = raw_get(served, target)
        assert status < 500, (target, status)
        assert MARKER.encode() not in body, target


def test_a_listed_download_still_works(served, dist_dir) -> None:
    """The refusals above are not a refusal of everything."""
    status, body = raw_get(served, "/download/SHA256SUMS")
    assert status == 200
    assert body == (dist_dir / "SHA256SUMS").read_bytes()
