"""A kernel's runtime state: its folder (connection file, sockets) is fresh per notebook, not
writable by student code, cannot be swapped for a link, and is removed without following any
link the kernel planted; its scratch space is a size-limited tmpfs, not the grader's disk.
Graded as a batch, classic kernels and warm (zygote) kernels both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox.policy import Limits, bwrap_works
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-runtime"),
              pytest.mark.skipif(not bwrap_works(), reason="bwrap cannot create namespaces")]


def _attack(decoy: Path) -> str:
    return f"""
import os
from ipykernel.kernelapp import IPKernelApp
folder = os.path.dirname(IPKernelApp.instance().connection_file)
print("FOLDER", folder)
def attempt(what, action):
    try:
        action()
        print("DONE", what)
    except OSError as exc:
        print("REFUSED", what, type(exc).__name__)
attempt("write-runtime", lambda: open(os.path.join(folder, "planted.txt"), "w").write("x"))
attempt("link-in-runtime", lambda: os.symlink({str(decoy)!r}, os.path.join(folder, "link")))
attempt("swap-runtime", lambda: os.rename(folder, folder + ".gone"))
attempt("link-in-scratch", lambda: os.symlink({str(decoy)!r}, "decoy-link"))
attempt("link-tmp", lambda: os.symlink({str(decoy)!r}, "/tmp/decoy-link"))
written = 0
try:
    for i in range(100):
        with open(f"/tmp/fill-{{i}}", "wb") as f:
            f.write(b"0" * (4 * 1024 * 1024))
        written += 4
except OSError as exc:
    print("SCRATCH-FULL", type(exc).__name__, written)
for i in range(100):  # a full scratch costs its own notebook only; free it for the tests
    if os.path.exists(f"/tmp/fill-{{i}}"):
        os.unlink(f"/tmp/fill-{{i}}")
with open("/tmp/left-for-the-next", "w") as f:
    f.write("hello")
{SQUARE}"""


LOOK = """
import os
print("LEFT", os.path.exists("/tmp/left-for-the-next"), os.path.exists("/tmp/decoy-link"))
""" + SQUARE


@pytest.fixture(scope="module", params=["warm", "classic"])
def graded(request, tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    decoy = tmp_path_factory.mktemp("host-folder")
    for i in range(6):
        (decoy / f"file{i}.txt").write_text("keep me")
    subs = root / "submissions"
    write_submission(subs, "a-attacker", fill(root, square=_attack(decoy)))
    write_submission(subs, "b-next", fill(root, square=LOOK))
    rows = grade_batch(subs, BatchOptions(
        root=root, work=root / "work", workers=1, progress=False, require_sandbox=True,
        warm_kernels=request.param == "warm", assignments=[ASSIGNMENT],
        limits=Limits(cell_timeout=20, wall_clock=60, scratch_mb=32)))

    def printed(student):
        nb = json.loads((root / "work" / "autograded" / student / ASSIGNMENT /
                         f"{NOTEBOOK}.ipynb").read_text())
        return "".join("".join(o.get("text", "")) for c in nb["cells"]
                       for o in c.get("outputs", []))

    return {"rows": {r.key[0]: r for r in rows}, "decoy": decoy,
            "attacker": printed("a-attacker"), "next": printed("b-next")}


def test_the_runtime_folder_is_not_writable_and_cannot_be_swapped(graded):
    out = graded["attacker"]
    for what in ("write-runtime", "link-in-runtime", "swap-runtime"):
        assert f"REFUSED {what} PermissionError" in out, out
    folder = Path(out.split("FOLDER ")[1].split()[0])
    assert not folder.exists() and not Path(str(folder) + ".gone").exists()  # removed
    assert graded["rows"]["a-attacker"].score == FULL_MARKS


def test_planted_links_are_never_followed_by_the_cleanup(graded):
    assert "DONE link-in-scratch" in graded["attacker"]  # its own scratch: allowed
    assert sorted(p.name for p in graded["decoy"].iterdir()) == [f"file{i}.txt"
                                                                 for i in range(6)]


def test_scratch_is_a_size_limited_tmpfs_and_fresh_for_the_next_notebook(graded):
    out = graded["attacker"]
    written = int(out.split("SCRATCH-FULL OSError ")[1].split()[0])
    assert written <= 32, out  # the 32 MB tmpfs, not the grader's disk
    assert "LEFT False False" in graded["next"]
    assert graded["rows"]["b-next"].score == FULL_MARKS
