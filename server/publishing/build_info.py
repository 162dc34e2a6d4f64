"""Facts about the build being served: where its files are, when it was made, their checksums.

Downloads, the catalog and VoID all read these, so their dates, sizes and checksums agree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from flask import current_app


def store():
    return current_app.extensions["kik.store"]


def build() -> dict:
    """The served build's manifest (build.json as loaded with the store)."""
    return getattr(store(), "build", None) or {}


def dist_dir() -> Path:
    """The folder of the served build: the store's own (a later swap of ``dist`` does not mix builds)."""
    folder = getattr(store(), "dist", None)
    return Path(folder) if folder else Path(current_app.config["KIK_DIST"]).resolve()


def build_time(manifest: dict | None = None) -> datetime:
    """When the build was made: ``time`` in build.json, else the timestamp in its id, else build.json's mtime."""
    manifest = build() if manifest is None else manifest
    stated, build_id = manifest.get("time"), manifest.get("build")
    parsed = _parse_build_time(str(stated) if stated else None, str(build_id) if build_id else None)
    if parsed is not None:
        return parsed
    try:
        return datetime.fromtimestamp((dist_dir() / "build.json").stat().st_mtime, tz=timezone.utc)
    except OSError:
        return datetime.now(timezone.utc)


@lru_cache(maxsize=64)
def _parse_build_time(time: str | None, build_id: str | None) -> datetime | None:
    """The time a manifest states (cached: pages and downloads ask on every request)."""
    for value, pattern in ((time, None), (build_id, "%Y%m%dT%H%M%S%fZ")):
        if not value:
            continue
        try:
            parsed = datetime.strptime(value, pattern) if pattern else datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def triple_count() -> int | None:
    value = build().get("triples")
    return int(value) if value is not None else None
