"""Interactive widgets for the notebooks: move a slider, watch the picture change.

``secant_explorer(f, x0)`` shows a function, its tangent at ``x0`` and the secant through
``x0`` and ``x0 + h``; a logarithmic slider moves ``h`` and the plot is redrawn, so the secant
can be watched turning into the tangent as ``h`` shrinks.

The figure is a plain :class:`matplotlib.figure.Figure` (not a pyplot figure, so it is never
shown twice), rendered to PNG into an :class:`ipywidgets.Image` on every change. That works
in JupyterLab, classic Notebook and VS Code alike, with no interactive matplotlib backend, and
it needs no output capture: an ``Output`` widget's capture, run headless by the grader, now and
then held the cell until its timeout (one notebook in ~20, measured with `grade_batch`).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

__all__ = ["SecantExplorer", "secant_explorer"]


class SecantExplorer(widgets.VBox):
    """A slider for the step ``h`` above a plot of f, its tangent and its secant at ``x0``.

    Attributes a notebook (or a test) may read: ``slider`` (the h slider), ``figure`` and
    ``axes`` (the matplotlib figure being redrawn), ``secant_line`` and ``tangent_line``
    (the two Line2D objects), ``image`` (the Image widget showing the picture) and
    ``draws`` (how many times the picture has been drawn).
    """

    def __init__(
        self,
        f: Callable[[np.ndarray], np.ndarray],
        x0: float,
        derivative: Callable[[float], float] | None = None,
        h: float = 1.0,
        h_min: float = 1e-4,
        h_max: float = 2.0,
        label: str = "f(x)",
    ):
        self.f = f
        self.x0 = float(x0)
        self.derivative = derivative
        self.label = label
        self.draws = 0

        self.slider = widgets.FloatLogSlider(
            value=h,
            base=10,
            min=np.log10(h_min),
            max=np.log10(h_max),
            step=0.05,
            description="step h",
            readout_format=".2e",
            continuous_update=False,
            layout=widgets.Layout(width="480px"),
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="576px"))

        self.figure = Figure(figsize=(6.4, 4.0), dpi=90)
        self.axes = self.figure.add_subplot()
        span = 1.25 * max(h_max, 1.0)
        xs = np.linspace(self.x0 - span, self.x0 + span, 400)
        ys = np.asarray(f(xs), dtype=np.float64)
        self.axes.plot(xs, ys, color="black", lw=2, label=label)
        (self.tangent_line,) = self.axes.plot([], [], color="tab:green", lw=1.5, ls="--")
        (self.secant_line,) = self.axes.plot([], [], color="tab:red", lw=1.5)
        (self.points,) = self.axes.plot([], [], "o", color="tab:red")
        self.axes.set_xlim(xs[0], xs[-1])
        margin = 0.15 * (ys.max() - ys.min() + 1e-12)
        self.axes.set_ylim(ys.min() - margin, ys.max() + margin)
        self.axes.set_xlabel("x")
        self.axes.set_ylabel(label)
        self.axes.grid(alpha=0.3)
        self._xs = xs

        super().__init__([self.slider, self.image])
        self.slider.observe(self._on_change, names="value")
        self.redraw()

    def secant_slope(self, h: float) -> float:
        """Slope of the secant through (x0, f(x0)) and (x0 + h, f(x0 + h))."""
        return float((self.f(self.x0 + h) - self.f(self.x0)) / h)

    def _on_change(self, change) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Update the secant (and tangent) for the slider's h and show the new picture."""
        h = float(self.slider.value)
        x0, y0 = self.x0, float(self.f(self.x0))
        slope = self.secant_slope(h)
        self.secant_line.set_data(self._xs, y0 + slope * (self._xs - x0))
        self.secant_line.set_label(f"secant, slope {slope:.6f}")
        self.points.set_data([x0, x0 + h], [y0, float(self.f(x0 + h))])
        title = f"h = {h:.2e}: secant slope {slope:.6f}"
        if self.derivative is not None:
            exact = float(self.derivative(x0))
            self.tangent_line.set_data(self._xs, y0 + exact * (self._xs - x0))
            self.tangent_line.set_label(f"tangent, slope {exact:.6f}")
            title += f", error {abs(slope - exact):.1e}"
        self.axes.set_title(title)
        self.axes.legend(loc="best")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.draws += 1
        self.image.value = buffer.getvalue()


def secant_explorer(
    f: Callable[[np.ndarray], np.ndarray],
    x0: float,
    derivative: Callable[[float], float] | None = None,
    h: float = 1.0,
    h_min: float = 1e-4,
    h_max: float = 2.0,
    label: str = "f(x)",
) -> SecantExplorer:
    """A widget showing the secant of ``f`` through ``x0`` and ``x0 + h`` as a slider moves h.

    ``f`` must accept numpy arrays (it is plotted on a grid); ``derivative``, if given, draws
    the tangent at ``x0`` and shows the secant's error. Display the returned widget by making
    it the last expression of a cell.
    """
    return SecantExplorer(f, x0, derivative, h, h_min, h_max, label)
