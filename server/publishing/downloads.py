"""The build's files at /download/<file>: dumps, gzip copies, checksums, manifest, reports.

Only names listed in the served build.json (plus build.json and SHA256SUMS) are served, so no
path a client sends can reach another file. werkzeug does conditional GET, HEAD and ranges; the
ETag is the file's SHA-256 from the manifest, Last-Modified the build time.

A request for a small file costs far more than sending it, so what a build folder's files are
(names, paths, checksums, headers) is worked out once per served build, and files up to
``MEMORY_FILE_BYTES`` are kept in memory (handed to the WSGI server's file wrapper without a
copy). Both belong to one build folder (its real path and its manifest): a build swap starts
afresh, and every request still checks the file on disk (gone → 404, changed → read again).
"""

from __future__ import annotations

import base64
import io
import os
import stat as stat_mode
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import dump_options_header, http_date, quote_etag
from werkzeug.utils import get_content_type
from werkzeug.wsgi import wrap_file

from kg.export import sha256
from server.publishing import build_info
from server.errors import problem
from server.publishing.iri import public_base

bp = Blueprint("downloads", __name__)

MANIFESTS = ("build.json", "SHA256SUMS")
MEDIA_TYPES: dict[str, str] = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".rdf": "application/rdf+xml",
    ".jsonld": "application/ld+json",
    ".json": "application/json",
    ".csv": "text/csv",
    ".gz": "application/gzip",
    "SHA256SUMS": "text/plain",
}
MAX_AGE = 300
# files up to this size are served from memory; all of one build's together at most MEMORY_TOTAL_BYTES
MEMORY_FILE_BYTES = 8 << 20
MEMORY_TOTAL_BYTES = 64 << 20
LISTING = "kik.downloads"  # app.extensions key of the served build's Listing


def media_type(name: str) -> str:
    """The Content-Type of a dist file; gzip copies are files of their own (no Content-Encoding)."""
    for suffix, kind in MEDIA_TYPES.items():
        if name.endswith(suffix):
            return kind
    return "application/octet-stream"


def _stamp(status: os.stat_result) -> tuple[int, int, int]:
    """What tells one version of a file from another without reading it."""
    return status.st_ino, status.st_size, status.st_mtime_ns


class Published:
    """One downloadable file of a build and the headers of its answer that are fixed for that build
    (what ``send_file`` would set, made once: werkzeug's header setters cost more than the sending)."""

    __slots__ = ("etag", "headers", "info", "name", "path")

    def __init__(self, folder: Path, name: str, info: dict, built: datetime) -> None:
        self.name = name
        self.path = str(folder / name)
        self.info = info  # as listed: bytes, sha256 where the manifest has it
        self.etag = info.get("sha256") or sha256(Path(self.path))
        digest = base64.b64encode(bytes.fromhex(self.etag)).decode()
        self.headers = [
            ("Content-Type", get_content_type(media_type(name), "utf-8")),
            ("Content-Disposition", dump_options_header("inline", {"filename": name})),
            ("Last-Modified", http_date(built)),
            ("Cache-Control", f"public, max-age={MAX_AGE}"),
            ("ETag", quote_etag(self.etag)),
            ("Repr-Digest", f"sha-256=:{digest}:"),
        ]


class Listing:
    """The files of one served build (its folder and manifest), with the small ones in memory."""

    def __init__(self, folder: Path, build: dict, built: datetime) -> None:
        self.folder = folder
        self.build = build  # the manifest object this listing was made from (identity is the key)
        self.built = built
        listed = dict(build.get("files") or {})
        for name in MANIFESTS:
            if (folder / name).is_file():
                listed.setdefault(name, {"bytes": (folder / name).stat().st_size})
        # whether a file is there is asked on each request (a file missing now is a 404, not a 500)
        self.files = {name: Published(folder, name, info, built) for name, info in listed.items()
                      if "/" not in name and (info.get("sha256") or (folder / name).is_file())}
        self._memory: dict[str, tuple[tuple[int, int, int], bytes]] = {}
        self._held = 0
        self._lock = threading.Lock()

    def serves(self, folder: Path, build: dict) -> bool:
        return self.build is build and self.folder == folder

    def open(self, entry: Published, status: os.stat_result) -> tuple[BinaryIO, int]:
        """The file's content as a stream and its size: from memory when the file on disk is
        the one kept (same inode, size and mtime), else read (and kept when small enough)."""
        stamp = _stamp(status)
        kept = self._memory.get(entry.name)
        if kept is not None and kept[0] == stamp:
            return io.BytesIO(kept[1]), len(kept[1])  # shares the bytes: no copy
        stream = open(entry.path, "rb")  # noqa: SIM115 -- a big file's stream is closed by the response
        opened = os.fstat(stream.fileno())
        if opened.st_size > MEMORY_FILE_BYTES:
            return stream, opened.st_size
        with stream:
            data = stream.read()
        if len(data) == opened.st_size and _stamp(opened) == stamp:
            self._keep(entry.name, stamp, data)
        return io.BytesIO(data), len(data)

    def _keep(self, name: str, stamp: tuple[int, int, int], data: bytes) -> None:
        with self._lock:
            previous = self._memory.get(name)
            held = self._held - (len(previous[1]) if previous else 0)
            if held + len(data) <= MEMORY_TOTAL_BYTES:
                self._memory[name] = (stamp, data)
                self._held = held + len(data)

    def kept(self) -> dict[str, int]:
        """Names and sizes of the files held in memory (for tests and operators)."""
        return {name: len(data) for name, (_, data) in self._memory.items()}


def listing() -> Listing:
    """The served build's listing, made on the first request after start or a build swap."""
    folder, build = build_info.dist_dir(), build_info.build()
    current: Listing | None = current_app.extensions.get(LISTING)
    if current is None or not current.serves(folder, build):
        current = Listing(folder, build, build_info.build_time(build))
        current_app.extensions[LISTING] = current
    return current


def published() -> dict[str, dict]:
    """Every file a client may download, with bytes and sha256 where the manifest has them."""
    return {name: dict(entry.info) for name, entry in listing().files.items() if os.path.isfile(entry.path)}


def download_url(name: str) -> str:
    """The public URL of a dist file (what the catalog and VoID publish)."""
    return f"{public_base()}download/{name}"


@bp.get("/download/")
def index():
    """A page listing every file with its size and checksum (and SHA256SUMS beside them)."""
    files = published()
    return render_template("ld/downloads.html", files=sorted(files.items()), build=build_info.build(),
                           built=build_info.build_time(), url=download_url)


_expires_at: tuple[int, str] = (0, "")


def _expires() -> str:
    """The Expires date (now + MAX_AGE), formatted once a second."""
    global _expires_at
    now = int(time.time())
    if _expires_at[0] != now:
        _expires_at = (now, http_date(now + MAX_AGE))
    return _expires_at[1]


def _on_disk(entry: Published | None) -> os.stat_result | None:
    if entry is None:
        return None
    try:
        status = os.stat(entry.path)
    except OSError:
        return None
    return status if stat_mode.S_ISREG(status.st_mode) else None


@bp.get("/download/<path:name>")
def download(name: str):
    """The file with what werkzeug's ``send_file`` would answer (conditional, ranges, caching),
    its body from memory or disk."""
    files = listing()
    entry = files.files.get(name)
    status = _on_disk(entry)
    if entry is None or status is None:
        return problem(404, "Datei nicht gefunden / file not found",
                       f"Der Build enthält keine Datei „{name}“. Die Liste steht unter /download/.",
                       f"The build has no file '{name}'. See /download/ for the list.")
    body, size = files.open(entry, status)
    headers = [*entry.headers, ("Content-Length", str(size)), ("Expires", _expires())]
    response = Response(wrap_file(request.environ, body), headers=headers, direct_passthrough=True)
    try:
        return response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        body.close()
        raise
