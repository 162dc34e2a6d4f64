"""The stores: where the graph is read from, and how a new build takes the served one's place.

Entry points: ``interface.Store`` (what views may ask of any store), ``embedded.EmbeddedStore``
(pyoxigraph over ``dist/``, the default), ``external.ExternalStore`` (a SPARQL 1.1 store over HTTP),
``publication.Publication`` (the swap to a newer build), and ``get_store()`` for the running app.
Imports no other package of ``server``.
"""

from __future__ import annotations

from flask import current_app


def get_store():
    """The store of the running app (for views)."""
    return current_app.extensions["kik.store"]
