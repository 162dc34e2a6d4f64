"""Profiles as seed 002 defines them: the set of grid cells (challenges) a measure addresses.

Plain data and pure functions (no Flask, no store), so the grid, the heat map, the SVG and the
comparison all share one meaning of "profile" and "similar".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    """One challenge at its place in the grid (positions come from the data)."""

    iri: str
    index: int
    row: int
    column: int
    label: str


@dataclass(frozen=True)
class Grid:
    """A municipality's challenge grid: rows × columns of cells."""

    iri: str
    rows: int
    columns: int
    cells: tuple[Cell, ...] = field(default_factory=tuple)
    label: str = ""

    def table(self) -> list[list[Cell | None]]:
        """Rows of cells in grid order; ``None`` where the data leaves a position empty."""
        rows: list[list[Cell | None]] = [[None] * self.columns for _ in range(self.rows)]
        for cell in self.cells:
            if 1 <= cell.row <= self.rows and 1 <= cell.column <= self.columns:
                rows[cell.row - 1][cell.column - 1] = cell
        return rows

    def cell(self, iri: str) -> Cell | None:
        return next((c for c in self.cells if c.iri == iri), None)

    def ordered(self, iris: Iterable[str]) -> list[Cell]:
        """The given challenges as cells, by index (unknown IRIs dropped)."""
        wanted = set(iris)
        return [c for c in sorted(self.cells, key=lambda c: c.index) if c.iri in wanted]


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float | None:
    """Shared over all challenges of two profiles; ``None`` when a profile is unknown (empty set)."""
    if not a or not b:
        return None
    return len(a & b) / len(a | b)


def most_similar(
    target: str, profiles: Mapping[str, frozenset[str]], limit: int = 5
) -> list[tuple[str, float]]:
    """Other measures by Jaccard similarity to ``target`` (ties by IRI), only those sharing a cell."""
    mine = profiles.get(target, frozenset())
    scored = []
    for other, theirs in profiles.items():
        if other == target:
            continue
        score = jaccard(mine, theirs)
        if score:
            scored.append((other, score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]


def heat_levels(counts: dict[str, int], grid: Grid, top: int | None = None) -> dict[str, int]:
    """0–4 shade per cell relative to the busiest challenge (0 = no measure); ``top`` sets a shared scale."""
    if top is None:
        top = max((counts.get(c.iri, 0) for c in grid.cells), default=0)
    return {c.iri: (0 if not counts.get(c.iri) else 1 + min(3, (counts[c.iri] - 1) * 4 // max(top, 1)))
            for c in grid.cells}
