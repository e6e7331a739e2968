"""Generate the example class from the masters and the release.

    python -m autograder.examples.make_examples [TARGET]

writes TARGET/submitted/<student>/<assignment>/<notebook>.ipynb and TARGET/expected.json
(default TARGET: autograder/examples). Every submission starts from the student release
(`course/`); answers come from the masters' solution cells (markers removed). Expected scores
are worked out from the notebooks' structure, never by grading:

- perfect: every code exercise answered -> the sum of the code tests' points (written answers
  need a human, so they score nothing automatically);
- partly-right: the last code exercise of each notebook left as the stub -> perfect minus the
  tests that follow it;
- blank: the stubs -> 0;
- wrong-answers: every code exercise answered with wrong but running code (each `return x`
  of the master becomes `return 1.1 * (x) + 0.1`: numbers of the right shape, wrong values)
  -> 0. Every hostile submission of the hostile assignment starts from these wrong answers and
  adds an attack made so that, without the kit's defences, the tests would pass (see
  tests/grading/test_attacks_are_sharp.py, which grades them with plain nbgrader too) -> 0
  (the attack must not help);
- probes-sandbox, floods-output: perfect answers plus the attack -> the perfect score.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from autograder.authoring.manifest import is_restated_answer
from autograder.course import REPO_ROOT, existing_assignments

HOSTILE_ASSIGNMENT = "01-derivatives"

# Attacks placed right after the wrong answers of the first code exercise (so after the setup
# cell's imports and before the first test). Each one would score without the kit's defences.
ATTACKS = {
    # A line transformer wraps every cell that calls a check in try/except: the failures of the
    # test cells vanish, their replies say "ok" and nbgrader sees no error.
    "hides-tracebacks": ("graded", """\
def _swallow_failures(lines):
    if not any("check_" in line for line in lines):
        return lines
    return ["try:\\n"] + ["    " + line for line in lines] + ["\\nexcept Exception:\\n    pass\\n"]
get_ipython().input_transformer_manager.line_transforms.append(_swallow_failures)
"""),
    # What the checks compare with: np.all(close(...)), np.allclose, np.isclose, np.array_equal.
    "patches-numpy": ("graded", """\
import numpy as np
np.all = lambda *args, **kwargs: True
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones_like(a, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
"""),
    # Every check_* function of coursekit becomes a no-op in place (new __code__), so the names
    # the setup cell imported into the notebook pass too.
    "patches-coursekit": ("graded", """\
import coursekit.checks, coursekit.difference_checks
def _passes(*args, **kwargs):
    return None
for _module in (coursekit.checks, coursekit.difference_checks):
    for _name, _obj in list(vars(_module).items()):
        if _name.startswith("check_") and callable(_obj) and hasattr(_obj, "__code__"):
            _obj.__code__ = _passes.__code__
"""),
    # coursekit untouched: only the notebook's own names for the checks are rebound.
    "shadows-checks": ("graded", None),  # made from the setup cell's imports
    # An execute_result in front of every cell's own output: nbgrader gives full credit for an
    # execute_result that is not a number, before it looks at the error that follows.
    "prints-passed": ("graded", """\
def _looks_passed(*args, **kwargs):
    print("\u2713 All tests passed!")
    get_ipython().displayhook("All tests passed!")
get_ipython().events.register("pre_run_cell", _looks_passed)
"""),
    "calls-sys-exit": ("graded", "import sys\nsys.exit(0)\n"),
    "calls-os-exit": ("kernel died", "import os\nos._exit(0)\n"),
    "kills-kernel": ("kernel died", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"),
    "loops-forever": ("timed out", "while True:\n    pass\n"),
    "eats-memory": ("killed for memory",
                    "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))\n"),
}

# Wrong answers wrapped in an array subclass that says yes to every comparison.
ALWAYS_EQUAL = """\
import numpy as np


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __sub__(self, other):
        return np.zeros(np.shape(self)).view(AlwaysEqual)

    __rsub__ = __sub__

    def __abs__(self):
        return np.zeros(np.shape(self)).view(AlwaysEqual)

    def __bool__(self):
        return True


def _always_equal(value):
    return np.asarray(value, dtype=float).view(AlwaysEqual)
"""

PROBE = '''# Try to read the masters, the gradebook and other students' work; write outside; go online.
import os, socket, pathlib, coursekit
root = pathlib.Path(coursekit.__file__).resolve().parents[2]  # the course repository
for path in [root / "solutions", root / "work" / "gradebook.db", root / "work" / "submitted",
             root / "output", os.path.expanduser("~root/.bashrc")]:
    try:
        found = os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(8)
        print("SEEN" if found else "HIDDEN", path)
    except OSError as exc:
        print("HIDDEN", path, type(exc).__name__)
import ctypes
for path in [root / "solutions", root / "work"]:  # lift the tmpfs hiding it (needs root caps)
    if ctypes.CDLL(None).umount2(str(path).encode(), 2) == 0:
        print("UNMOUNTED", path)
for path in [root / "course" / "pwned.txt", root / "pwned.txt"]:
    try:
        open(path, "w").write("pwned")
        print("WROTE", path)
    except OSError as exc:
        print("REFUSED", path, type(exc).__name__)
try:
    socket.create_connection(("pypi.org", 443), timeout=3)
    print("NET-OPEN")
except OSError as exc:
    print("NET-BLOCKED", type(exc).__name__)
'''

FLOOD = "for _ in range(300):\n    print('spam ' * 4_000)\n"


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _is_code_exercise(cell) -> bool:
    """A code exercise's answer cell (not a cell for an earlier notebook's restated answer)."""
    return (bool(_nbgrader(cell).get("solution")) and cell.cell_type == "code"
            and not is_restated_answer(cell))


def _strip_markers(source: str) -> str:
    keep = [line for line in source.splitlines()
            if not re.match(r"\s*### (BEGIN|END) SOLUTION", line)]
    return "\n".join(keep)


def _master(root: Path, assignment: str, notebook: str):
    return nbformat.read(root / "solutions" / assignment / f"{notebook}.ipynb", as_version=4)


def _release(root: Path, assignment: str, notebook: str):
    return nbformat.read(root / "course" / assignment / f"{notebook}.ipynb", as_version=4)


def notebooks(root: Path, assignment: str) -> list[str]:
    return sorted(p.stem for p in (root / "course" / assignment).glob("*.ipynb"))


def answered(root: Path, assignment: str, notebook: str, skip_last: bool = False):
    """The release with the masters' answers filled in (optionally leaving the last stub)."""
    return answered_release(root, assignment, notebook, _release(root, assignment, notebook),
                            skip_last)


def answered_release(root: Path, assignment: str, notebook: str, release,
                     skip_last: bool = False):
    """``release`` (the released notebook ``notebook``) with its master's answers filled in."""
    master = {_nbgrader(c).get("grade_id"): c for c in _master(root, assignment, notebook).cells}
    nb = copy.deepcopy(release)
    code_solutions = [c for c in nb.cells if _is_code_exercise(c)]
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and meta.get("grade_id") in master:
            if skip_last and code_solutions and cell is code_solutions[-1]:
                continue
            cell.source = _strip_markers(master[meta["grade_id"]].source)
    return nb


def wrong(source: str, wrap: str = "") -> str:
    """A master's answer made wrong but running: `return x` -> `return 1.1 * (x) + 0.1`."""
    lines = []
    for line in _strip_markers(source).splitlines():
        match = re.match(r"(\s*)return (.+)$", line)
        if match:
            line = f"{match[1]}return {wrap}(1.1 * ({match[2]}) + 0.1)"
        lines.append(line)
    return "\n".join(lines)


def wrong_answers(root: Path, assignment: str, notebook: str, wrap: str = ""):
    """The release with every code exercise answered wrongly (right shapes, wrong values)."""
    master = {_nbgrader(c).get("grade_id"): c for c in _master(root, assignment, notebook).cells}
    nb = copy.deepcopy(_release(root, assignment, notebook))
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and cell.cell_type == "code" and meta.get("grade_id") in master:
            cell.source = wrong(master[meta["grade_id"]].source, wrap)
    return nb


def _imported_checks(nb) -> list[str]:
    """The check functions the notebook's own cells import from coursekit."""
    names = []
    for cell in nb.cells:
        if cell.cell_type != "code" or _nbgrader(cell).get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coursekit"):
                names += [a.asname or a.name for a in node.names if a.name.startswith("check")]
    return names


def _shadowing(nb) -> str:
    names = _imported_checks(nb)
    return ("def _passes(*args, **kwargs):\n    return None\n\n\n"
            + "".join(f"{name} = _passes\n" for name in names))


def auto_points(nb, after_last_code_solution: bool = False) -> float:
    """Points of the code test cells (all, or only those after the last code exercise)."""
    cells = nb.cells
    if after_last_code_solution:
        last = max(i for i, c in enumerate(cells) if _is_code_exercise(c))
        following = []
        for cell in cells[last + 1:]:
            if _nbgrader(cell).get("solution") and not is_restated_answer(cell):
                break
            following.append(cell)
        cells = following
    return float(sum(_nbgrader(c).get("points", 0) for c in cells
                     if _nbgrader(c).get("grade") and c.cell_type == "code"
                     and not _nbgrader(c).get("solution")))


def _with_attack(nb, attack: str):
    """Put the attack right after the answer of the first code exercise (before its test)."""
    nb = copy.deepcopy(nb)
    first = next(i for i, c in enumerate(nb.cells) if _is_code_exercise(c))
    nb.cells[first].source = nb.cells[first].source + "\n\n" + attack
    return nb


def _test_cells(nb):
    return [c for c in nb.cells if _nbgrader(c).get("grade") and c.cell_type == "code"
            and not _nbgrader(c).get("solution")]


def hostile_notebooks(root: Path, assignment: str, notebook: str) -> dict:
    """student -> (notebook, outcome, expected score factor: 0 = nothing, 1 = perfect).

    Every hostile notebook answers with wrong but running code; the attack is what would make
    its tests pass without the kit's defences.
    """
    base = wrong_answers(root, assignment, notebook)
    out = {"wrong-answers": (base, "graded", 0)}
    for name, (outcome, code) in ATTACKS.items():
        out[name] = (_with_attack(base, code if code is not None else _shadowing(base)),
                     outcome, 0)

    edits = copy.deepcopy(base)
    for cell in _test_cells(edits):
        cell.source = "pass"
        cell.metadata.nbgrader.update(locked=False, points=100)
    out["edits-tests"] = (edits, "graded", 0)

    deletes = copy.deepcopy(base)
    deletes.cells = [c for c in deletes.cells if c not in _test_cells(deletes)]
    out["deletes-tests"] = (deletes, "graded", 0)

    dup = copy.deepcopy(base)
    cells = []
    for cell in dup.cells:
        if cell in _test_cells(dup):
            fake = copy.deepcopy(cell)  # the doctored copy first, with the same grade_id
            fake.source = "print('passed')"
            fake["id"] = f"{cell.get('id', 'cell')}-copy"
            cells.append(fake)
        cells.append(cell)
    dup.cells = cells
    out["duplicates-cells"] = (dup, "graded", 0)

    retyped = copy.deepcopy(base)
    for cell in _test_cells(retyped):
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    out["retypes-cells"] = (retyped, "graded", 0)

    always = wrong_answers(root, assignment, notebook, wrap="_always_equal")
    first = next(c for c in always.cells if _is_code_exercise(c))
    first.source = ALWAYS_EQUAL + "\n\n" + first.source
    out["always-equal"] = (always, "graded", 0)

    perfect = answered(root, assignment, notebook)
    probe = copy.deepcopy(perfect)
    probe.cells.insert(0, new_code_cell(PROBE, id="probe-sandbox"))
    out["probes-sandbox"] = (probe, "graded", 1)
    flood = copy.deepcopy(perfect)
    flood.cells.insert(0, new_code_cell(FLOOD, id="flood-output"))
    out["floods-output"] = (flood, "graded", 1)
    return out


def make_examples(target: Path, root: Path = REPO_ROOT) -> dict:
    """Write the class under `target/submitted/` and return (and write) the expected scores."""
    assignments = existing_assignments(root)
    submitted = target / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    expected: dict[str, dict[str, dict]] = {}

    def put(student, assignment, notebook, nb_or_text, score, outcome):
        path = submitted / student / assignment / f"{notebook}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb_or_text, str):
            path.write_text(nb_or_text)
        else:
            nbformat.write(nb_or_text, path)
        entry = expected.setdefault(student, {}).setdefault(
            assignment, {"score": 0.0, "outcome": "graded"})
        entry["score"] += score
        if outcome != "graded":
            entry["outcome"] = outcome

    for assignment in assignments:
        for notebook in notebooks(root, assignment):
            full = auto_points(_master(root, assignment, notebook))
            put("perfect", assignment, notebook, answered(root, assignment, notebook), full,
                "graded")
            lost = auto_points(_master(root, assignment, notebook), True)
            put("partly-right", assignment, notebook,
                answered(root, assignment, notebook, skip_last=True), full - lost, "graded")
    for assignment in assignments[:2]:
        for notebook in notebooks(root, assignment):
            put("blank", assignment, notebook, _release(root, assignment, notebook), 0.0,
                "graded")

    hostile = HOSTILE_ASSIGNMENT if HOSTILE_ASSIGNMENT in assignments else assignments[0]
    for notebook in notebooks(root, hostile):
        full = auto_points(_master(root, hostile, notebook))
        for student, (nb, outcome, factor) in hostile_notebooks(root, hostile, notebook).items():
            put(student, hostile, notebook, nb, full * factor, outcome)
        text = nbformat.writes(_release(root, hostile, notebook))
        put("broken-notebook", hostile, notebook, text[: len(text) // 2], 0.0, "invalid JSON")
    others = [a for a in assignments if a != hostile]
    if others:
        stray = notebooks(root, others[0])[0]
        path = submitted / "wrong-assignment" / hostile / f"{stray}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(answered(root, others[0], stray), path)
        expected["wrong-assignment"] = {hostile: {"score": 0.0, "outcome": "wrong assignment"}}
    (target / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    made = make_examples(out)
    print(f"wrote {sum(len(a) for a in made.values())} submissions of {len(made)} students "
          f"to {out / 'submitted'}")
