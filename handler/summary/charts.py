"""Bar charts of the summary's tables: PNG images drawn by matplotlib's Agg backend (no display, no pyplot).

A `Figure` with its own Agg canvas per chart keeps no global state, so charts can be drawn in any
thread. The colours are the documents' heading colour and a lighter shade of it; text in the
documents' language, numbers with a decimal comma.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..document.package import COLOUR
from .shapes import Chart, lower

COLOURS = (f"#{COLOUR}", "#7FA7CF")
WIDTH = 6.3  # inches: inside the documents' 16.6 cm of text width
DPI = 150
BAR = 0.32  # inches of height per label in a horizontal chart
MAX_HEIGHT = 8.0  # inches: well inside a page (tables.MAX_BARS labels need less)
FONT = 8


@dataclass(frozen=True)
class Picture:
    """A drawn chart: the PNG and its size in inches, as it is placed in the document."""

    png: bytes
    width: float
    height: float


def draw(chart: Chart) -> Picture:
    """Return the chart as a PNG: bars with their values at the ends, one colour per series."""
    count = len(chart.labels)
    per_label = BAR * max(1.0, len(chart.series) * 0.75)
    height = min(MAX_HEIGHT, max(1.6, 0.7 + per_label * count)) if chart.horizontal else 2.0
    ticks = chart.ticks or chart.labels
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(count)
    thickness = 0.8 / len(chart.series)
    for index, (name, values) in enumerate(chart.series):
        offset = (index - (len(chart.series) - 1) / 2) * thickness
        places = [p + offset for p in positions]
        colour = COLOURS[index % len(COLOURS)]
        if chart.horizontal:
            bars = axes.barh(places, values, height=thickness, color=colour, label=name)
        else:
            bars = axes.bar(places, values, width=thickness, color=colour, label=name)
        axes.bar_label(bars, labels=[_number(v) if v else "" for v in values], padding=2, fontsize=FONT - 1)
    values_axis = axes.xaxis if chart.horizontal else axes.yaxis
    values_axis.set_major_locator(MaxNLocator(integer=True))
    values_axis.set_major_formatter(FuncFormatter(lambda value, _: _number(value)))
    if chart.horizontal:
        axes.set_yticks(list(positions), ticks, fontsize=FONT)
        axes.invert_yaxis()  # the table's first row on top
        axes.set_xlabel(chart.axis, fontsize=FONT)
        axes.margins(x=0.08)
    else:
        slanted = max(len(tick) for tick in ticks) > 4  # "jan" fits upright; "januari 2026" does not
        axes.set_xticks(list(positions), ticks, fontsize=FONT, rotation=45 if slanted else 0,
                        ha="right" if slanted else "center")  # fmt: skip
        axes.set_ylabel(chart.axis, fontsize=FONT)
        axes.margins(y=0.12)
    axes.tick_params(labelsize=FONT)
    axes.grid(axis="x" if chart.horizontal else "y", color="#D9D9D9", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if len(chart.series) > 1:
        figure.legend(fontsize=FONT, frameon=False, loc="outside upper right", ncols=len(chart.series))
    if all(not any(values) for _, values in chart.series):
        values_axis.set_view_interval(0, 1)  # nothing counted: an axis from 0, not matplotlib's -0.05 to 0.05
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return Picture(buffer.getvalue(), WIDTH, height)


def describe(chart: Chart, title: str) -> str:
    """Return the chart's alternative text: what it shows and every value, for those who cannot see it."""
    parts = []
    for index, label in enumerate(chart.labels):
        if len(chart.series) == 1:
            parts.append(f"{label}: {_number(chart.series[0][1][index])}")
        else:
            values = ", ".join(f"{name.lower()} {_number(values[index])}" for name, values in chart.series)
            parts.append(f"{label}: {values}")
    note = f" {chart.note}" if chart.note else ""
    return f"Stapeldiagram, {lower(title)}.{note} {'; '.join(parts)}."


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}".replace(".", ",")
