"""A measure's profile drawn as seed 002 draws it: the grid with its indices, addressed cells grey.

Server-side SVG (no script), usable inline in pages and as a file for reports. Every text from the
data goes through ``markupsafe.escape``; the result is ``Markup`` only because of that.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from server.pages.profiles import Grid

FILLED = "#949494"  # grey as in seed 002; ≥3:1 against white, black text on it ≥4.5:1
EMPTY = "#ffffff"
STROKE = "#1a1a1a"
BOLD = ' font-weight="bold"'


def profile_svg(
    grid: Grid,
    addressed: Iterable[str],
    title: str,
    description: str,
    cell: int = 36,
    legend: bool = False,
    standalone: bool = False,
    hover: bool = True,
) -> Markup:
    """The grid with ``addressed`` cells filled; ``legend`` adds the challenge names below it."""
    chosen = set(addressed)
    gap = 2
    width = grid.columns * cell + gap * 2
    grid_height = grid.rows * cell + gap * 2
    legend_cells = grid.ordered(chosen) if legend else []
    line = 18
    height = grid_height + (len(legend_cells) * line + 12 if legend_cells else 0)
    if legend_cells:
        width = max(width, 560)
    font = max(9, cell // 3)
    parts = []
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts.append(
        f'<svg{namespace} class="profile" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}. {escape(description)}">'
    )
    parts.append(f"<title>{escape(title)}</title><desc>{escape(description)}</desc>")
    for cell_ in grid.cells:
        x = gap + (cell_.column - 1) * cell
        y = gap + (cell_.row - 1) * cell
        on = cell_.iri in chosen
        parts.append(
            f'<g class="cell{" on" if on else ""}" data-index="{cell_.index}">'
            + (f"<title>{cell_.index}: {escape(cell_.label)}</title>" if hover else "") +
            f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{FILLED if on else EMPTY}" '
            f'stroke="{STROKE}" stroke-width="1"/>'
            f'<text x="{x + cell / 2}" y="{y + cell / 2 + font / 3}" text-anchor="middle" '
            f'font-family="sans-serif" font-size="{font}" fill="#000"'
            f"{BOLD if on else ''}>{cell_.index}</text></g>"
        )
    for number, cell_ in enumerate(legend_cells):
        y = grid_height + 12 + number * line
        parts.append(
            f'<text x="{gap}" y="{y + 4}" font-family="sans-serif" font-size="13" fill="#000">'
            f"{cell_.index}: {escape(cell_.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def unknown_svg(title: str, text: str, standalone: bool = False) -> Markup:
    """An unknown profile says so in words; it is never drawn as an empty grid."""
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    return Markup(
        f'<svg{namespace} class="profile unknown" role="img" width="320" height="40" viewBox="0 0 320 40" '
        f'aria-label="{escape(title)}: {escape(text)}"><title>{escape(title)}</title>'
        f'<rect x="1" y="1" width="318" height="38" fill="#fff" stroke="#1a1a1a" stroke-dasharray="4 3"/>'
        f'<text x="160" y="25" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#000">'
        f"{escape(text)}</text></svg>"
    )
