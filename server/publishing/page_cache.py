"""Rendered pages of the served build, kept so that a page asked again is not rendered again: the
pages for people (``server.pages``) and the served documents (VoID, ontology, shapes, report).

The server holds one immutable build at a time, so a page's bytes depend only on the build, the
path, the query arguments, the language, the negotiated media type and the URL the server answers
under (``public_base``: links are absolute). Those make the key; the value is what the view
returned: status, headers and body. Only successful answers (200) are kept: a 4xx costs little to
render, and keeping them would let anyone evict useful pages by asking for nonsense URLs.

Bounded by bytes (``KIK_PAGE_CACHE_MB``; 0 turns it off), least recently used first out. Entries
of an older build are dropped as soon as a newer build's page is kept, and a page rendered while
a swap happened is not kept at all (like ``page_data.memo``). Identical requests arriving together
render once: the others wait for that answer (at 400 municipalities a page costs 10–70 ms of CPU,
and a crowd of clients asking for the same list would otherwise each render it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Flask, Response, current_app

EXTENSION = "kik.pages.responses"
OVERHEAD = 512  # bytes counted per entry beyond body, headers and key (dict slot, tuples, objects)


@dataclass(frozen=True)
class Page:
    """One kept answer, as the view returned it (before the app's after-request headers)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    size: int

    def response(self) -> Response:
        return Response(self.body, status=self.status, headers=list(self.headers))


@dataclass
class _Render:
    """The lock that makes identical requests render once, and how many requests hold or wait for it."""

    lock: threading.Lock
    users: int = 0


class PageCache:
    """Pages of one build, least recently used out once ``limit`` bytes are exceeded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.build: Hashable | None = None
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._renders: dict[tuple, _Render] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, build: Hashable, key: tuple) -> Page | None:
        with self._lock:
            if build != self.build:
                return None
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, build: Hashable, key: tuple, page: Page) -> None:
        """Keep ``page`` for the served ``build``; any other build's pages go first."""
        if page.size > self.limit:
            return
        with self._lock:
            if build != self.build:
                self._pages.clear()
                self.size = 0
                self.build = build
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= old.size
            self._pages[key] = page
            self.size += page.size
            while self.size > self.limit:
                _, evicted = self._pages.popitem(last=False)
                self.size -= evicted.size

    def answer(self, build: Hashable, key: tuple, render: Callable[[], Page | None],
               still_served: Callable[[], bool]) -> Page | None:
        """The kept page for ``key``, else ``render()`` once for all requests asking at the same time.

        ``render`` returns ``None`` for an answer that is not kept (its caller sends it as it is);
        a page is kept only if ``still_served()`` says its build is still the served one."""
        page = self.get(build, key)
        if page is not None:
            return page
        full = (build, key)
        with self._lock:
            entry = self._renders.setdefault(full, _Render(threading.Lock()))
            entry.users += 1
        try:
            with entry.lock:
                page = self.get(build, key)
                if page is not None:
                    return page
                page = render()
                if page is not None and still_served():
                    self.put(build, key, page)
                return page
        finally:
            with self._lock:
                entry.users -= 1
                if entry.users == 0:
                    del self._renders[full]


def cache_for(app: Flask) -> PageCache:
    """The app's page cache (made on first use, sized by ``KIK_PAGE_CACHE_MB``)."""
    cache = app.extensions.get(EXTENSION)
    if cache is None:
        megabytes = float(app.config.get("KIK_PAGE_CACHE_MB") or 0)
        cache = app.extensions.setdefault(EXTENSION, PageCache(int(megabytes * 1_000_000)))
    return cache


def store_build(store) -> tuple:
    """The served build as ``page_data.memo`` names it: the store object and its build id."""
    return (id(store), (getattr(store, "build", None) or {}).get("build"))


def keep(key: tuple, response: Response) -> Page | None:
    """``response`` as a page to keep, or ``None`` when it must not be kept (not a plain 200)."""
    if response.status_code != 200 or response.is_streamed or response.direct_passthrough:
        return None
    body = response.get_data()
    headers = tuple((name, value) for name, value in response.headers.items())
    size = len(body) + sum(len(n) + len(v) for n, v in headers) + len(repr(key)) + OVERHEAD
    return Page(status=response.status_code, headers=headers, body=body, size=size)


def cached(key: tuple, render: Callable[[], Response]) -> Response:
    """The answer for ``key`` of the served build: kept, or rendered by ``render`` (and kept if it is a 200)."""
    app = current_app._get_current_object()
    cache = cache_for(app)
    if cache.limit <= 0:
        return render()
    store = app.extensions.get("kik.store")
    build = store_build(store)
    rendered: list[Response] = []

    def page() -> Page | None:
        response = render()
        rendered.append(response)
        return keep(key, response)

    found = cache.answer(build, key, page, lambda: app.extensions.get("kik.store") is store)
    if found is None:
        return rendered[0]
    return found.response()
