"""The build's files at /download/<file>: dumps, gzip copies, checksums, manifest, reports.

Only names listed in the served build.json (plus build.json and SHA256SUMS) are served, so no
path a client sends can reach another file. werkzeug's ``send_file`` does conditional GET, HEAD
and ranges; the ETag is the file's SHA-256 from the manifest, Last-Modified the build time.
"""

from __future__ import annotations

import base64

from flask import Blueprint, render_template, send_file

from kg.export import sha256
from server import build_info
from server.errors import problem
from server.iri import public_base

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
    ".gz": "application/gzip",
    "SHA256SUMS": "text/plain",
}


def media_type(name: str) -> str:
    """The Content-Type of a dist file; gzip copies are files of their own (no Content-Encoding)."""
    for suffix, kind in MEDIA_TYPES.items():
        if name.endswith(suffix):
            return kind
    return "application/octet-stream"


def published() -> dict[str, dict]:
    """Every file a client may download, with bytes and sha256 where the manifest has them."""
    listed = build_info.files()
    folder = build_info.dist_dir()
    for name in MANIFESTS:
        if (folder / name).is_file():
            listed.setdefault(name, {"bytes": (folder / name).stat().st_size})
    return {name: info for name, info in listed.items() if "/" not in name and (folder / name).is_file()}


def download_url(name: str) -> str:
    """The public URL of a dist file (what the catalog and VoID publish)."""
    return f"{public_base()}download/{name}"


@bp.get("/download/")
def index():
    """A page listing every file with its size and checksum (and SHA256SUMS beside them)."""
    files = published()
    return render_template("ld/downloads.html", files=sorted(files.items()), build=build_info.build(),
                           built=build_info.build_time(), url=download_url)


@bp.get("/download/<path:name>")
def download(name: str):
    files = published()
    if name not in files:
        return problem(404, "Datei nicht gefunden / file not found",
                       f"Der Build enthält keine Datei „{name}“. Die Liste steht unter /download/.",
                       f"The build has no file '{name}'. See /download/ for the list.")
    path = build_info.dist_dir() / name
    etag = files[name].get("sha256") or sha256(path)
    response = send_file(path, mimetype=media_type(name), conditional=True, etag=etag,
                         last_modified=build_info.build_time(), max_age=300)
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(etag)).decode()}:"
    return response


