"""Plots for the course; they live in `coursekit.plots` (students have coursekit)."""

from coursekit.plots import (
    draw_graph,
    plot_decision_boundary,
    plot_loss_curve,
    plot_step_size_error,
)

__all__ = ["draw_graph", "plot_decision_boundary", "plot_loss_curve", "plot_step_size_error"]
