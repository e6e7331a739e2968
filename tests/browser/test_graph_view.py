"""The graph view's step-through widget in a real JupyterLab: Next and the slider redraw it.

A scratch notebook builds notebook 04's shared-node example with the reference engine, shows
`graph_stepper` and `walk_stepper`, and the test steps through them as a student does. Two more
run real course notebooks: notebook 02's release as a student first runs it, and notebook 04's
master, whose stepper records the notebook's own backward. Screenshots go to
output/browser/graph-view-*.png.
"""

from __future__ import annotations

import nbformat
import pytest

from tests.browser.lab_page import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SCRATCH = "scratch-graph-view.ipynb"
BUILD = """\
from autodiff.reverse import AutogradValue
from coursekit.graph_view import graph_stepper, walk_stepper

x = AutogradValue(1.5)
a = x ** 2
b = 5 * a
c = a.log()
g = b * c
L = -g"""
STEPPER = "graph_stepper(L, names=locals())"
WALK = "walk_stepper(L, names=locals())"


def write_scratch(workspace) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (BUILD, STEPPER, WALK)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, workspace / SCRATCH)


def caption_of(widget) -> str:
    return widget.locator(".widget-html").first.inner_text()


def step_until(widget, image, text: str, limit: int = 30) -> None:
    """Press Next until the caption contains text (each press must redraw the picture)."""
    next_button = widget.get_by_role("button", name="Next ▶")
    for _ in range(limit):
        if text in caption_of(widget):
            return
        before, said = image.get_attribute("src"), caption_of(widget)
        next_button.click()
        assert wait_until(lambda before=before: image.get_attribute("src") != before, 30), (
            f"pressing Next at '{said}' did not redraw the graph")
        # The picture and the sentence are two widgets updated one after the other: wait for
        # the sentence too, or a lagging caption makes the loop step past the one it looks for.
        assert wait_until(lambda said=said: caption_of(widget) != said, 30), (
            f"pressing Next at '{said}' did not change the caption")
    raise AssertionError(f"no step says {text!r}; the last says {caption_of(widget)!r}")


def test_next_and_the_slider_step_through_the_graph(lab, workspace, artifacts):
    write_scratch(workspace)
    panel = lab.open(SCRATCH)
    try:
        run = lab.run_all(SCRATCH)
        assert not run.error_cells(), [c.errors for c in run.error_cells()]
        assert not any(c.stderr for c in run.cells), [c.stderr for c in run.cells]
        widgets = panel.locator(".widget-vbox").filter(
            has=lab.page.get_by_role("button", name="Next ▶"))
        assert wait_until(lambda: widgets.count() == 2, 30), "expected two step-through widgets"
        widget = widgets.nth(0)
        image = widget.locator("img.widget-image").first
        assert lab.shows(image), "the graph picture is not shown"
        first_src = image.get_attribute("src")
        assert first_src.startswith("data:image/png") or first_src.startswith("blob:")
        assert "x is an input" in caption_of(widget)

        widget.get_by_role("button", name="Next ▶").click()  # Next redraws the picture
        assert wait_until(lambda: image.get_attribute("src") != first_src, 30), (
            "pressing Next did not redraw the graph")
        assert "a = x ** 2" in caption_of(widget)
        step_until(widget, image, "g = b × c")
        widget.screenshot(path=artifacts / "graph-view-forward.png")

        slider = widget.locator(".widget-slider").first  # the slider moves it too
        handle = slider.locator(".noUi-handle").first
        track = slider.locator(".noUi-target").first.bounding_box()
        box = handle.bounding_box()
        before_slider = image.get_attribute("src")
        lab.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        lab.page.mouse.down()
        lab.page.mouse.move(track["x"] + 0.55 * track["width"], box["y"] + box["height"] / 2,
                            steps=8)
        lab.page.mouse.up()
        assert wait_until(lambda: image.get_attribute("src") != before_slider, 30), (
            "moving the slider did not redraw the graph")
        lab.wait_idle(SCRATCH)
        assert "runs" in caption_of(widget) or "backward" in caption_of(widget), (
            caption_of(widget))

        step_until(widget, image, "c runs: a.grad +=")
        assert "-11.25 × 0.4444" in caption_of(widget)
        widget.screenshot(path=artifacts / "graph-view-backward.png")

        walk = widgets.nth(1)
        walk_image = walk.locator("img.widget-image").first
        walk.scroll_into_view_if_needed()
        step_until(walk, walk_image, "a — visited 2 times!")
        walk.screenshot(path=artifacts / "graph-view-double-count.png")
    finally:
        lab.close(SCRATCH)


def stepper_under(lab, panel, cells, grade_id: str):
    """The step-through widget in the output of the cell with this grade_id."""
    index = next(i for i, c in enumerate(cells) if c.grade_id == grade_id)
    widget = lab.cell(panel, index).locator(".widget-vbox").filter(
        has=lab.page.get_by_role("button", name="Next ▶")).first
    widget.scroll_into_view_if_needed()
    return widget


def open_and_run(lab, path: str):
    """Open a course notebook, Run All, and return its panel and cells; only the cells
    tagged raises-exception (the stubs' tests) may fail."""
    panel = lab.open(path)
    run = lab.run_all(path)
    unexpected = [c.errors for c in run.error_cells() if not c.raises_exception]
    assert not unexpected, unexpected
    return panel, run.cells


def test_a_student_steps_through_the_reused_value_of_notebook_02(lab, artifacts):
    """The release as a student first runs it (stubs and all): the stepper of section 2 plays
    the forward pass and then the hand-worked gradients, and every Next redraws it."""
    path = "course/02-chain-rule/chain_rule.ipynb"
    panel, cells = open_and_run(lab, path)
    try:
        widget = stepper_under(lab, panel, cells, "stepper_reused")
        image = widget.locator("img.widget-image").first
        assert wait_until(lambda: lab.shows(image), 30), "the graph picture is not shown"
        assert "x is an input" in caption_of(widget)
        step_until(widget, image, "c = a × b")
        step_until(widget, image, "dc/da = 22.5")
        widget.screenshot(path=artifacts / "graph-view-02-reused.png")
    finally:
        lab.close(path)


def test_the_backward_of_notebook_04_is_stepped_node_by_node(lab, artifacts):
    """The 04 master (every exercise done): the stepper under "Your engine, end to end"
    records the notebook's own backward; the walk stepper shows the recursive double count."""
    path = "solutions/04-reverse-mode/reverse_mode.ipynb"
    panel, cells = open_and_run(lab, path)
    try:
        widget = stepper_under(lab, panel, cells, "stepper_backward")
        image = widget.locator("img.widget-image").first
        assert wait_until(lambda: lab.shows(image), 30), "the graph picture is not shown"
        step_until(widget, image, "backward starts")
        step_until(widget, image, "c runs: a.grad +=")
        assert "-11.25 × 0.4444" in caption_of(widget)
        widget.screenshot(path=artifacts / "graph-view-04-backward.png")

        walk = stepper_under(lab, panel, cells, "stepper_walk")
        walk_image = walk.locator("img.widget-image").first
        step_until(walk, walk_image, "a runs (2nd turn!)")
        walk.screenshot(path=artifacts / "graph-view-04-double-count.png")
    finally:
        lab.close(path)
