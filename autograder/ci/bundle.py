"""`make gradescope`: build the Gradescope autograder zip from the current release.

The zip holds `setup.sh` and `run_autograder` at its root (Gradescope's contract) and what they
need: the grading package (`autograder/`, without the example class), the student support
package (`course/coursekit/`), the masters with their hidden tests (`solutions/NN-*/`), the
reference package the install maps (`solutions/autodiff/`), a gradebook with the masters loaded
(`solutions/gradebook.db`, hidden like the masters), and `pyproject.toml` + `README.md`
so `setup.sh` can install the kit the way `make setup` does (editable, so the masters stay in
`/autograder/source/solutions/`, which the sandbox hides from student code).

Gradescope unpacks the zip into /autograder/source, runs setup.sh once when it builds the image,
and runs /autograder/run_autograder for every submission (in /autograder/submission), reading
/autograder/results/results.json. `run_autograder` takes its root from $AUTOGRADER_ROOT
(default /autograder) and its Python from $AUTOGRADER_PYTHON (default the venv setup.sh made),
so the tests can run it against an unpacked copy.
"""

from __future__ import annotations

import json
import stat
import subprocess
import tempfile
import zipfile
from pathlib import Path

from autograder.ci.authenticate import results_key
from autograder.course import REPO_ROOT, existing_assignments
from autograder.gradebook.masters import prepare_gradebook

OUTPUT = REPO_ROOT / "output" / "gradescope"
ZIP_NAME = "autograder.zip"
GRADEBOOK = "solutions/gradebook.db"  # inside solutions/: hidden from student code like the masters
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", "examples"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image (Ubuntu, as root).
set -euo pipefail
SOURCE=/autograder/source
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap util-linux >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
# Editable: the masters stay in $SOURCE/solutions, which the grading sandbox hides.
/autograder/venv/bin/pip install --quiet -e "$SOURCE"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder. It must leave
# results/results.json behind even when grading fails; `autograder ci` does that.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
# nbgrader shells out to alembic, which lives next to the interpreter.
export PATH="$(dirname "$PYTHON"):$PATH"
# The bundle's own grading package, whatever else the interpreter has installed.
export PYTHONPATH="$ROOT/source${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
mkdir -p "$ROOT/results"
cd "$ROOT"
# The key that signs results.json for `autograder merge`, if the bundle was built with one.
if [ -f "$ROOT/source/results.key" ]; then
    export AUTOGRADER_RESULTS_KEY="$(cat "$ROOT/source/results.key")"
fi
"$PYTHON" -m autograder ci "$ROOT/submission" --root "$ROOT/source" \\
    --gradescope "$ROOT/results/results.json" \\
    --classroom "$ROOT/results/classroom.json" --junit "$ROOT/results/junit.xml" \\
    --gradebook "$ROOT/source/solutions/gradebook.db"
status=$?
# Exit 0 either way: Gradescope shows results.json (a zero with the reason on failure).
echo "autograder ci exited with $status"
exit 0
"""


def bundle_files(root: Path = REPO_ROOT) -> list[tuple[Path, str]]:
    """(file on disk, name in the zip) for everything the bundle ships besides the scripts."""
    files: list[tuple[Path, str]] = []

    def add_tree(folder: Path) -> None:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not (SKIP_PARTS & set(rel.parts)) and path.suffix != ".pyc":
                files.append((path, rel.as_posix()))

    for name in ("pyproject.toml", "README.md"):
        if (root / name).exists():
            files.append((root / name, name))
    add_tree(root / "autograder")
    # `autograder/examples` is a package the CLI imports lazily (`make demo` only); ship its
    # __init__ so the package layout is intact, not the example class.
    init = root / "autograder" / "examples" / "__init__.py"
    if init.exists():
        files.append((init, "autograder/examples/__init__.py"))
    add_tree(root / "course" / "coursekit")
    add_tree(root / "solutions" / "autodiff")
    for assignment in existing_assignments(root):
        add_tree(root / "solutions" / assignment)
    return files


def prepared_gradebook(root: Path, assignments: list[str]) -> bytes:
    """A gradebook with every assignment's masters loaded, as bytes: each run copies it instead
    of running nbgrader's generate_assignment again (seconds per assignment)."""
    with tempfile.TemporaryDirectory(prefix="autograder-bundle-") as scratch:
        work = Path(scratch)
        prepare_gradebook(root, work, assignments)
        return (work / "gradebook.db").read_bytes()


def _revision(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False,
         mode: int | None = None) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = mode if mode is not None else 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, data)


def build_zip(output: Path = OUTPUT, root: Path = REPO_ROOT) -> Path:
    """Write `<output>/autograder.zip` and return its path."""
    assignments = existing_assignments(root)
    if not assignments:
        raise RuntimeError(f"no master notebooks under {root / 'solutions'}: nothing to grade")
    output.mkdir(parents=True, exist_ok=True)
    target = output / ZIP_NAME
    tmp = target.with_suffix(".zip.part")
    manifest = {"revision": _revision(root), "assignments": assignments}
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(zf, "BUNDLE.json", (json.dumps(manifest, indent=1) + "\n").encode())
        for path, name in bundle_files(root):
            _add(zf, name, path.read_bytes())
        _add(zf, GRADEBOOK, prepared_gradebook(root, assignments))
        key = results_key()  # signs each run's results.json for `autograder merge`
        if key is not None:
            _add(zf, "results.key", key, mode=0o600)
    tmp.replace(target)
    return target


def unpack(archive: Path, source: Path) -> None:
    """Extract like Gradescope does (into /autograder/source), keeping the executable bits."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            dest = source / info.filename
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(zf.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                dest.chmod(mode)
