"""The secant explorer redraws its plot when the slider moves."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from coursekit.widgets import SecantExplorer, secant_explorer  # noqa: E402


def test_secant_explorer_is_a_widget_with_a_slider_and_an_image():
    import ipywidgets as widgets

    explorer = secant_explorer(np.sin, 1.0, derivative=np.cos)
    assert isinstance(explorer, SecantExplorer)
    assert isinstance(explorer, widgets.VBox)
    assert explorer.slider in explorer.children and explorer.image in explorer.children
    assert bytes(explorer.image.value).startswith(b"\x89PNG")


def test_moving_the_slider_redraws_the_secant():
    explorer = secant_explorer(np.sin, 1.0, derivative=np.cos, h=1.0)
    before_y = np.array(explorer.secant_line.get_ydata(), dtype=float)
    before_points = np.array(explorer.points.get_xdata(), dtype=float)
    before_title = explorer.axes.get_title()
    draws = explorer.draws
    before_png = bytes(explorer.image.value)

    explorer.slider.value = 0.01

    assert explorer.draws == draws + 1
    assert bytes(explorer.image.value) != before_png
    assert not np.allclose(explorer.secant_line.get_ydata(), before_y)
    assert np.allclose(explorer.points.get_xdata(), [1.0, 1.01])
    assert not np.allclose(explorer.points.get_xdata(), before_points)
    assert explorer.axes.get_title() != before_title


def test_the_secant_approaches_the_tangent_as_h_shrinks():
    explorer = secant_explorer(np.exp, 0.5, derivative=np.exp)
    tangent = np.array(explorer.tangent_line.get_ydata(), dtype=float)
    gaps = []
    for h in (1.0, 0.1, 0.01, 0.001):
        explorer.slider.value = h
        gaps.append(np.max(np.abs(np.array(explorer.secant_line.get_ydata()) - tangent)))
    assert all(a > 5 * b for a, b in zip(gaps, gaps[1:])), gaps
    assert explorer.secant_slope(1e-3) == pytest.approx(np.exp(0.5), rel=1e-3)


def test_without_a_derivative_no_tangent_is_drawn():
    explorer = secant_explorer(lambda x: x**3, -1.0)
    explorer.slider.value = 0.1
    assert len(explorer.tangent_line.get_xdata()) == 0
    assert explorer.secant_slope(0.1) == pytest.approx(((-0.9) ** 3 + 1) / 0.1)
