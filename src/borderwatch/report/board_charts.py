"""Inline SVG charts for the board report: no script, no external resource.

Every text drawn (labels, legends, titles) goes through `esc`; numbers are formatted
here. The functions return SVG markup as str; report/board.py marks it safe for the
template only because every value inside was escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from borderwatch.report.worldmap import HEIGHT, WIDTH, shapes, small_countries

CHART_W, CHART_H = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 16, 40
# Counts whose largest and smallest positive values differ by this factor or more are
# drawn on a logarithmic axis: a line of 10 next to one of 100,000 must stay visible.
LOG_RATIO = 100


def esc(value: object) -> str:
    """Text for SVG/HTML: every markup character escaped, control characters dropped."""
    text = str(value)
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css: str = ""  # a class of the board's style sheet (colour)


def use_log(series: Sequence[Series]) -> bool:
    positive = [v for s in series for v in s.values if v > 0]
    return bool(positive) and max(positive) / min(positive) >= LOG_RATIO


def stacked_bars(labels: Sequence[str], series: Sequence[Series], title: str) -> str:
    """One bar per label, the series stacked, with the total above each bar."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice(max(totals, default=0))
    plot_w, plot_h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    bar = step * 0.6
    parts = [_open(title), *_linear_axis(top, plot_w, plot_h)]
    for i, label in enumerate(labels):
        x = LEFT + i * step + (step - bar) / 2
        y = float(TOP + plot_h)
        for s in series:
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect class="{esc(s.css)}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"><title>{esc(label)}: {esc(s.name)} {value:,}</title></rect>'
            )
        parts.append(
            f'<text class="total" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" '
            f'text-anchor="middle">{totals[i]:,}</text>'
        )
        parts.append(_x_label(x + bar / 2, label))
    parts.extend(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def lines(labels: Sequence[str], series: Sequence[Series], title: str) -> str:
    """One line per series over the labels; a logarithmic y axis where counts differ by
    two orders of magnitude or more (then a 0 is drawn on the axis' floor)."""
    log = use_log(series)
    plot_w, plot_h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    peak = max((v for s in series for v in s.values), default=0)
    if log:
        high = 10 ** math.ceil(math.log10(max(peak, 1)))
        low = 1

        def y_of(v: int) -> float:
            scaled = math.log10(max(v, low)) / math.log10(high) if high > 1 else 0
            return TOP + plot_h * (1 - scaled)

        axis = _log_axis(high, plot_w, y_of)
    else:
        top = _nice(peak)

        def y_of(v: int) -> float:
            return TOP + plot_h * (1 - v / top)

        axis = _linear_axis(top, plot_w, plot_h)
    scale_note = "logarithmic scale" if log else "linear scale"
    parts = [_open(f"{title} ({scale_note})"), *axis]
    for index, s in enumerate(series):
        points = [(LEFT + i * step, y_of(v)) for i, v in enumerate(s.values)]
        css = esc(s.css or f"line-{index % 8}")
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline class="{css}" fill="none" points="{path}"/>')
        for (x, y), label, value in zip(points, labels, s.values, strict=True):
            parts.append(
                f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                f"<title>{esc(s.name)} {esc(label)}: {value:,}</title></circle>"
            )
    for i, label in enumerate(labels):
        parts.append(_x_label(LEFT + i * step, label))
    parts.extend(_legend(series, lines=True))
    parts.append(
        f'<text class="axis-note" x="{LEFT}" y="{CHART_H - 2}">{esc(scale_note)}</text></svg>'
    )
    return "".join(parts)


def world_map(totals: Mapping[str, int], prohibited: set[str], title: str) -> str:
    """Caller countries: shapes shaded by accesses (five steps on a log scale), prohibited
    countries in red; countries too small for the map drawn as circles."""
    peak = max(totals.values(), default=0)

    def step(count: int) -> int:
        if count <= 0 or peak <= 0:
            return 0
        return 1 + min(4, int(4 * math.log10(count) / math.log10(peak))) if peak > 1 else 5

    parts = [
        f'<svg class="map" role="img" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    ]
    drawn: set[str] = set()
    for shape in shapes():
        code = shape.code or ""
        count = totals.get(code, 0)
        kind = "bad" if code in prohibited else "ok"
        css = f"land {kind}-{step(count)}" if count else "land"
        label = f"{shape.name} ({code or 'no ISO code'}): {count:,} accesses"
        parts.append(f'<path class="{css}" d="{shape.path}"><title>{esc(label)}</title></path>')
        if count:
            drawn.add(code)
    points = small_countries()
    for code, count in sorted(totals.items()):
        if code in drawn or count <= 0 or code not in points:
            continue
        point = points[code]
        kind = "bad" if code in prohibited else "ok"
        parts.append(
            f'<circle class="dot {kind}-{step(count)}" cx="{point.x:.1f}" cy="{point.y:.1f}" '
            f'r="6"><title>{esc(point.name)} ({esc(code)}): {count:,} accesses</title></circle>'
            f'<text class="dot-label" x="{point.x + 8:.1f}" y="{point.y + 4:.1f}">'
            f"{esc(code)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {CHART_W} {CHART_H}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    )


def _nice(peak: int) -> int:
    """A round top for a linear axis at or above `peak` (1, 2 or 5 times a power of 10)."""
    if peak <= 0:
        return 1
    power = 10 ** math.floor(math.log10(peak))
    for factor in (1, 2, 5, 10):
        if factor * power >= peak:
            return factor * power
    return 10 * power


def _linear_axis(top: int, plot_w: float, plot_h: float) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h * (1 - k / 4)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(value)}</text>"
        )
    return parts


def _log_axis(high: int, plot_w: float, y_of: Callable[[int], float]) -> list[str]:
    parts = []
    value = 1
    while value <= high:
        y = y_of(value)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:,}</text>"
        )
        value *= 10
    return parts


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _x_label(x: float, label: str) -> str:
    return (
        f'<text class="tick" x="{x:.1f}" y="{CHART_H - BOTTOM + 16}" '
        f'text-anchor="middle">{esc(label)}</text>'
    )


def _legend(series: Sequence[Series], lines: bool = False) -> list[str]:
    parts = []
    x = CHART_W - RIGHT + 12
    for index, s in enumerate(series):
        y = TOP + 14 + 18 * index
        css = esc(s.css or f"line-{index % 8}")
        mark = (
            f'<line class="{css}" x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}"/>'
            if lines
            else f'<rect class="{css}" x="{x}" y="{y - 10}" width="12" height="12"/>'
        )
        parts.append(f'{mark}<text class="legend" x="{x + 20}" y="{y}">{esc(s.name)}</text>')
    return parts
