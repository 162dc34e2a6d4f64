"""The Flask app factory: one store, one blueprint per job (SPARQL, linked data, pages)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify

from server import config, security
from server.store.external import ExternalStore, StoreSettings, StoreUnavailable
from server.store.publication import Publication
from server.store import get_store
from server.store.embedded import EmbeddedStore


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app for one dist/; fails at start (not per request) when the build is unusable."""
    app = Flask(__name__)
    app.config.update(config.load(overrides))
    injected = app.config.get("KIK_STORE_INSTANCE")
    dist = Path(app.config["KIK_DIST"])
    external = injected is None and StoreSettings.from_config(app.config) is not None
    if injected is not None:
        app.extensions["kik.store"] = injected
    elif external:
        app.extensions["kik.store"] = ExternalStore.from_config(app.config)
    else:
        app.extensions["kik.store"] = EmbeddedStore.from_dist(dist)

    from server.publishing import dereference as linked_data
    from server.pages import views as pages
    from server.sparql import endpoint as sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(pages.bp)
    from server.pages import check as measures_check  # the workbook to fill in; /pruefen only when switched on

    if app.config["KIK_TEMPLATE_DOWNLOAD"]:
        app.register_blueprint(measures_check.template_bp)
    if app.config["KIK_CHECK_PAGE"]:
        app.register_blueprint(measures_check.bp)
    security.init_app(app)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable):
        """The external store is down: say so with a 503, not a 500."""
        return Response(f"Der SPARQL-Speicher antwortet nicht / the SPARQL store does not answer: {error}\n",
                        status=503, mimetype="text/plain", headers={"Retry-After": "5"})

    if injected is None and not external:  # an external store's build.json follows the dist link itself
        publication = Publication(app, dist, on_swap=sparql.retire_runner)
        app.extensions["kik.publication"] = publication

        @app.before_request
        def serve_newest_build() -> None:
            publication.refresh()

    # after the store loaded: a server that cannot start says only why (one line)
    if app.config["KIK_CONTACT_EMAIL"] == config.PLACEHOLDER_CONTACT and not app.testing:
        logging.getLogger(__name__).warning(
            "KIK_CONTACT_EMAIL is the placeholder %s: the catalog (/catalog) publishes it as the contact "
            "point until you set a real address (docs/catalog.md).", config.PLACEHOLDER_CONTACT)

    @app.get("/health")
    def health():
        """Which build is served, so operators and load balancers can check a swap."""
        build = get_store().build
        return jsonify(status="ok", build=build.get("build"), triples=build.get("triples"))

    return app
