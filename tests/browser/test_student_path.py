"""The student's path through the course in a real JupyterLab, in a real browser.

Every release notebook is opened and run with JupyterLab's own "Run All", as a student's
first step. The cells that raise with the stubs are tagged `raises-exception`, so the run goes
on past them: every cell runs, in order, and the only errors on the page are the exercises'
NotImplementedError stubs, each under its rendered guidance. A correct answer typed into an
exercise makes its visible test pass; the step slider of 01-derivatives, below the first
exercise, renders after Run All and redraws its plot; every master passes every test.
Screenshots of each notebook's first screen and of the widget go to output/browser/.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from tests.browser.lab_page import Cell, markdown_words, wait_until
from tests.browser.lab_server import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RELEASES = sorted(ROOT.glob("course/[0-9][0-9]-*/*.ipynb"))
MASTERS = sorted(ROOT.glob("solutions/[0-9][0-9]-*/*.ipynb"))
WIDGET_NOTEBOOK = "course/01-derivatives/derivatives.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLOTS = re.compile(r"\bplt\.(show|subplots|figure|plot)\(")
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def relative(path) -> str:
    return path.relative_to(ROOT).as_posix()


def shot_name(path: str) -> str:
    return path.replace("/", "--").removesuffix(".ipynb") + ".png"


def describe(cell: Cell) -> str:
    errors = "; ".join(f"{e['ename']}: {e['evalue'][:200]}" for e in cell.errors)
    return f"cell {cell.index} ({cell.grade_id or 'no grade_id'}): {errors or cell.stderr[:200]}"


def is_stub_error(error: dict) -> bool:
    """A NotImplementedError raised by an exercise's stub line, not by anything else."""
    traceback = ANSI.sub("", "\n".join(error.get("traceback", [])))
    return error["ename"] == "NotImplementedError" and "raise NotImplementedError()" in traceback


def guidance_for(cells: list[Cell], exercise: Cell) -> Cell | None:
    """The markdown cell nearest above an exercise: what the student reads before it."""
    above = [c for c in cells[: exercise.index] if c.type == "markdown"]
    return above[-1] if above else None


def master_answer(release_path: str, grade_id: str) -> str:
    """The master's source for an exercise cell, solution markers removed."""
    master = ROOT / release_path.replace("course/", "solutions/", 1)
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            lines = [line for line in cell.source.splitlines() if not SOLUTION_MARKER.match(line)]
            return "\n".join(lines)
    raise AssertionError(f"{relative(master)} has no cell {grade_id}")


def normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@pytest.mark.parametrize("path", [relative(p) for p in RELEASES])
def test_release_shows_only_the_stubs_under_their_guidance(lab, path, artifacts):
    panel = lab.open(path)
    try:
        lab.page.screenshot(path=artifacts / "first-screen" / shot_name(path))
        run = lab.run_all(path)
        cells = run.cells
        assert not run.unexecuted_code(), (
            f"{path}: Run All never ran cells {[c.index for c in run.unexecuted_code()]}; "
            "an error in a cell not tagged raises-exception stops it: "
            + "; ".join(describe(c) for c in run.error_cells() if not c.raises_exception)
        )
        counts = [c.count for c in cells if c.count is not None]
        assert counts == sorted(set(counts)), f"{path}: cells ran out of order: {counts}"
        unexpected = [c for c in cells if any(not is_stub_error(e) for e in c.errors)]
        assert not unexpected, (
            f"{path}: on a student's first run these cells fail with something other than "
            "the stubs' NotImplementedError:\n" + "\n".join(describe(c) for c in unexpected)
        )
        noisy = [c for c in cells if c.stderr]
        assert not noisy, f"{path}: cells print to stderr:\n" + "\n".join(map(describe, noisy))
        exercises = [c for c in cells if c.is_exercise]
        assert exercises, f"{path} has no exercise cell"
        assert run.error_cells(), f"{path}: no stub raised; are the exercises released as stubs?"

        tagged = [c.index for c in cells if c.raises_exception]
        assert [c.index for c in run.error_cells()] == tagged, (
            f"{path}: the cells tagged raises-exception {tagged} are not the cells that "
            f"raised {[c.index for c in run.error_cells()]}"
        )
        for cell in run.error_cells():
            shown = lab.cell(panel, cell.index).locator(STDERR_OUTPUT)
            assert lab.shows(shown), f"{path}: cell {cell.index}'s error is not on the page"
            assert "NotImplementedError" in shown.first.inner_text()

        for cell in cells:
            if cell.type == "code" and not cell.errors and PLOTS.search(cell.source):
                assert cell.images() and lab.shows(lab.cell(panel, cell.index).locator("img")), (
                    f"{path}: cell {cell.index} draws with pyplot but no plot shows on the page"
                )

        for exercise in exercises:
            guidance = guidance_for(cells, exercise)
            assert guidance is not None, f"{path}: exercise {exercise.grade_id} has no text above"
            rendered = lab.cell(panel, guidance.index).locator(".jp-RenderedMarkdown")
            assert guidance.rendered and lab.shows(rendered), (
                f"{path}: the guidance above {exercise.grade_id} (cell {guidance.index}) "
                "is not rendered"
            )
            text = rendered.first.inner_text()
            missing = [w for w in markdown_words(guidance.source) if w not in text]
            assert not missing, f"{path}: cell {guidance.index} renders without {missing}"
            if "$" in guidance.source:
                assert wait_until(lambda r=rendered: r.locator("mjx-container").count() > 0, 15), (
                    f"{path}: the maths in cell {guidance.index} was not typeset"
                )
    finally:
        lab.close(path)


@pytest.mark.skipif(not RELEASES, reason="no release notebook in course/ yet")
def test_typing_the_answer_makes_the_visible_test_pass(lab, workspace, artifacts):
    release = relative(RELEASES[0])
    # The student's own copy, so the other tests keep an untouched release.
    path = release.removesuffix(".ipynb") + "-typed.ipynb"
    shutil.copy(workspace / release, workspace / path)
    panel = lab.open(path)
    try:
        # Run All runs every cell; the first exercise's test fails with its stub.
        cells = lab.run_all(path).cells
        exercise = next(c for c in cells if c.is_exercise and c.type == "code")
        test = next(c for c in cells[exercise.index + 1:] if c.is_graded_test)
        assert any(e["ename"] == "NotImplementedError" for e in test.errors), (
            f"{release}: test {test.grade_id} should fail before {exercise.grade_id} is done"
        )
        answer = master_answer(release, exercise.grade_id)
        assert "NotImplementedError" not in answer

        lab.type_into_cell(panel, exercise.index, answer)
        typed = lab.cells(path)[exercise.index].source
        assert normalized(typed) == normalized(answer), f"the editor holds:\n{typed}"
        # Shift+Enter from the exercise down to its test cell, as a student does.
        for _ in range(test.index - exercise.index + 1):
            lab.shift_enter()
        lab.wait_for_execution(path, test.index, after=test.count)
        after = lab.cells(path)[test.index]
        assert not after.errors and not after.stderr, (
            f"{release}: with the master's answer typed in, {describe(after)}"
        )
        shown = lab.cell(panel, test.index)
        assert shown.locator(STDERR_OUTPUT).count() == 0
        printed = "".join("".join(o.get("text", "")) for o in after.outputs).strip()
        if printed:
            assert printed.splitlines()[0] in shown.locator(".jp-OutputArea").inner_text()

        # Save, then nbgrader's Validate: the solved test is no longer among the failures.
        lab.page.keyboard.press("ControlOrMeta+s")
        lab.wait_saved(path)
        message = validate(lab, panel, path, artifacts)
        assert "passes all" not in message and "NotImplementedError" in message, message[:800]
        assert test.source.splitlines()[0] not in message, (
            f"Validate still reports {test.grade_id} as failing after the answer was typed:\n"
            f"{message[:800]}"
        )
        others = [c for c in cells if c.is_graded_test and c.index != test.index and c.errors]
        if others:
            assert others[0].source.splitlines()[0] in message, message[:800]
    finally:
        lab.close(path)


@pytest.mark.skipif(
    not (ROOT / WIDGET_NOTEBOOK).exists(), reason=f"{WIDGET_NOTEBOOK} not written yet"
)
def test_step_slider_redraws_the_secant_plot(lab, artifacts):
    path = WIDGET_NOTEBOOK
    panel = lab.open(path)
    try:
        # The widget sits below the first exercise: Run All goes on past its stub error
        # (the test cells are tagged raises-exception) and renders the widget.
        run = lab.run_all(path)
        assert not run.unexecuted_code(), (
            f"{path}: Run All never ran cells {[c.index for c in run.unexecuted_code()]}"
        )
        step_slider = lab.page.locator(".widget-slider", has_text="step")
        widget = panel.locator(".widget-vbox", has=step_slider).last
        slider = widget.locator(".widget-slider", has_text="step").first
        assert lab.shows(slider), f"{path}: no 'step' slider on the page after Run All"
        shown_at = [c.index for c in run.cells if any(WIDGET_MIME in o.get("data", {})
                                                      for o in c.outputs)]
        assert shown_at and any(c.index < shown_at[0] for c in run.error_cells()), (
            f"{path}: expected the widget (cells {shown_at}) below a stub error "
            f"(cells {[c.index for c in run.error_cells()]}) to show that Run All went on"
        )
        image = widget.locator("img.widget-image").first
        assert lab.shows(image), f"{path}: the slider's plot is not shown"
        readout = slider.locator(".widget-readout").first
        before_value, before_src = readout.inner_text(), image.get_attribute("src")
        before_png = image.screenshot(path=artifacts / "widget-secant-before.png")

        handle = slider.locator(".noUi-handle").first
        track = slider.locator(".noUi-target").first.bounding_box()
        box = handle.bounding_box()
        lab.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        lab.page.mouse.down()
        lab.page.mouse.move(track["x"] + 0.2 * track["width"], box["y"] + box["height"] / 2,
                            steps=8)
        lab.page.mouse.up()

        assert wait_until(lambda: image.get_attribute("src") != before_src, 30), (
            f"{path}: moving the step slider ({before_value} -> {readout.inner_text()}) "
            "did not redraw the plot"
        )
        lab.wait_idle(path)
        after_value = readout.inner_text()
        assert float(after_value) < float(before_value), (before_value, after_value)
        after_png = image.screenshot(path=artifacts / "widget-secant-after.png")
        assert after_png != before_png, "the redrawn plot looks the same as before"
        widget.screenshot(path=artifacts / "widget-secant.png")
    finally:
        lab.close(path)


def validate(lab, panel, path: str, artifacts) -> str:
    """Press nbgrader's Validate button; return what its dialog says, then close it."""
    panel.locator(".jp-Toolbar").first.get_by_role("button", name="Validate").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.wait_for(state="visible", timeout=30_000)
    assert wait_until(lambda: "alidating" not in dialog.inner_text(), 120), dialog.inner_text()
    message = dialog.inner_text()
    lab.page.screenshot(path=artifacts / ("validate--" + shot_name(path)))
    dialog.get_by_role("button", name="Ok").click()
    dialog.wait_for(state="hidden")
    return message


@pytest.mark.skipif(not MASTERS, reason="no master notebook in solutions/ yet")
def test_master_passes_every_test_and_validates(lab, artifacts):
    path = relative(MASTERS[0])
    panel = lab.open(path)
    try:
        lab.page.screenshot(path=artifacts / "first-screen" / shot_name(path))
        run = lab.run_all(path)
        failing = [c for c in run.cells if c.errors or (c.is_graded_test and c.stderr)]
        assert not failing, f"{path}:\n" + "\n".join(describe(c) for c in failing)
        assert not run.unexecuted_code(), f"{path}: cells never ran"
        tests = [c for c in run.cells if c.is_graded_test]
        assert tests and all(c.count for c in tests), f"{path}: graded tests did not all run"
        assert panel.locator(STDERR_OUTPUT).count() == 0, f"{path}: an error shows on the page"

        message = validate(lab, panel, path, artifacts)
        assert "Success! Your notebook passes all the tests." in message, (
            f"nbgrader's Validate on {path} says:\n{message[:800]}"
        )
    finally:
        lab.close(path)
