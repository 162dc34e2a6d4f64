"""Server settings: defaults, overridden by ``KIK_*`` environment variables, then by the caller.

Values that differ between localhost, staging and production live here, never in views.
"""

from __future__ import annotations

import os
from typing import Any

from kg.namespace import DATASET_BASE

DEFAULTS: dict[str, Any] = {
    # where the build lives (the ``dist`` link written by ``kg build``)
    "KIK_DIST": "dist",
    # the IRI prefix of every dataset resource; the server answers for it under its own URL
    "KIK_DATASET_BASE": DATASET_BASE,
    # the public URL that stands for KIK_DATASET_BASE; empty = the URL the request came in on
    "KIK_PUBLIC_BASE": "",
    # SPARQL limits
    "KIK_QUERY_TIMEOUT": 10.0,
    "KIK_MAX_RESULT_ROWS": 100_000,
    "KIK_MAX_CONCURRENT_QUERIES": 4,
    "KIK_MAX_QUERY_BYTES": 100_000,
    # publisher facts for the catalog (DCAT-AP.de); values from here and the data, not from code
    "KIK_PUBLISHER_NAME": "Projekt Kommunale Integrationskonzepte als Linked Data",
    "KIK_CONTACT_EMAIL": "mailto:kontakt@example.org",
    "KIK_LICENSE": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
}

NUMBERS = {"KIK_QUERY_TIMEOUT": float, "KIK_MAX_RESULT_ROWS": int, "KIK_MAX_CONCURRENT_QUERIES": int, "KIK_MAX_QUERY_BYTES": int}


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults ← environment ← overrides, with numbers converted."""
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        if key in os.environ:
            settings[key] = os.environ[key]
    settings.update(overrides or {})
    for key, kind in NUMBERS.items():
        settings[key] = kind(settings[key])
    return settings
