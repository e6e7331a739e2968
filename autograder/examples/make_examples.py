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
- blank and every hostile submission: stubs plus the attack -> 0 (the attack must not help);
- probes-sandbox, floods-output: perfect answers plus the attack -> the perfect score.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from autograder.course import REPO_ROOT, existing_assignments

HOSTILE_ASSIGNMENT = "01-derivatives"

ATTACKS = {
    "hides-tracebacks": ("tampering detected",
                         "get_ipython().showtraceback = lambda *args, **kwargs: None\n"
                         "import sys\nsys.excepthook = lambda *args: None\n"),
    "patches-numpy": ("tampering detected",
                      "import numpy as np\nnp.allclose = lambda *args, **kwargs: True\n"
                      "np.isclose = lambda a, b, *args, **kwargs: np.ones_like(a, dtype=bool)\n"),
    "patches-coursekit": ("tampering detected",
                          "import coursekit.checks\n"
                          "coursekit.checks.check_close = lambda *args, **kwargs: None\n"
                          "coursekit.checks.check_derivative = lambda *args, **kwargs: None\n"),
    "prints-passed": ("graded", "print('All tests passed!')\nprint('Score: 100/100')\n"),
    "calls-sys-exit": ("graded", "import sys\nsys.exit(0)\n"),
    "calls-os-exit": ("kernel died", "import os\nos._exit(0)\n"),
    "kills-kernel": ("kernel died", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"),
    "loops-forever": ("timed out", "while True:\n    pass\n"),
    "eats-memory": ("killed for memory",
                    "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))\n"),
}

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
    master = {_nbgrader(c).get("grade_id"): c for c in _master(root, assignment, notebook).cells}
    nb = copy.deepcopy(_release(root, assignment, notebook))
    code_solutions = [c for c in nb.cells if _nbgrader(c).get("solution") and
                      c.cell_type == "code"]
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution") and meta.get("grade_id") in master:
            if skip_last and code_solutions and cell is code_solutions[-1]:
                continue
            cell.source = _strip_markers(master[meta["grade_id"]].source)
    return nb


def auto_points(nb, after_last_code_solution: bool = False) -> float:
    """Points of the code test cells (all, or only those after the last code exercise)."""
    cells = nb.cells
    if after_last_code_solution:
        last = max(i for i, c in enumerate(cells)
                   if _nbgrader(c).get("solution") and c.cell_type == "code")
        following = []
        for cell in cells[last + 1:]:
            if _nbgrader(cell).get("solution"):
                break
            following.append(cell)
        cells = following
    return float(sum(_nbgrader(c).get("points", 0) for c in cells
                     if _nbgrader(c).get("grade") and c.cell_type == "code"
                     and not _nbgrader(c).get("solution")))


def _with_attack(nb, attack: str):
    """Put the attack in front of the first code exercise."""
    nb = copy.deepcopy(nb)
    first = next(i for i, c in enumerate(nb.cells)
                 if _nbgrader(c).get("solution") and c.cell_type == "code")
    nb.cells[first].source = attack + "\n" + nb.cells[first].source
    return nb


def _test_cells(nb):
    return [c for c in nb.cells if _nbgrader(c).get("grade") and c.cell_type == "code"
            and not _nbgrader(c).get("solution")]


def hostile_notebooks(root: Path, assignment: str, notebook: str) -> dict:
    """student -> (notebook, outcome, expected score factor: 0 = nothing, 1 = perfect)."""
    blank = _release(root, assignment, notebook)
    out = {name: (_with_attack(blank, code), outcome, 0)
           for name, (outcome, code) in ATTACKS.items()}

    edits = copy.deepcopy(blank)
    for cell in _test_cells(edits):
        cell.source = "pass"
        cell.metadata.nbgrader.update(locked=False, points=100)
    out["edits-tests"] = (edits, "graded", 0)

    deletes = copy.deepcopy(blank)
    deletes.cells = [c for c in deletes.cells if c not in _test_cells(deletes)]
    out["deletes-tests"] = (deletes, "graded", 0)

    dup = copy.deepcopy(blank)
    cells = []
    for cell in dup.cells:
        if cell in _test_cells(dup):
            fake = copy.deepcopy(cell)
            fake.source = "print('passed')"
            fake["id"] = f"{cell.get('id', 'cell')}-copy"
            cells.append(fake)
        cells.append(cell)
    dup.cells = cells
    out["duplicates-cells"] = (dup, "graded", 0)

    retyped = copy.deepcopy(blank)
    for cell in _test_cells(retyped):
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    out["retypes-cells"] = (retyped, "graded", 0)

    always = copy.deepcopy(blank)
    for cell in always.cells:
        if _nbgrader(cell).get("solution") and cell.cell_type == "code":
            names = re.findall(r"^def (\w+)\(", cell.source, flags=re.M)
            cell.source = ("class AlwaysEqual(float):\n"
                           "    def __eq__(self, other): return True\n"
                           "    def __ne__(self, other): return False\n"
                           "    def __lt__(self, other): return True\n"
                           "    def __le__(self, other): return True\n"
                           "    def __abs__(self): return AlwaysEqual(0.0)\n"
                           + "".join(f"def {n}(*args, **kwargs):\n    return AlwaysEqual(0.0)\n"
                                     for n in names))
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
