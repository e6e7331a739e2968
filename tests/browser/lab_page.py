"""Drive one JupyterLab page the way a student does, and read back what it shows.

Notebooks are opened and run through JupyterLab's own commands (`docmanager:open`,
`notebook:run-all-cells`) via `window.jupyterapp`, which the test
server exposes. Edits go through the cell's CodeMirror editor with the keyboard. What a test
asserts on is read from the page: the rendered cells and outputs, and the notebook model
behind them (execution counts, output types), which is what the page renders.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from playwright.sync_api import Locator, Page

from tests.waits import waiting_for

KERNEL_TIMEOUT_MS = 120_000

# Opens path as a notebook, waits for its kernel, and keeps the widget under its path.
_OPEN = """async (path) => {
  const app = window.jupyterapp;
  const widget = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await widget.context.ready;
  await widget.sessionContext.ready;
  window.__notebooks = window.__notebooks || {};
  window.__notebooks[path] = widget;
  app.shell.activateById(widget.id);
  return widget.id;
}"""

# Waits until the notebook's kernel is idle and no cell is queued or running.
_SETTLED = """(path) => {
  const widget = window.__notebooks[path];
  const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  return widget.content.widgets.every(
    c => c.model.type !== 'code' || c.model.executionState !== 'running');
}"""

# One entry per cell: type, execution count, outputs as plain JSON, nbgrader metadata, tags.
_CELLS = """(path) => window.__notebooks[path].content.widgets.map(c => ({
  type: c.model.type,
  source: c.model.sharedModel.getSource(),
  count: c.model.type === 'code' ? c.model.executionCount : null,
  outputs: c.model.type === 'code' ? c.model.outputs.toJSON() : [],
  nbgrader: c.model.getMetadata('nbgrader') || null,
  tags: c.model.getMetadata('tags') || [],
  rendered: c.model.type === 'markdown' ? c.rendered : null,
}))"""

# Runs the whole notebook with the "Run All" command; resolves when every cell's request
# has its reply. Run All sends every cell at once and its command resolves at the first
# error reply, while the cells below a cell tagged raises-exception are still running (their
# state already reset to idle), so the kernel status alone cannot tell when the run is over.
# (evaluate_within races the whole of it against a timer.)
_RUN_ALL = """async (path) => {
  const app = window.jupyterapp;
  const widget = window.__notebooks[path];
  app.shell.activateById(widget.id);
  await app.commands.execute('notebook:run-all-cells');
  const replies = widget.content.widgets
    .filter(c => c.model.type === 'code' && c.outputArea.future)
    .map(c => c.outputArea.future.done.catch(() => null));
  await Promise.all(replies);
}"""

# Playwright's page.evaluate has no timeout: a promise of the page that never settles (a
# kernel that never becomes ready, a Run All that never ends) would hold the test, and the
# run, for ever. So every evaluation races the page's own timer, which rejects naming the
# wait. %s is the function evaluated, called with the argument.
_WITHIN = """async ([arg, timeoutMs, what]) => {
  const body = %s;
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)),
                       timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => body(arg)), late]);
  } finally {
    clearTimeout(timer);
  }
}"""


def evaluate_within(page: Page, script: str, arg=None, *, timeout_ms: int, what: str):
    """page.evaluate(script, arg), failing after timeout_ms with `what` in the message.

    The timer runs in the page, so a promise that never settles is rejected there; a page
    whose own thread is stuck cannot run the timer, and then the test's pytest-timeout,
    told `what` by waiting_for, ends the wait.
    """
    with waiting_for(f"the page: {what}"):
        return page.evaluate(_WITHIN % script.strip(), [arg, timeout_ms, what])


# Closes the notebook without saving; its kernel shuts down in the background.
_CLOSE = """(path) => {
  const widget = window.__notebooks[path];
  if (!widget) return;
  const session = widget.sessionContext.session;
  widget.context.model.dirty = false;
  widget.dispose();
  delete window.__notebooks[path];
  if (session) window.jupyterapp.serviceManager.sessions.shutdown(session.id);
}"""



@dataclass
class Cell:
    """A notebook cell as the page's model holds it after a run."""

    index: int
    type: str
    source: str
    count: int | None
    outputs: list[dict]
    nbgrader: dict | None
    tags: list[str]
    rendered: bool | None

    @property
    def grade_id(self) -> str | None:
        return (self.nbgrader or {}).get("grade_id")

    @property
    def is_exercise(self) -> bool:
        meta = self.nbgrader or {}
        return self.type == "code" and bool(meta.get("solution"))

    @property
    def is_graded_test(self) -> bool:
        meta = self.nbgrader or {}
        return self.type == "code" and bool(meta.get("grade")) and not meta.get("solution")

    @property
    def raises_exception(self) -> bool:
        """Tagged `raises-exception`: JupyterLab's Run All goes on past its error."""
        return "raises-exception" in self.tags

    @property
    def errors(self) -> list[dict]:
        return [o for o in self.outputs if o.get("output_type") == "error"]

    @property
    def stderr(self) -> str:
        return "".join(
            "".join(o.get("text", ""))
            for o in self.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )

    def images(self) -> int:
        return sum("image/png" in o.get("data", {}) for o in self.outputs)


@dataclass
class Run:
    """What a student sees after running a notebook: its cells."""

    cells: list[Cell]

    def unexecuted_code(self) -> list[Cell]:
        return [c for c in self.cells if c.type == "code" and c.source.strip() and c.count is None]

    def error_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.errors]


class LabPage:
    """A Playwright page showing JupyterLab, with the notebooks it has opened."""

    def __init__(self, page: Page, lab_url: str):
        self.page = page
        self.lab_url = lab_url

    def load(self) -> None:
        """Load JupyterLab and wait until its shell has restored."""
        self.page.goto(self.lab_url)
        with waiting_for(f"JupyterLab's page at {self.lab_url}"):
            self.page.wait_for_function("window.jupyterapp !== undefined", timeout=90_000)
        self.evaluate("async () => { await window.jupyterapp.restored; }",
                      timeout_ms=90_000, what="JupyterLab's shell to restore")

    def evaluate(self, script: str, arg=None, *, timeout_ms: int = 30_000,
                 what: str = "an evaluation in the page"):
        """Evaluate script in the page, bounded by timeout_ms (see evaluate_within)."""
        return evaluate_within(self.page, script, arg, timeout_ms=timeout_ms, what=what)

    # --- notebooks -------------------------------------------------------------------------

    def open(self, path: str) -> Locator:
        """Open the notebook at path (relative to the server root); return its panel."""
        widget_id = self.evaluate(_OPEN, path, timeout_ms=KERNEL_TIMEOUT_MS,
                                  what=f"open {path} and its kernel ready")
        panel = self.page.locator(f"[id='{widget_id}']")
        panel.locator(".jp-Cell").first.wait_for(state="visible", timeout=30_000)
        self.wait_idle(path)
        return panel

    def close(self, path: str) -> None:
        self.evaluate(_CLOSE, path, what=f"close {path}")

    def wait_idle(self, path: str, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        with waiting_for(f"{path}: its kernel idle"):
            self.page.wait_for_function(_SETTLED, arg=path, timeout=timeout_ms, polling=200)

    def wait_for_execution(self, path: str, index: int, after: int | None) -> None:
        """Wait until cell index has run again (its execution count moved past `after`)."""
        with waiting_for(f"{path}: cell {index} to run"):
            self.page.wait_for_function(
                """([path, index, after]) => {
                  const cell = window.__notebooks[path].content.widgets[index].model;
                  return cell.executionCount !== null && cell.executionCount !== after
                    && cell.executionState !== 'running';
                }""",
                arg=[path, index, after], timeout=KERNEL_TIMEOUT_MS, polling=200,
            )
        self.wait_idle(path)

    def wait_saved(self, path: str) -> None:
        with waiting_for(f"{path}: saved"):
            self.page.wait_for_function(
                "(path) => !window.__notebooks[path].context.model.dirty", arg=path,
                polling=200, timeout=60_000)

    def cells(self, path: str) -> list[Cell]:
        cells = self.evaluate(_CELLS, path, what=f"{path}: read its cells")
        return [Cell(index=i, **c) for i, c in enumerate(cells)]

    def run_all(self, path: str) -> Run:
        """JupyterLab's own Run All, as a student clicks it; returns once every cell is done.

        Run All sends every cell at once. A cell tagged `raises-exception` is sent with
        stop_on_error false, so the run goes on past its error; an error anywhere else makes
        the kernel drop every cell queued below it, which then never runs.
        """
        self.evaluate(_RUN_ALL, path, timeout_ms=KERNEL_TIMEOUT_MS,
                      what=f"Run All of {path}: a reply from every cell")
        self.wait_idle(path)
        return Run(self.cells(path))

    # --- what the page shows ---------------------------------------------------------------

    def cell(self, panel: Locator, index: int) -> Locator:
        return panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def shows(self, locator: Locator) -> bool:
        """True if locator is on screen once scrolled to (not hidden, not zero-sized)."""
        if locator.count() == 0:
            return False
        locator.first.scroll_into_view_if_needed(timeout=10_000)
        return locator.first.is_visible()

    # --- editing like a student ------------------------------------------------------------

    def type_into_cell(self, panel: Locator, index: int, text: str) -> None:
        """Click into the cell's editor, select everything, and type text in its place.

        Each line is typed after Enter with the editor's auto-indent cleared, so the code
        ends up indented exactly as written (a student would fix the indent by hand).
        """
        editor = self.cell(panel, index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        keyboard = self.page.keyboard
        keyboard.press("ControlOrMeta+a")
        keyboard.press("Delete")
        for number, line in enumerate(text.split("\n")):
            if number:
                keyboard.press("Enter")
                keyboard.press("Shift+Home")
                keyboard.press("Delete")
            if line:
                keyboard.insert_text(line)

    def shift_enter(self) -> None:
        """Run the selected cell and select the next one (Shift+Enter)."""
        self.page.keyboard.press("Shift+Enter")


def markdown_words(source: str) -> list[str]:
    """Plain words of a markdown cell's first heading or line, as the rendered page shows them."""
    lines = [line for line in source.splitlines() if line.strip()]
    heading = next((line for line in lines if line.lstrip().startswith("#")), lines[0])
    heading = re.sub(r"\$[^$]*\$", " ", heading)  # maths is typeset, not shown as text
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", heading)]


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
