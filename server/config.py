"""Server settings: defaults, overridden by ``KIK_*`` environment variables, then by the caller.

Values that differ between localhost, staging and production live here, never in views.
"""

from __future__ import annotations

import os
from typing import Any

from kg.namespace import DATASET_BASE

# the contact address a deployment must replace; while it is in use, create_app logs a warning
PLACEHOLDER_CONTACT = "mailto:kontakt@example.org"

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
    # seconds a query waits for a free worker before the endpoint answers 503 "busy"
    "KIK_QUERY_QUEUE_SECONDS": 2.0,
    # memory for answers of repeated queries (per build and server process); 0 turns the cache off
    "KIK_RESULT_CACHE_MB": 64.0,
    # memory for rendered pages (server/publishing/page_cache.py; per build and server process); 0 turns it off
    "KIK_PAGE_CACHE_MB": 32.0,
    "KIK_MAX_QUERY_BYTES": 100_000,
    # publisher facts for the catalog (DCAT-AP.de); values from here and the data, not from code
    "KIK_PUBLISHER_NAME": "Projekt Kommunale Integrationskonzepte als Linked Data",
    "KIK_CONTACT_EMAIL": PLACEHOLDER_CONTACT,  # set a real address before a portal harvests (the server warns)
    "KIK_LICENSE": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
    # more catalog facts (server/catalog.py reads only these and the data); lists are space-separated
    "KIK_LICENSE_ATTRIBUTION": "Projekt Kommunale Integrationskonzepte als Linked Data (Quellen je Aussage im Graphen)",
    "KIK_PUBLISHER_TYPE": "http://purl.org/adms/publishertype/NonProfitOrganisation",
    "KIK_PUBLISHER_HOMEPAGE": "",
    "KIK_CONTACT_NAME": "Projekt Kommunale Integrationskonzepte als Linked Data",
    "KIK_THEMES": "SOCI GOVE",
    "KIK_LANGUAGES": "DEU ENG",
    "KIK_ACCRUAL_PERIODICITY": "IRREG",
    "KIK_KEYWORDS": "Integration;Integrationskonzept;Kommunales Integrationsmanagement;Migration;Linked Data;Wissensgraph",
    "KIK_CATALOG_TITLE_DE": "Kommunale Integrationskonzepte als Linked Data",
    "KIK_CATALOG_TITLE_EN": "Municipal integration concepts as linked data",
    "KIK_CATALOG_DESCRIPTION_DE": "Katalog der offenen Daten des Projekts: der Wissensgraph kommunaler Integrationskonzepte und sein SPARQL-Endpunkt.",
    "KIK_CATALOG_DESCRIPTION_EN": "Catalogue of the project's open data: the knowledge graph of municipal integration concepts and its SPARQL endpoint.",
    # /catalog: datasets per page (hydra:PagedCollection beyond that), and whether concepts marked
    # fictional (datensatz.toml ``fictional = true``) are listed; then their titles say they are fictional
    "KIK_CATALOG_PAGE_SIZE": 100,
    "KIK_CATALOG_INCLUDE_FICTIONAL": False,
    # path of the SPARQL endpoint below the public base (served by server/sparql.py)
    "KIK_SPARQL_PATH": "sparql",
    # external SPARQL 1.1 store (docs/external-store.md); empty query URL = the embedded store
    "KIK_STORE_QUERY_URL": "",
    "KIK_STORE_GSP_URL": "",  # Graph Store Protocol endpoint, used by `kg push`
    "KIK_STORE_USER": "",
    "KIK_STORE_PASSWORD": "",
    "KIK_STORE_AUTH": "basic",  # or "digest" (Virtuoso)
    # /vorlage/<id>.xlsx: the measures workbook of a data folder the served build was made from (1 = on)
    "KIK_TEMPLATE_DOWNLOAD": 1,
    # /pruefen: upload a measures table and see what `kg build` would say (off unless 1; docs/sources.md)
    "KIK_CHECK_PAGE": 0,
    "KIK_CHECK_MAX_UPLOAD_BYTES": 5_000_000,  # the uploaded file as sent
    "KIK_CHECK_MAX_UNPACKED_BYTES": 20_000_000,  # an .xlsx/.ods unpacked (zip bombs), checked before parsing
    "KIK_CHECK_MAX_ROWS": 5_000,  # rows with values in the measures sheet or CSV
    "KIK_CHECK_TIMEOUT": 60.0,  # seconds for one check (reading, LibreOffice for .ods, SHACL); then 422
    "KIK_CHECK_CONCURRENT": 2,  # checks at the same time (each in a process of its own); more wait briefly, then 503
}

NUMBERS = {"KIK_CATALOG_PAGE_SIZE": int, "KIK_QUERY_TIMEOUT": float, "KIK_QUERY_QUEUE_SECONDS": float, "KIK_RESULT_CACHE_MB": float, "KIK_PAGE_CACHE_MB": float, "KIK_MAX_RESULT_ROWS": int, "KIK_MAX_CONCURRENT_QUERIES": int, "KIK_MAX_QUERY_BYTES": int,
           "KIK_TEMPLATE_DOWNLOAD": int, "KIK_CHECK_PAGE": int, "KIK_CHECK_MAX_UPLOAD_BYTES": int,
           "KIK_CHECK_MAX_UNPACKED_BYTES": int, "KIK_CHECK_MAX_ROWS": int, "KIK_CHECK_TIMEOUT": float,
           "KIK_CHECK_CONCURRENT": int}


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults ← environment ← overrides, with numbers converted."""
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        if key in os.environ:
            settings[key] = os.environ[key]
    settings.update(overrides or {})
    for key, kind in NUMBERS.items():
        settings[key] = kind(settings[key])
    for key in FLAGS:
        settings[key] = flag(settings[key])
    return settings


FLAGS = ("KIK_CATALOG_INCLUDE_FICTIONAL",)


def flag(value: Any) -> bool:
    """A yes/no setting: ``1``, ``true``, ``yes``, ``on`` (any case) are yes, anything else no."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "ja")
