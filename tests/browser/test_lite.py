"""The zero-install course (`make lite`) in a real browser, served from 127.0.0.1 only.

The built site is served by a plain static file server. Each release notebook is opened in
JupyterLite and run with Run All, as a student's first step: every cell runs, the only errors
are the exercises' NotImplementedError stubs, each under its rendered guidance, plots show,
and the visible tests print what they print in a CPython kernel. The first exercise's answer
is typed in and its visible test passes; the secant slider (01) and the graph stepper (02)
redraw their pictures. Each notebook is downloaded as a student would, keeps its nbgrader
metadata, and `autograder grade` scores it as the same answers typed into a JupyterLab
notebook. After a reload the typed answers are still in the browser's storage. Every request
the page, its workers and its service worker made went to the serving host.

The timings (page load to the first cell's result, Run All of each notebook) are written to
output/browser/lite-timings.json.
"""

from __future__ import annotations

import csv
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.lab_page import LabPage, wait_until
from tests.browser.lab_server import ROOT
from tests.browser.test_student_path import (
    PLOTS,
    STDERR_OUTPUT,
    describe,
    guidance_for,
    is_stub_error,
    master_answer,
    normalized,
)
from tests.notebooks.kernel import execute
from tests.waits import waiting_for

# Each test may open a notebook in Pyodide (20-40 s on a busy machine), Run All (up to
# KERNEL_TIMEOUT_MS), and run it again in CPython; the grading test grades ten notebooks.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("lite"),
              pytest.mark.timeout(1200)]

SITE = ROOT / "output" / "lite"
RELEASES = sorted(ROOT.glob("course/[0-9][0-9]-*/*.ipynb"))
# Paths inside the site: the release folders sit at its root.
NOTEBOOKS = [p.relative_to(ROOT / "course").as_posix() for p in RELEASES]
TIMINGS: dict[str, float] = {}
DOWNLOADED: dict[str, tuple[Path, Path, str]] = {}  # path -> (lite copy, lab copy, answer)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site() -> Path:
    """output/lite/, built by `make lite` when missing or older than its inputs."""
    if chromium_path() is None:
        pytest.skip("browser tests need Chromium: /usr/bin/chromium is missing (Debian: "
                    "`apt-get install chromium`, or run tools/install-system-deps as root)")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with waiting_for("`make lite` to build the site"):
        done = subprocess.run(["make", "--no-print-directory", "lite"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"make lite failed:\n{done.stdout}\n{done.stderr}"
    return SITE


@pytest.fixture(scope="module")
def site_url(site):
    """The site on a free port of 127.0.0.1, served as static files and nothing else."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def elsewhere() -> list[str]:
    """Every request that went anywhere but the serving host (it is also refused)."""
    return []


@pytest.fixture(scope="module")
def seen() -> list[str]:
    return []


@pytest.fixture(scope="module")
def lite(site_url, elsewhere, seen, playwright_driver, tmp_path_factory):
    """JupyterLite in a fresh headless Chromium profile, loaded once and timed."""
    host = urllib.parse.urlsplit(site_url).netloc

    def watch(request) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about", "chrome-extension"):
            return
        seen.append(request.url)
        if parts.netloc != host:
            elsewhere.append(request.url)

    def refuse_elsewhere(route) -> None:
        if urllib.parse.urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            route.abort()

    playwright = playwright_driver
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("lite-profile")),
        executable_path=str(chromium_path()), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.on("request", watch)
    context.route("**/*", refuse_elsewhere)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        lab = LabPage(page, f"{site_url}/lab/index.html")
        started = time.monotonic()
        lab.load()
        TIMINGS["page load to JupyterLab ready (s)"] = time.monotonic() - started
        lab.started = started
        yield lab
    finally:
        write_timings()
        context.close()


def write_timings() -> None:
    if not TIMINGS:
        return
    folder = ROOT / "output" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    size = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file())
    figures = {"site size (MB)": round(size / 1e6, 1),
               **{k: round(v, 1) for k, v in TIMINGS.items()}}
    (folder / "lite-timings.json").write_text(json.dumps(figures, indent=2) + "\n")


def first_code_result(lab: LabPage, path: str) -> None:
    """Run the notebook's first code cell and wait for its result."""
    lab.evaluate("""(path) => {
      const widget = window.__notebooks[path];
      const index = widget.content.widgets.findIndex(c => c.model.type === 'code');
      widget.content.activeCellIndex = index;
      return window.jupyterapp.commands.execute('notebook:run-cell');
    }""", path, timeout_ms=180_000, what=f"{path}: run its first code cell")
    with waiting_for(f"{path}: the first code cell's result"):
        lab.page.wait_for_function("""(path) => {
          const cell = window.__notebooks[path].content.widgets.find(c => c.model.type === 'code');
          return cell.model.executionCount !== null && cell.model.executionState !== 'running';
        }""", arg=path, timeout=180_000, polling=200)


def cpython_test_outputs(release: Path) -> dict[str, list[str]]:
    """What each visible test cell shows when the release runs in a CPython kernel."""
    return {c.metadata["nbgrader"]["grade_id"]: shown(c.get("outputs", []))
            for c in execute(release).cells if is_graded_test_cell(c)}


def is_graded_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def shown(outputs: list[dict]) -> list[str]:
    """A cell's printed text and error lines, as the student reads them."""
    lines = []
    for output in outputs:
        if output.get("output_type") == "stream":
            lines += "".join(output.get("text", "")).splitlines()
        elif output.get("output_type") == "error":
            lines.append(f"{output['ename']}: {ANSI.sub('', output['evalue'])}")
    return lines


@pytest.mark.skipif(not RELEASES, reason="no release notebook in course/ yet")
def test_first_cell_result_after_page_load(lite):
    path = NOTEBOOKS[0]
    lite.open(path)
    first_code_result(lite, path)
    TIMINGS["page load to first cell result (s)"] = time.monotonic() - lite.started
    cell = next(c for c in lite.cells(path) if c.type == "code")
    assert not cell.errors, describe(cell)
    # left open: the next test runs this notebook in the kernel that is already up


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_a_notebook_runs_answers_and_downloads_as_in_jupyterlab(lite, path, artifacts,
                                                               tmp_path_factory):
    release = ROOT / "course" / path
    started = time.monotonic()
    panel = lite.open(path)
    TIMINGS[f"{path}: kernel ready (s)"] = time.monotonic() - started
    try:
        started = time.monotonic()
        run = lite.run_all(path)
        TIMINGS[f"{path}: Run All (s)"] = time.monotonic() - started
        lite.page.screenshot(path=artifacts / "lite" / f"{path.replace('/', '--')}.png")
        cells = run.cells
        assert not run.unexecuted_code(), (
            f"{path}: Run All never ran cells {[c.index for c in run.unexecuted_code()]}: "
            + "; ".join(describe(c) for c in run.error_cells() if not c.raises_exception))
        unexpected = [c for c in cells if any(not is_stub_error(e) for e in c.errors)]
        assert not unexpected, (f"{path}: in JupyterLite these cells fail with something other "
                                "than the stubs' NotImplementedError:\n"
                                + "\n".join(describe(c) for c in unexpected))
        noisy = [c for c in cells if c.stderr]
        assert not noisy, f"{path}: cells print to stderr:\n" + "\n".join(
            f"cell {c.index} ({c.grade_id}): {c.stderr[:300]!r}" for c in noisy)
        assert [c.index for c in run.error_cells()] == [c.index for c in cells
                                                         if c.raises_exception]
        for cell in run.error_cells():
            assert lite.shows(lite.cell(panel, cell.index).locator(STDERR_OUTPUT)), (
                f"{path}: cell {cell.index}'s error is not on the page")
        for exercise in (c for c in cells if c.is_exercise):
            guidance = guidance_for(cells, exercise)
            assert guidance is not None and guidance.rendered, (
                f"{path}: the guidance above {exercise.grade_id} is not rendered")
        for cell in cells:
            if cell.type == "code" and not cell.errors and PLOTS.search(cell.source):
                assert cell.images() and lite.shows(lite.cell(panel, cell.index).locator("img")), (
                    f"{path}: cell {cell.index} draws with pyplot but no plot shows on the page")

        # the visible tests say what they say in a CPython kernel
        in_cpython = cpython_test_outputs(release)
        in_lite = {c.grade_id: shown(c.outputs) for c in cells if c.is_graded_test}
        assert in_lite == in_cpython, f"{path}: the visible tests print differently"

        if path.startswith("01-"):
            secant_slider_redraws(lite, panel, artifacts)
        if path.startswith("02-"):
            graph_stepper_redraws(lite, panel)

        # the answer of the exercise just above the first visible test, typed in, passes it
        test = next(c for c in cells if c.is_graded_test
                    and any(e.is_exercise for e in cells[:c.index]))
        exercise = [c for c in cells[:test.index] if c.is_exercise][-1]
        answer = master_answer(f"course/{path}", exercise.grade_id)
        lite.type_into_cell(panel, exercise.index, answer)
        typed = lite.cells(path)[exercise.index].source
        assert normalized(typed) == normalized(answer), f"{path}: the editor holds:\n{typed}"
        for _ in range(test.index - exercise.index + 1):
            lite.shift_enter()
        lite.wait_for_execution(path, test.index, after=test.count)
        after = lite.cells(path)[test.index]
        assert not after.errors and not after.stderr, f"{path}: answer typed in: {describe(after)}"

        lite.page.keyboard.press("ControlOrMeta+s")
        lite.wait_saved(path)
        folder = tmp_path_factory.mktemp("lite-download")
        DOWNLOADED[path] = (download(lite, path, folder), lab_copy(release, exercise.grade_id,
                                                                   answer, folder), answer)
        kept = nbformat.read(DOWNLOADED[path][0], as_version=4)
        original = nbformat.read(release, as_version=4)
        assert [c.metadata.get("nbgrader") for c in kept.cells] == [
            c.metadata.get("nbgrader") for c in original.cells], (
            f"{path}: the downloaded notebook's nbgrader metadata differs from the release")
        assert [c.get("id") for c in kept.cells] == [c.get("id") for c in original.cells]
    finally:
        lite.close(path)


def secant_slider_redraws(lite: LabPage, panel, artifacts) -> None:
    slider = panel.locator(".widget-slider", has_text="step").first
    assert lite.shows(slider), "01: no 'step' slider after Run All"
    widget = panel.locator(".widget-vbox", has=lite.page.locator(".widget-slider",
                                                                 has_text="step")).last
    image = widget.locator("img.widget-image").first
    assert lite.shows(image), "01: the secant plot is not shown"
    before = image.get_attribute("src")
    handle = slider.locator(".noUi-handle").first.bounding_box()
    track = slider.locator(".noUi-target").first.bounding_box()
    lite.page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    lite.page.mouse.down()
    lite.page.mouse.move(track["x"] + 0.2 * track["width"], handle["y"] + handle["height"] / 2,
                         steps=8)
    lite.page.mouse.up()
    assert wait_until(lambda: image.get_attribute("src") != before, 60), (
        "01: moving the step slider did not redraw the secant plot")
    widget.screenshot(path=artifacts / "lite" / "widget-secant.png")


def graph_stepper_redraws(lite: LabPage, panel) -> None:
    widget = panel.locator(".widget-vbox").filter(
        has=lite.page.get_by_role("button", name="Next ▶")).first
    image = widget.locator("img.widget-image").first
    assert lite.shows(image), "02: the graph stepper's picture is not shown"
    before = image.get_attribute("src")
    widget.get_by_role("button", name="Next ▶").click()
    assert wait_until(lambda: image.get_attribute("src") != before, 60), (
        "02: pressing Next did not redraw the graph")


def download(lite: LabPage, path: str, folder: Path) -> Path:
    """JupyterLab's File > Download of the open notebook, saved where the browser puts it."""
    with waiting_for(f"{path}: its download"), lite.page.expect_download(timeout=60_000) as started:
        lite.evaluate("""(path) => {
          window.jupyterapp.shell.activateById(window.__notebooks[path].id);
          return window.jupyterapp.commands.execute('docmanager:download');
        }""", path, timeout_ms=60_000, what=f"{path}: File > Download")
    target = folder / "lite" / Path(path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    with waiting_for(f"{path}: the downloaded file saved"):
        started.value.save_as(target)
    return target


def lab_copy(release: Path, grade_id: str, answer: str, folder: Path) -> Path:
    """The release with the same answer typed in, as a JupyterLab student would save it."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = answer
    target = folder / "lab" / release.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def test_downloaded_notebooks_grade_as_the_same_answers_typed_in_jupyterlab(tmp_path):
    if not DOWNLOADED:
        pytest.skip("no notebook was downloaded (the notebook tests did not run)")
    submissions = tmp_path / "submitted"
    for path, (lite_nb, lab_nb, _) in DOWNLOADED.items():
        assignment = path.split("/")[0]
        for student, notebook in (("lite", lite_nb), ("lab", lab_nb)):
            target = submissions / student / assignment / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(notebook.read_bytes())
    work = tmp_path / "work"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for command in (["grade", str(submissions), "--workers", "2", "--quiet"], ["export"]):
        done = subprocess.run([sys.executable, "-m", "autograder", *command, "--root", str(ROOT),
                               "--work", str(work)], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    with open(work / "export" / "grades.csv") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    for path in DOWNLOADED:
        assignment = path.split("/")[0]
        assert rows["lite"][assignment] == rows["lab"][assignment], (
            f"{assignment}: downloaded from JupyterLite it scores {rows['lite'][assignment]}, "
            f"typed in JupyterLab {rows['lab'][assignment]}")
        assert float(rows["lite"][assignment]) > 0, (
            f"{assignment}: the typed answer earned no point ({rows['lite'][assignment]})")


def test_typed_answers_are_still_there_after_a_reload(lite):
    if not DOWNLOADED:
        pytest.skip("no answer was typed (the notebook tests did not run)")
    lite.load()  # the same page, reloaded: JupyterLite keeps the files in browser storage
    for path, (_, _, answer) in DOWNLOADED.items():
        stored = lite.evaluate("""async (path) => {
          const model = await window.jupyterapp.serviceManager.contents.get(path, {content: true});
          return model.content.cells.map(c => Array.isArray(c.source) ? c.source.join('')
                                                                         : c.source);
        }""", path, timeout_ms=60_000, what=f"{path}: read back from the browser's storage")
        assert any(normalized(source) == normalized(answer) for source in stored), (
            f"{path}: after a reload the typed answer is gone")


def test_no_request_left_the_serving_host(lite, seen, elsewhere):
    assert len(seen) > 50, f"only {len(seen)} requests were seen: is the watch working?"
    assert not elsewhere, f"requests to other hosts: {sorted(set(elsewhere))[:20]}"
