"""Charts as PNG bytes, drawn by matplotlib (Agg, no display) in one EOCIC style.

Figures are built with the object API (`Figure` + Agg canvas), never pyplot, so nothing touches a
window system or pyplot's global figure list. matplotlib's rcParams and font cache are still
process-wide, so one lock serialises drawing; callers on the event loop use `render()`, which draws
in a worker thread. matplotlib is loaded by the first chart, not on import: a command that draws
nothing (`eocic-desk tickets`, the desk's start-up) does not wait for it. Labels are the catalogue's and registry's own names (mixed case, accents,
"ADPACK²"): DejaVu Sans, which matplotlib ships, has those glyphs.
"""

from __future__ import annotations

import asyncio
import io
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# EOCIC colours: the EU blue first, then colours that stay apart for colour-blind readers.
BLUE, YELLOW, GREEN, GREY, INK = "#003399", "#FFCC00", "#2E8B57", "#C8C8C8", "#282828"
SERIES = [BLUE, "#E07B00", GREEN, "#8C5BB0", "#0096C7", "#B22222", "#7F7F7F", "#BCBD22"]
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "axes.axisbelow": True,
    "grid.color": "#E6E6E6",
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 130,
    "figure.facecolor": "white",
}
_lock = threading.Lock()


@contextmanager
def _figure(style: dict, **figure_options) -> Iterator[Figure]:
    """A Figure on an Agg canvas, drawn under the lock with `style` as rcParams."""
    import matplotlib

    matplotlib.use("Agg")  # never a display
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _lock, rc_context(style):
        fig = Figure(**figure_options)
        FigureCanvasAgg(fig)
        yield fig


async def render(draw: Callable[..., bytes], *args, **kwargs) -> bytes:
    """Draw a chart in a worker thread, off the event loop."""
    return await asyncio.to_thread(draw, *args, **kwargs)


def stacked_bars(title: str, groups: Sequence[tuple[str, int, int]]) -> bytes:
    """One horizontal bar per (label, answered, pending): answered in green, pending in grey, `a/total` at its end."""
    labels = [label for label, _, _ in groups]
    answered = [a for _, a, _ in groups]
    pending = [p for _, _, p in groups]
    return hbars(title, labels, {"answered": answered, "pending": pending}, stacked=True, colours=[GREEN, GREY],
                 notes=[f"{a}/{a + p}" for a, p in zip(answered, pending)], xlabel="partnerships")


def hbars(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], *, stacked: bool = False,
          colours: Sequence[str] | None = None, notes: Sequence[str] | None = None, xlabel: str = "") -> bytes:
    """Horizontal bars, one row per label (first label on top); several series side by side or stacked.

    `notes` are written at the end of each row (defaults to each value, or to the row total when stacked).
    """
    names = list(series)
    colours = list(colours or SERIES)
    rows = len(labels)
    per_row = 0.32 if stacked or len(names) == 1 else 0.16 + 0.11 * len(names)
    with _figure(STYLE, figsize=(8, max(1.8, 1.1 + rows * per_row)), layout="constrained") as fig:
        ax = fig.add_subplot()
        positions = list(range(rows))[::-1]
        height = 0.7 if stacked or len(names) == 1 else 0.8 / len(names)
        left = [0.0] * rows
        ends = [0.0] * rows
        for i, name in enumerate(names):
            values = [float(v) for v in series[name]]
            if stacked:
                ax.barh(positions, values, height, left=left, label=name, color=colours[i % len(colours)])
                left = [a + b for a, b in zip(left, values)]
                ends = left
            else:
                offset = (len(names) - 1) / 2 - i
                ys = [p + offset * height for p in positions]
                bars = ax.barh(ys, values, height * 0.92, label=name, color=colours[i % len(colours)])
                if notes is None:
                    ax.bar_label(bars, labels=[_number(v) if v else "" for v in values], padding=2, fontsize=8)
                ends = [max(e, v) for e, v in zip(ends, values)]
        if stacked and notes is None:
            notes = [_number(v) for v in ends]
        if notes is not None:
            for y, end, note in zip(positions, ends, notes):
                ax.annotate(note, (end, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_yticks(positions, labels)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, max(ends + [1.0]) * 1.12)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(xlabel)
        return _finished(fig, ax, title, len(names), legend_columns=min(len(names), 4))


def vbars(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], *, ylabel: str = "") -> bytes:
    """Vertical stacked bars, one column per label (months, say), one colour per series."""
    with _figure(STYLE | {"axes.grid.axis": "y"}, figsize=(8, 3.6 + 0.2 * len(series)), layout="constrained") as fig:
        ax = fig.add_subplot()
        bottom = [0.0] * len(labels)
        for i, (name, values) in enumerate(series.items()):
            values = [float(v) for v in values]
            ax.bar(range(len(labels)), values, 0.7, bottom=bottom, label=name, color=SERIES[i % len(SERIES)])
            bottom = [a + b for a, b in zip(bottom, values)]
        for x, total in enumerate(bottom):
            ax.annotate(_number(total), (x, total), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
        ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
        ax.set_ylim(0, max(bottom + [1.0]) * 1.15)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(ylabel)
        return _finished(fig, ax, title, len(series), legend_columns=1 if len(series) > 3 else len(series))


def _finished(fig, ax, title: str, series: int, legend_columns: int) -> bytes:
    """The title, a legend below the chart when there is more than one series, and the PNG."""
    ax.set_title(title)
    if series > 1:
        fig.legend(loc="outside lower center", ncols=legend_columns, fontsize=8)
    return _png(fig)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _number(value: float) -> str:
    return f"{value:g}"
