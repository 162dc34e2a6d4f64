"""Mapping between dataset IRIs and this server's URLs.

The data always says ``https://w3id.org/kik/…``; the server answers for those IRIs under its own
public URL (localhost, staging, production) without rewriting strings in the data.
"""

from __future__ import annotations

from flask import current_app, request


def public_base() -> str:
    """The URL that stands for the dataset base: configured, or the one the request came in on."""
    configured = current_app.config.get("KIK_PUBLIC_BASE") or ""
    return configured if configured else request.host_url


def dataset_base() -> str:
    return current_app.config["KIK_DATASET_BASE"]


def to_local(iri: str) -> str:
    """A dataset IRI as a URL on this server; any other IRI unchanged."""
    base = dataset_base()
    if iri.startswith(base):
        return public_base() + iri[len(base):]
    return iri


def to_dataset(path: str) -> str:
    """The dataset IRI for a request path such as ``hamm/konzept/2018``."""
    return dataset_base() + path.lstrip("/")
