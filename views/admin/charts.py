"""Report charts as plain SVG shapes, worked out here so the template only draws them.

The SVG has a viewBox and no script, style element or style attribute (the
Content-Security-Policy forbids them): colours come from classes in
static/css/shop.css. Two layouts: columns over time (a period per group of
bars, zero line included when values go negative) and horizontal bars for
named lines (the roll-forward), whose long labels need the room.
"""

import math
from dataclasses import dataclass

from flask_babel import gettext

# Narrow enough that 12-unit text stays readable on a 360 px phone; CSS caps the width on desktops.
WIDTH = 420
COLUMN_HEIGHT = 220
PLOT_LEFT = 62  # room for the axis labels
PLOT_RIGHT = 6
PLOT_TOP = 10
PLOT_BOTTOM = 30  # room for the period labels
MAX_X_LABELS = 5
BAR_ROW = 40  # a label line above each bar


@dataclass(frozen=True)
class Shape:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str
    title: str = ""


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    shapes: list
    labels: list
    lines: list


def nice_ceiling(value):
    """The smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^n at or above `value` (for axis ends)."""
    if value <= 0:
        return 0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return int(math.ceil(step * power))
    return int(10 * power)


def columns(chart, format_value, format_tick):
    """Grouped columns, one group per period, with value ticks and thinned period labels."""
    values = [value for series in chart.series for value in series.values]
    top = nice_ceiling(max([0, *values]))
    bottom = -nice_ceiling(-min([0, *values]))
    plot_height = COLUMN_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    plot_width = WIDTH - PLOT_LEFT - PLOT_RIGHT

    def y_of(value):
        if top == bottom:  # nothing to show: everything sits on the zero line
            return PLOT_TOP + plot_height
        return PLOT_TOP + (top - value) * plot_height / (top - bottom)

    periods = len(chart.labels)
    slot = plot_width / max(periods, 1)
    bar = slot * 0.8 / max(len(chart.series), 1)
    shapes, labels, lines = [], [], []
    for tick in sorted({bottom, 0, top / 2, top}):
        y = round(y_of(tick), 1)
        lines.append(Line(PLOT_LEFT, y, WIDTH - PLOT_RIGHT, y, "chart__zero" if tick == 0 else "chart__grid"))
        labels.append(Label(PLOT_LEFT - 4, y + 4, format_tick(tick), "end"))
    for number, series in enumerate(chart.series):
        for index, value in enumerate(series.values):
            x = PLOT_LEFT + index * slot + slot * 0.1 + number * bar
            y1, y2 = sorted((y_of(value), y_of(0)))
            title = gettext(
                "%(period)s, %(series)s: %(value)s",
                period=chart.labels[index],
                series=series.label,
                value=format_value(value),
            )
            shapes.append(
                Shape(round(x, 1), round(y1, 1), round(bar, 1), round(y2 - y1, 1), series.css, title)
            )
    every = max(1, math.ceil(periods / MAX_X_LABELS))
    for index in range(0, periods, every):
        labels.append(
            Label(round(PLOT_LEFT + (index + 0.5) * slot, 1), COLUMN_HEIGHT - 10, chart.labels[index])
        )
    for index, text in chart.markers:
        x = round(PLOT_LEFT + (index + 0.5) * slot, 1)
        lines.append(Line(x, PLOT_TOP, x, COLUMN_HEIGHT - PLOT_BOTTOM, "chart__marker", text))
    return Drawing(WIDTH, COLUMN_HEIGHT, shapes, labels, lines)


def bars(chart, format_value):
    """Horizontal bars, one row per named line (its name and amount above it), left of zero
    for negative amounts."""
    series = chart.series[0]
    extent = nice_ceiling(max([1, *(abs(value) for value in series.values)]))
    has_negative = any(value < 0 for value in series.values)
    plot_width = WIDTH - 2 * PLOT_RIGHT
    zero = PLOT_RIGHT + (plot_width / 2 if has_negative else 0)
    scale = (plot_width / 2 if has_negative else plot_width) / extent
    shapes, labels = [], []
    for index, (name, value) in enumerate(zip(chart.labels, series.values, strict=True)):
        y = PLOT_TOP + index * BAR_ROW
        labels.append(Label(PLOT_RIGHT, y + 12, name, "start"))
        labels.append(Label(WIDTH - PLOT_RIGHT, y + 12, format_value(value), "end"))
        width = abs(value) * scale
        x = zero - width if value < 0 else zero
        css = series.css if value >= 0 else "series-negative"
        shapes.append(
            Shape(
                round(x, 1),
                y + 18,
                round(width, 1),
                14,
                css,
                gettext("%(name)s: %(value)s", name=name, value=format_value(value)),
            )
        )
    height = PLOT_TOP + len(chart.labels) * BAR_ROW
    lines = [Line(round(zero, 1), PLOT_TOP + 16, round(zero, 1), height, "chart__zero")]
    return Drawing(WIDTH, height, shapes, labels, lines)
