"""What the rest of the server may expect of a store, whichever store it is."""

from __future__ import annotations

from typing import Protocol

import pyoxigraph as ox


class Store(Protocol):
    """What the server needs from a triple store: trusted, quick reads."""

    build: dict

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]: ...

    def ask(self, query: str) -> bool: ...

    def construct(self, query: str) -> list[ox.Triple]: ...


class DistUnavailable(RuntimeError):
    """dist/ is missing or unreadable: the server must not start half-working (``server.wsgi``
    and ``kg serve`` turn it into one line and a non-zero exit)."""


class QueryTimeout(Exception):
    """The query ran past the time limit (its worker was killed, or the external store took too long)."""
