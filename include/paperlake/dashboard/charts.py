"""Daily series as inline SVG bar charts, drawn on the server (the page loads no script and no CDN)."""

from __future__ import annotations

from datetime import date
from html import escape


def series_svg(series: list[tuple[date, int]], width: int = 240, height: int = 48, axis: bool = False) -> str:
    """One bar per day scaled to the busiest day, a hover title each; `axis` adds the first/last date and the max."""
    top = max((n for _, n in series), default=0) or 1
    pad = 14 if axis else 0
    plot = height - pad
    slot = width / max(len(series), 1)
    bars = "".join(
        f'<rect x="{i * slot:.1f}" y="{plot - n / top * (plot - 1):.1f}" width="{max(slot - 1, 1):.1f}" '
        f'height="{n / top * (plot - 1):.1f}"><title>{day.isoformat()}: {n} paper{"s" if n != 1 else ""}</title></rect>'
        for i, (day, n) in enumerate(series) if n
    )
    labels = ""
    if axis and series:
        labels = (
            f'<text x="0" y="{height - 2}">{series[0][0].isoformat()}</text>'
            f'<text x="{width}" y="{height - 2}" text-anchor="end">{series[-1][0].isoformat()}</text>'
            f'<text x="{width / 2}" y="{height - 2}" text-anchor="middle">busiest day: {top}</text>'
        )
    total = sum(n for _, n in series)
    summary = f"{total} papers over {len(series)} days" if series else "no data"
    return (
        f'<svg class="series" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(summary)}</title>'
        f'<line x1="0" y1="{plot}" x2="{width}" y2="{plot}" class="baseline"/>{bars}{labels}</svg>'
    )
