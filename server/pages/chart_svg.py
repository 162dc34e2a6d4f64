"""A small server-rendered line chart of one dated figure over time (no script, reads without colour).

Each point carries its value as text, so the chart needs neither hover nor colour to be read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape


def line_chart(
    points: Sequence[tuple[date, float]],
    title: str,
    description: str,
    number: Callable[[float], str],
    width: int = 320,
    height: int = 170,
) -> Markup:
    """Dated values as a line with labelled points; a single point is drawn as a labelled dot."""
    ordered = sorted(points)
    left, right, top, bottom = 30, 30, 26, 28
    inner_w, inner_h = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}. {escape(description)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" y2="{top + inner_h}" stroke="#1a1a1a"/>',
    ]
    if ordered:
        days = [d.toordinal() for d, _ in ordered]
        values = [v for _, v in ordered]
        low, high = min(values), max(values)
        span_v = (high - low) or abs(high) or 1.0
        low -= span_v * 0.1
        high += span_v * 0.1
        first, last = min(days), max(days)
        span_d = (last - first) or 1

        def xy(day: int, value: float) -> tuple[float, float]:
            x = left + inner_w / 2 if last == first else left + (day - first) / span_d * inner_w
            y = top + inner_h - (value - low) / (high - low) * inner_h
            return round(x, 1), round(y, 1)

        coords = [xy(d, v) for d, v in zip(days, values)]
        if len(coords) > 1:
            path = " ".join(f"{x},{y}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79" stroke-width="2"/>')
        for (x, y), (day, value) in zip(coords, ordered):
            parts.append(f'<circle cx="{x}" cy="{y}" r="3.5" fill="#1f4e79"/>')
            parts.append(
                f'<text x="{x}" y="{y - 8}" text-anchor="middle" font-family="sans-serif" font-size="11" '
                f'fill="#000">{escape(number(value))}</text>'
            )
            parts.append(
                f'<text x="{x}" y="{top + inner_h + 16}" text-anchor="middle" font-family="sans-serif" '
                f'font-size="11" fill="#000">{day.year}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
