"""Which build is served, and the switch to a newer one.

``kg build`` swaps the ``dist`` link only when a build is complete and valid. The server notices the
new target (checked at most once a second, on requests), loads it completely beside the old one and
only then serves it; if loading fails, the old build keeps serving. Several server processes each
notice the swap on their own, so no signal has to reach every worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from server.store.embedded import EmbeddedStore
from server.store.interface import DistUnavailable

log = logging.getLogger(__name__)
CHECK_INTERVAL = 1.0


class Publication:
    """The served build of one ``dist`` link."""

    def __init__(self, app: Flask, dist: Path, on_swap: Callable[[Flask], None]) -> None:
        self.app = app
        self.dist = dist
        self.target = os.path.realpath(dist)
        self.failed_target: str | None = None
        self.on_swap = on_swap
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> bool:
        """Serve a newer complete build if the link moved; True when a swap happened."""
        now = time.monotonic()
        if not force and now - self._checked < CHECK_INTERVAL:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # another thread is loading it already
        try:
            self._checked = now
            target = os.path.realpath(self.dist)
            if target in (self.target, self.failed_target):
                return False
            try:
                store = EmbeddedStore.from_dist(Path(target))
            except DistUnavailable as error:
                self.failed_target = target
                log.error("new build %s not loaded, still serving %s: %s", target, self.target, error)
                return False
            self.app.extensions["kik.store"] = store
            self.target = target
            self.on_swap(self.app)
            log.info("now serving build %s", store.build.get("build"))
            return True
        finally:
            self._lock.release()
