"""The grader's own worker is bounded and shared fairly: a kernel's message is size-checked
before it is decoded (one of 120 MB is dropped undecoded, with a note in the cell), display
updates and widget (comm) state count against a budget and are never stored past it, and a
worker that dies costs only the notebook it was grading; the others are graded in fresh
workers. Through the real command line with a pool of 2, and through `grade_batch`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.gradebook import batch
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.grading.outcome import WORKER_DIED
from autograder.sandbox.kernel_client import MAX_MESSAGE_BYTES
from autograder.sandbox.policy import Limits
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("worker-bounds")]

BIG = """
k = get_ipython().kernel
k.session.send(k.iopub_socket, "display_data", {"data": {"text/plain": "big"}, "metadata": {}},
               parent=k.get_parent(), buffers=[b"x" * 120_000_000])
print("AFTER-BIG")
"""
UPDATES = """
from IPython.display import display
h = display({"text/plain": "small"}, raw=True, display_id=True)
for _ in range(5):
    h.update({"text/plain": "y" * 4_000_000}, raw=True)
display({"text/plain": "z" * 3_000_000}, raw=True, display_id=h.display_id)
print("AFTER-UPDATES")
"""
WIDGETS = """
from comm import create_comm
c = create_comm(target_name="jupyter.widget",
                data={"state": {"_model_name": "X", "big": "w" * 4_000_000}, "buffer_paths": []})
for _ in range(5):
    c.send({"method": "update", "state": {"big": "v" * 4_000_000}, "buffer_paths": []})
print("AFTER-WIDGETS")
"""


def test_floods_are_dropped_before_decoding_and_never_stored(tmp_path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "flooder", fill(root, extra_cells=[(1, BIG), (1, UPDATES),
                                                             (1, WIDGETS)]))
    write_submission(subs, "perfect", fill(root))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--root",
                           str(root), "--workers", "2", "--quiet"], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    from autograder.gradebook.record import ledger_rows

    scores = {r.student: (r.score, r.outcome.kind) for r in
              ledger_rows(f"sqlite:///{root / 'work' / 'gradebook.db'}")}
    assert scores == {"flooder": (FULL_MARKS, "graded"), "perfect": (FULL_MARKS, "graded")}
    path = root / "work" / "autograded" / "flooder" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert path.stat().st_size < 1_000_000  # 160 MB went in, nothing of it was stored
    nb = json.loads(path.read_text())
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "output truncated by the grader: a message from the kernel was dropped " \
           "undecoded (12000" in text  # said, in its cell
    assert f"over the {MAX_MESSAGE_BYTES}-byte" in text
    for marker in ("AFTER-BIG", "AFTER-UPDATES", "AFTER-WIDGETS"):
        assert marker in text  # the notebook went on after each flood
    assert '"small"' in text and "yyyy" not in text and "zzzz" not in text
    assert "widgets" not in nb["metadata"] and "wwww" not in path.read_text()


def _dies_for_crasher(real):
    def run(task, *args):
        if task.student == "crasher":
            with open(os.environ["CRASH_LOG"], "a") as log:
                log.write(f"{os.getpid()}\n")
            os._exit(1)  # as a worker killed over its memory cap
        return real(task, *args)
    return run


def test_a_worker_that_dies_costs_only_its_notebook(tmp_path, monkeypatch):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    for student in ("ada", "bob", "crasher", "dee"):
        write_submission(subs, student, fill(root, square=SQUARE))
    monkeypatch.setenv("CRASH_LOG", str(tmp_path / "crashes"))
    # what a worker runs for each notebook; the workers are forked, so they see the patch
    monkeypatch.setattr(batch, "grade_notebook", _dies_for_crasher(batch.grade_notebook))
    rows = grade_batch(subs, BatchOptions(
        root=root, work=root / "work", workers=2, progress=False,
        limits=Limits(cell_timeout=20, wall_clock=60), assignments=[ASSIGNMENT]))
    by = {r.student: r for r in rows}
    assert {s: by[s].score for s in ("ada", "bob", "dee")} == dict.fromkeys(
        ("ada", "bob", "dee"), FULL_MARKS)
    assert all(by[s].outcome.graded for s in ("ada", "bob", "dee"))
    outcome = by["crasher"].notebooks[NOTEBOOK].outcome
    assert outcome.kind is WORKER_DIED and "2 times" in outcome.detail
    pids = (tmp_path / "crashes").read_text().split()
    assert len(pids) == 2 and pids[0] != pids[1]  # graded again in a fresh worker, once
    assert nbformat.reads(
        (root / "work" / "autograded" / "crasher" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
        .read_text(), as_version=4)  # a stand-in a grader can open
