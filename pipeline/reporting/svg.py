"""Small inline-SVG charts for report.html: pure functions from numbers to SVG text.

No scripts, fonts or external references: the SVG is meant to be pasted into an HTML page
that must render offline. Coordinates use fixed one-decimal formatting, so the same
numbers always give the same bytes.
"""
from __future__ import annotations

import math
from html import escape
from typing import Iterable, Sequence

WIDTH = 640
HISTOGRAM_HEIGHT = 220
BAR_ROW_HEIGHT = 18
LABEL_CHARS = 32  # bar-chart labels longer than this are cut (the full text is in the tooltip)
MAX_X_LABELS = 10

_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 52, 16, 28, 40
_BAR_LABEL_WIDTH, _BAR_VALUE_WIDTH = 220, 64


def _num(value: float) -> str:
    return f"{value:.1f}"


def nice_bin_width(max_value: float, target_bins: int = 20) -> float:
    """A bin width of 1, 2 or 5 times a power of ten giving at most about target_bins bins."""
    if max_value <= 0:
        return 1.0
    raw = max_value / target_bins
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= raw)


def bin_counts(values: Iterable[float], width: float, n_bins: int) -> list[int]:
    """Counts of values in [i*width, (i+1)*width); values past the last bin fall into it."""
    counts = [0] * n_bins
    for value in values:
        # The tiny epsilon keeps a value sitting on an edge (0.15 with width 0.05) out of the bin below it.
        index = int(math.floor(value / width + 1e-9))
        counts[min(max(index, 0), n_bins - 1)] += 1
    return counts


def _frame(height: int, title: str, body: list[str]) -> str:
    return "\n".join([
        f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{_MARGIN_LEFT}" y="16" class="chart-title">{escape(title)}</text>',
        *body,
        "</svg>",
    ])


def histogram_svg(counts: Sequence[int], edges: Sequence[str], title: str, x_label: str, unit: str) -> str:
    """Vertical bars, one per bin; edges holds the len(counts) + 1 bin edges as display text."""
    if len(edges) != len(counts) + 1:
        raise ValueError("histogram_svg needs one more edge than counts")
    height = HISTOGRAM_HEIGHT
    plot_w = WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    plot_h = height - _MARGIN_TOP - _MARGIN_BOTTOM
    base_y = _MARGIN_TOP + plot_h
    peak = max(counts, default=0)
    body = [f'<line x1="{_MARGIN_LEFT}" y1="{base_y}" x2="{WIDTH - _MARGIN_RIGHT}" y2="{base_y}" class="axis"/>',
            f'<line x1="{_MARGIN_LEFT}" y1="{_MARGIN_TOP}" x2="{_MARGIN_LEFT}" y2="{base_y}" class="axis"/>',
            f'<text x="{_MARGIN_LEFT - 6}" y="{base_y}" class="tick" text-anchor="end">0</text>',
            f'<text x="{_MARGIN_LEFT - 6}" y="{_MARGIN_TOP + 8}" class="tick" text-anchor="end">{peak}</text>',
            f'<text x="{_num(_MARGIN_LEFT + plot_w / 2)}" y="{height - 4}" class="tick" '
            f'text-anchor="middle">{escape(x_label)}</text>']
    if not counts or peak == 0:
        body.append(f'<text x="{_num(_MARGIN_LEFT + plot_w / 2)}" y="{_num(_MARGIN_TOP + plot_h / 2)}" '
                    'class="tick" text-anchor="middle">no data</text>')
        return _frame(height, title, body)
    bar_w = plot_w / len(counts)
    for i, count in enumerate(counts):
        bar_h = plot_h * count / peak
        tooltip = f"{edges[i]} to {edges[i + 1]}: {count} {unit}"
        body.append(f'<rect x="{_num(_MARGIN_LEFT + i * bar_w + 1)}" y="{_num(base_y - bar_h)}" '
                    f'width="{_num(max(bar_w - 2, 1))}" height="{_num(bar_h)}" class="bar">'
                    f'<title>{escape(tooltip)}</title></rect>')
    label_every = math.ceil(len(edges) / MAX_X_LABELS)
    for i in range(0, len(edges), label_every):
        body.append(f'<text x="{_num(_MARGIN_LEFT + i * bar_w)}" y="{base_y + 14}" class="tick" '
                    f'text-anchor="middle">{escape(edges[i])}</text>')
    return _frame(height, title, body)


def bar_chart_svg(items: Sequence[tuple[str, int]], title: str, unit: str) -> str:
    """Horizontal bars, one per (label, value), in the order given."""
    height = _MARGIN_TOP + BAR_ROW_HEIGHT * max(len(items), 1) + 8
    bar_x = _BAR_LABEL_WIDTH + 8
    bar_room = WIDTH - bar_x - _BAR_VALUE_WIDTH
    peak = max((value for _, value in items), default=0)
    body = []
    if not items:
        body.append(f'<text x="{_MARGIN_LEFT}" y="{_MARGIN_TOP + 12}" class="tick">no data</text>')
    for row, (label, value) in enumerate(items):
        y = _MARGIN_TOP + row * BAR_ROW_HEIGHT
        shown = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        bar_w = bar_room * value / peak if peak else 0
        body += [
            f'<text x="{_BAR_LABEL_WIDTH}" y="{y + 13}" class="tick" text-anchor="end">{escape(shown)}</text>',
            f'<rect x="{bar_x}" y="{y + 2}" width="{_num(bar_w)}" height="{BAR_ROW_HEIGHT - 4}" class="bar">'
            f'<title>{escape(f"{label}: {value} {unit}")}</title></rect>',
            f'<text x="{_num(bar_x + bar_w + 4)}" y="{y + 13}" class="tick">{value}</text>',
        ]
    return _frame(height, title, body)
