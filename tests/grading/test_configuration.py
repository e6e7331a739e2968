"""One configuration: the kit's options live in nbgrader's config system and nbgrader finds it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from traitlets.config import Config

from autograder.cli import command_line_config, main, parse_args
from autograder.course import REPO_ROOT, load_config
from autograder.grading.options import SCORE_STEPS, Grader
from autograder.grading.pipeline import score_notebook
from autograder.sandbox.policy import Limits


def test_the_course_configuration_gives_the_limits_the_grader_always_used():
    limits = Grader(config=load_config()).limits()
    assert limits == Limits(memory_mb=1024, wall_clock=120, cell_timeout=30, cpu_seconds=120)


def test_the_grader_honours_execute_timeout():
    config = Config()
    config.Execute.timeout = 7
    assert Grader(config=config).limits().cell_timeout == 7
    config.Execute.timeout = 500  # never more than the notebook's wall clock
    assert Grader(config=config).limits().cell_timeout == 120
    config.Execute.timeout = None  # nbclient: no timeout
    assert Grader(config=config).limits().cell_timeout == 120
    config.Grader.wall_clock = 5  # and the CPU limit follows the wall clock, at least 10 s
    assert Grader(config=config).limits().cpu_seconds == 10


def test_the_command_line_overrides_the_configuration():
    args = parse_args(["grade", "subs", "--memory", "512", "--timeout", "40",
                       "--Grader.scratch_mb=64", "--Execute.timeout=9", "--require-sandbox"])
    config = load_config()
    config.merge(command_line_config(args))
    grader = Grader(config=config)
    assert grader.require_sandbox
    assert grader.limits() == Limits(memory_mb=512, wall_clock=40, cell_timeout=9,
                                     cpu_seconds=40, scratch_mb=64)


def test_an_unknown_argument_is_still_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["grade", "subs", "--memroy", "512"])
    with pytest.raises(SystemExit):
        parse_args(["export", "--Grader.memory_mb=5"])  # export grades nothing
    assert "unrecognized arguments" in capsys.readouterr().err


def test_help_all_lists_every_grading_option_with_its_help(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help-all"])
    shown = capsys.readouterr().out
    for name, trait in Grader.class_traits(config=True).items():
        assert f"--Grader.{name}=" in shown, name
        assert trait.help.split()[0] in shown
    assert "--Execute.timeout=" in shown and "--SandboxedExecute.interrupt_grace=" in shown


def _test_cell(outputs, grade_id="test_square"):
    cell = new_code_cell("assert square(3) == 9", execution_count=1, outputs=outputs)
    cell.metadata.nbgrader = {"grade": True, "grade_id": grade_id, "points": 2, "locked": True,
                              "solution": False, "schema_version": 3}
    return cell


def test_score_steps_run_in_the_configured_order_and_enabled_holds():
    def scored(config):
        chatty = new_output("stream", name="stdout", text="checking\n" * 3000)
        nb = new_notebook(cells=[_test_cell([chatty])])
        nb, _ = score_notebook(nb, {"autograder": {"executed": {0: "ok"}}}, config)
        return [(o.output_type, len(o.get("text", "").splitlines())) for o in nb.cells[0].outputs]

    # VerifyGradeCells replaces the output with its verdict (this cell never ran in the
    # grader: it fails as not run)
    assert [kind for kind, _ in scored(Config())] == ["error"]
    off = Config()
    off.VerifyGradeCells.enabled = False
    [(kind, lines)] = scored(off)
    assert kind == "stream" and lines < 3000  # LimitOutput still ran and cut it
    without = Config()
    without.VerifyGradeCells.enabled = False
    without.Grader.score_steps = [s for s in SCORE_STEPS if not s.endswith("LimitOutput")]
    assert scored(without) == [("stream", 3000)]


def test_nbgrader_run_from_the_course_root_finds_the_kits_configuration():
    probe = ("import json\n"
             "from nbgrader.apps.baseapp import NbGrader\n"
             "app = NbGrader()\n"
             "app.initialize([])\n"
             "d = app.coursedir\n"
             "print(json.dumps([d.root, d.db_url, d.source_directory, d.release_directory,\n"
             "                  app.config.Execute.timeout, app.config.IgnorePattern.enabled]))\n")
    ran = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    root, db_url, source, release, timeout, ignore = json.loads(ran.stdout.splitlines()[-1])
    kit = load_config()
    assert (root, db_url) == (str(REPO_ROOT), kit.CourseDirectory.db_url)
    assert db_url.endswith(str(REPO_ROOT / "work" / "gradebook.db"))
    assert (source, release, timeout, ignore) == ("solutions", "course", 30, True)
