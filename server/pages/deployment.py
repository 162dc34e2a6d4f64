"""The deployment as a whole, for pages that must stay small with hundreds of municipalities.

Everything here is computed once per build (``page_data.memo``): a stable short path per
municipality (``/kommune/<slug>``), the number of measures per concept, the heat map aggregated
over every current concept, and a search over the municipality list. Pages then only slice.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from server.pages import page_data
from server.pages.page_data import Municipality, memo
from server.pages.profiles import Cell, Grid
from server.publishing.iri import dataset_base
from server.store.interface import Store

PAGE_SIZE = 50
FICTIONAL_MARKERS = (" (fiktiv)", " (fictional)")


def challenge_key(cell: Cell) -> tuple[int, str]:
    """What makes challenges of two grids comparable: the same number and the same name.

    Within one grid this is one cell; across municipalities (each with its own challenge IRIs) it
    pairs cells only where the grids agree, so nothing is equated that the grids name differently.
    """
    label = cell.label
    for marker in FICTIONAL_MARKERS:
        label = label.removesuffix(marker)
    return cell.index, " ".join(label.split()).casefold()


# ---------------------------------------------------------------------------------------------
# one short path per municipality


@dataclass(frozen=True)
class Directory:
    by_slug: dict[str, Municipality]
    slug_of: dict[str, str]  # municipality IRI → slug


def _candidate(iri: str) -> str:
    base = dataset_base()
    path = iri[len(base):] if iri.startswith(base) else iri.split("://", 1)[-1]
    path = path.strip("/")
    return path.removesuffix("/stadt") or path


def directory(store: Store, lang: str) -> Directory:
    """``hamm``, ``fiktiv/musterstadt``, ``fiktiv/gen-0001``: the IRI's path without ``/stadt``
    (the whole path where two municipalities would share one)."""
    def compute() -> Directory:
        everyone = page_data.municipalities(store, lang)
        wanted: dict[str, list[Municipality]] = {}
        for m in everyone:
            wanted.setdefault(_candidate(m.iri), []).append(m)
        by_slug: dict[str, Municipality] = {}
        for slug, group in wanted.items():
            for m in group:
                key = slug if len(group) == 1 else _candidate(m.iri + "/x").removesuffix("/x")
                by_slug[key] = m
        return Directory(by_slug=by_slug, slug_of={m.iri: s for s, m in by_slug.items()})
    return memo(store, ("directory", lang), compute)


# ---------------------------------------------------------------------------------------------
# measures per concept, counts per challenge for a few cells


def measures_per_concept(store: Store) -> dict[str, int]:
    """Recorded measures of each concept version (written by the build, else one grouped query)."""
    return page_data.summary(store, "measures_per_concept")


# ---------------------------------------------------------------------------------------------
# the heat map over every current concept


@dataclass(frozen=True)
class SharedCell:
    key: tuple[int, str]
    cell: Cell  # position and name (from the first grid that has it)
    concepts: int  # current concepts with this challenge in their grid
    addressed: int  # … of which at least one measure addresses it
    median: float  # median number of measures per concept
    level: int  # 0–4 shade, relative to the most addressed cell


@dataclass(frozen=True)
class Heat:
    grid: Grid | None  # the layout shown (cells of the most common grid)
    cells: dict[str, SharedCell]  # by the shown cell's IRI
    others: list[SharedCell]  # challenges of grids that the shown layout does not have
    concepts: int  # current concepts with a grid and recorded measures
    unrecorded: int  # current concepts with a grid but no recorded measure (not counted above)


def heat(store: Store, lang: str) -> Heat:
    """How many concepts address each challenge, and the median number of measures per cell."""
    return memo(store, ("heat", lang), lambda: _heat(store, lang))


def _heat(store: Store, lang: str) -> Heat:
    grids = page_data.grids(store, lang)
    counts = page_data.challenge_counts(store)
    recorded = measures_per_concept(store)
    per_key: dict[tuple[int, str], list[int]] = {}
    first: dict[tuple[int, str], Cell] = {}
    layouts: dict[frozenset, list[Grid]] = {}
    with_grid = unrecorded = 0
    for m in page_data.municipalities(store, lang):
        grid = grids.by_iri.get(grids.by_concept.get(m.current.iri, ""))
        if grid is None:
            continue
        if not recorded.get(m.current.iri):  # "no measure recorded" is not "no measure"
            unrecorded += 1
            continue
        with_grid += 1
        keys = frozenset(challenge_key(c) for c in grid.cells)
        layouts.setdefault(keys, []).append(grid)
        for cell in grid.cells:
            key = challenge_key(cell)
            per_key.setdefault(key, []).append(counts.get(cell.iri, 0))
            first.setdefault(key, cell)
    if not layouts:
        return Heat(grid=None, cells={}, others=[], concepts=0, unrecorded=unrecorded)
    common = max(layouts.values(), key=len)[0]
    top = max((sum(1 for n in ns if n) for ns in per_key.values()), default=0)

    def shared(key: tuple[int, str], cell: Cell) -> SharedCell:
        numbers = per_key[key]
        addressed = sum(1 for n in numbers if n)
        level = 0 if not addressed else 1 + min(3, (addressed - 1) * 4 // max(top, 1))
        return SharedCell(key=key, cell=cell, concepts=len(numbers), addressed=addressed,
                          median=statistics.median(numbers), level=level)

    cells = {c.iri: shared(challenge_key(c), c) for c in common.cells}
    shown = {challenge_key(c) for c in common.cells}
    others = [shared(k, first[k]) for k in sorted(per_key) if k not in shown]
    return Heat(grid=common, cells=cells, others=others, concepts=with_grid, unrecorded=unrecorded)


# ---------------------------------------------------------------------------------------------
# the list of municipalities


@dataclass(frozen=True)
class Entry:
    municipality: Municipality
    slug: str
    measures: int
    report: dict | None


def entries(store: Store, lang: str) -> list[Entry]:
    """Every municipality with its current concept's numbers, in the landing page's order."""
    def compute() -> list[Entry]:
        slugs = directory(store, lang).slug_of
        counts = measures_per_concept(store)
        reports = page_data.completeness(store)
        return [Entry(municipality=m, slug=slugs[m.iri], measures=counts.get(m.current.iri, 0),
                      report=reports.get(m.current.iri)) for m in page_data.municipalities(store, lang)]
    return memo(store, ("entries", lang), compute)


def search(found: list[Entry], text: str) -> list[Entry]:
    """Entries whose municipality or concept name contains every word of ``text``."""
    words = text.casefold().split()
    if not words:
        return found
    return [e for e in found
            if all(w in f"{e.municipality.label} {e.municipality.current.label} {e.slug}".casefold() for w in words)]


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    start: int  # index of the first item shown
    size: int = PAGE_SIZE

    @property
    def stop(self) -> int:
        return min(self.total, self.start + self.size)


def page_of(total: int, requested: str | None, size: int = PAGE_SIZE) -> Page:
    """Page ``requested`` (1-based) of ``total`` items; ``ValueError`` with the reason when it is not one."""
    pages = max(1, math.ceil(total / size))
    try:
        number = int(requested) if requested not in (None, "") else 1
    except ValueError:
        raise ValueError(f"seite: a page number from 1 to {pages}, not {requested!r}") from None
    if not 1 <= number <= pages:
        raise ValueError(f"seite: a page number from 1 to {pages}, not {number}")
    return Page(number=number, pages=pages, total=total, start=(number - 1) * size, size=size)
