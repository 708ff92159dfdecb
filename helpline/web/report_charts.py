"""Bar charts drawn on the server as SVG: no script, no font and no style attribute, so the page's CSP holds.

Colours and type come from the console's stylesheet (classes ``chart-*``). A chart is a picture only
(``aria-hidden``): the page puts the same figures in a table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
COLUMN_HEIGHT = 200
MARGIN_LEFT = 40
MARGIN_BOTTOM = 28
MARGIN_TOP = 12
ROW_HEIGHT = 26
LABEL_WIDTH = 220


def columns(items: Sequence[tuple[str, int]], *, label_every: int = 1) -> str:
    """Vertical bars, one per item, left to right; every ``label_every``-th item is labelled underneath."""
    top = max((value for _, value in items), default=0)
    plot_width = WIDTH - MARGIN_LEFT - 8
    slot = plot_width / max(1, len(items))
    bar = max(1.0, slot * 0.8)
    height = COLUMN_HEIGHT + MARGIN_TOP + MARGIN_BOTTOM
    base = MARGIN_TOP + COLUMN_HEIGHT
    parts = [
        _open(WIDTH, height),
        f'<line class="chart-axis" x1="{MARGIN_LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}"/>',
        f'<text class="chart-tick" x="{MARGIN_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text class="chart-tick" x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 10}" text-anchor="end">{top}</text>',
    ]
    for index, (label, value) in enumerate(items):
        x = MARGIN_LEFT + index * slot + (slot - bar) / 2
        size = 0.0 if top == 0 else COLUMN_HEIGHT * value / top
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{base - size:.1f}" width="{bar:.1f}" height="{size:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text class="chart-label" x="{x + bar / 2:.1f}" y="{base + 18}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def rows(items: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars, one row per item, labelled on the left with the count at the end of the bar."""
    top = max((value for _, value in items), default=0)
    plot_width = WIDTH - LABEL_WIDTH - 48
    height = ROW_HEIGHT * max(1, len(items)) + 8
    parts = [_open(WIDTH, height)]
    for index, (label, value) in enumerate(items):
        y = 4 + index * ROW_HEIGHT
        size = 0.0 if top == 0 else plot_width * value / top
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{size:.1f}" height="{ROW_HEIGHT - 8}">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text class="chart-value" x="{LABEL_WIDTH + size + 6:.1f}" y="{y + 17}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" aria-hidden="true" focusable="false">'
    )
