"""The lab a student gets works before any course notebook is involved.

A tiny notebook written into the temporary workspace checks the pieces the course relies on:
ipywidgets' lab extension renders a widget (not its text fallback), matplotlib plots show
inline (the server's kernels must not inherit `make test`'s MPLBACKEND=Agg), markdown and
maths render, and nbgrader's lab extension puts "Validate" on the notebook toolbar.
"""

import nbformat
import pytest

from tests.browser.lab_page import markdown_words

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PATH = "lab-setup/widgets-and-plots.ipynb"
MARKDOWN = "## Setting up the lab\n\nThe slope is $f'(x)$; move the slider."
SLIDER = "import ipywidgets as widgets\nwidgets.IntSlider(value=3, min=0, max=10, description='n')"
PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"


@pytest.fixture
def tiny_notebook(workspace):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(MARKDOWN),
        nbformat.v4.new_code_cell(SLIDER),
        nbformat.v4.new_code_cell(PLOT),
    ]
    path = workspace / PATH
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    return PATH


def test_widgets_plots_maths_and_validate_work_in_the_lab(lab, tiny_notebook, artifacts):
    panel = lab.open(tiny_notebook)
    try:
        run = lab.run_all(tiny_notebook)
        assert not run.unexecuted_code() and not run.error_cells(), run.cells

        slider_cell = lab.cell(panel, 1)
        assert lab.shows(slider_cell.locator(".widget-slider")), (
            "the IntSlider did not render as a widget: is ipywidgets' lab extension "
            "(@jupyter-widgets/jupyterlab-manager) installed in the venv?"
        )
        assert "Error displaying widget" not in slider_cell.inner_text()
        assert slider_cell.locator(".widget-readout").inner_text().strip() == "3"

        assert run.cells[2].images() == 1, "plt.show() produced no inline image"
        assert lab.shows(lab.cell(panel, 2).locator(".jp-RenderedImage img"))

        markdown = lab.cell(panel, 0).locator(".jp-RenderedMarkdown")
        assert lab.shows(markdown)
        text = markdown.inner_text()
        assert all(word in text for word in markdown_words(MARKDOWN)), text
        assert markdown.locator("mjx-container").count() == 1, "the maths was not typeset"

        toolbar = panel.locator(".jp-Toolbar").first
        assert lab.shows(toolbar.get_by_role("button", name="Validate")), (
            "nbgrader's Validate button is missing from the notebook toolbar"
        )
        lab.page.screenshot(path=artifacts / "lab-setup.png")
    finally:
        lab.close(tiny_notebook)


RUN_ON_PATH = "lab-setup/run-all-past-errors.ipynb"


def test_run_all_goes_on_past_an_error_only_in_a_cell_tagged_raises_exception(lab, workspace):
    """What the release notebooks rely on: JupyterLab sends a raises-exception cell with
    stop_on_error false, so Run All goes on past it; any other error drops the cells below."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("raise NotImplementedError()"),
        nbformat.v4.new_code_cell("after_tagged = 1"),
        nbformat.v4.new_code_cell("raise NotImplementedError()"),
        nbformat.v4.new_code_cell("after_untagged = 1"),
    ]
    nb.cells[0].metadata["tags"] = ["raises-exception"]
    path = workspace / RUN_ON_PATH
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    lab.open(RUN_ON_PATH)
    try:
        cells = lab.run_all(RUN_ON_PATH).cells
        assert [bool(c.errors) for c in cells] == [True, False, True, False], cells
        assert cells[1].count is not None, "Run All stopped at the tagged cell's error"
        assert cells[3].count is None, "Run All went on past an untagged error"
    finally:
        lab.close(RUN_ON_PATH)
