"""The WSGI entry point for production servers: ``waitress-serve server.wsgi:app``,
``gunicorn server.wsgi:app``.

A server must not start half-working: when the build cannot be loaded, this says why in one line
and exits with status 3, which gunicorn reads as "worker failed to boot" and stops instead of
starting the worker again and again. ``create_app`` itself raises, for callers that handle it.
"""

from __future__ import annotations

import sys

from server import create_app
from server.store.interface import DistUnavailable

EXIT_UNUSABLE_BUILD = 3  # gunicorn's WORKER_BOOT_ERROR

try:
    app = create_app({"KIK_WARM_PAGES": True})  # page data computed at start, not by the first visitors
except DistUnavailable as error:
    print(f"kik: {error}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_UNUSABLE_BUILD) from None
