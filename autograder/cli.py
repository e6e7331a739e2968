"""The `autograder` command line (also `python -m autograder`)."""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

from traitlets.config import Config

# --Class.option=value on the command line: an nbgrader configuration override
CONFIG_OVERRIDE = re.compile(r"^--[A-Za-z_]\w*\.[A-Za-z_]\w*=")


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring.release import release
    from autograder.course import existing_assignments

    unknown = [a for a in args.assignments if a not in existing_assignments(args.root)]
    if unknown:
        print(f"autograder release: no master notebooks in {args.root / 'solutions'} for "
              f"{', '.join(unknown)}", file=sys.stderr)
        return 2
    _warn_unlisted(args.root)
    from autograder.authoring.release import ReleaseError

    check = None
    if not args.no_check:
        from autograder.authoring.check import check_assignment

        def check(assignment: str, built: Path) -> list:
            print(f"checking {assignment} through the grader (--no-check skips this) ...")
            return check_assignment(assignment, args.root, release_folder=built)
    notes: list[str] = []
    try:
        for folder in release(args.assignments or None, root=args.root, check=check,
                              notes=notes):
            print(f"released {folder.relative_to(folder.parent.parent)}")
    except ReleaseError as error:
        print(f"autograder release: {error}", file=sys.stderr)
        return 1
    finally:
        for note in notes:
            print(f"note: {note}")
    return 0


def _new(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(args.root, args.assignment)
    except ScaffoldError as error:
        print(f"autograder new: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    print(f"next: edit the master in JupyterLab, then `autograder check {args.assignment}` "
          f"(grades its answers and stubs), `autograder release {args.assignment}` and "
          "`autograder manifest`; see the README, \"Authoring an assignment\"")
    return 0


def _check(args: argparse.Namespace) -> int:
    from autograder.authoring.check import check_assignment, report
    from autograder.course import existing_assignments

    assignments = args.assignments or existing_assignments(args.root)
    unknown = [a for a in assignments if a not in existing_assignments(args.root)]
    if unknown:
        print(f"autograder check: no master notebooks in {args.root / 'solutions'} for "
              f"{', '.join(unknown)}", file=sys.stderr)
        return 2
    from autograder.authoring.release import ReleaseError, built_release

    failed = False
    for assignment in assignments:
        try:
            with built_release(args.root, assignment) as built:
                problems = check_assignment(assignment, args.root, release_folder=built)
        except ReleaseError as error:
            print(f"autograder check: {error}", file=sys.stderr)
            failed = True
            continue
        print(report(assignment, problems))
        failed = failed or bool(problems)
    return 1 if failed else 0


def _warn_unlisted(root: Path) -> None:
    from autograder.course import COURSE_FILE, unlisted_assignments

    for assignment in unlisted_assignments(root):
        print(f"note: solutions/{assignment} is an assignment {COURSE_FILE} does not list; it "
              f"is released and graded with no due date (add [assignments.{assignment}] to "
              f"{root / COURSE_FILE})", file=sys.stderr)


def _manifest(args: argparse.Namespace) -> int:
    from autograder.authoring.manifest import write_manifest

    path = write_manifest(args.root, args.output)
    print(f"wrote {path}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.collect.layouts import LayoutError
    from autograder.course import load_config
    from autograder.exports.table import grade_table
    from autograder.gradebook.batch import BatchOptions, grade_batch
    from autograder.gradebook.record import ledger_rows
    from autograder.gradebook.view import gradebook_entries
    from autograder.sandbox.policy import SandboxUnavailable

    config = load_config(args.root, args.work)
    config.merge(command_line_config(args))
    _warn_unlisted(args.root)
    options = BatchOptions.from_config(config, args.root, args.work,
                                       assignments=args.assignment or None,
                                       progress=not args.quiet, force=args.force,
                                       students=args.student or None,
                                       notebooks=args.notebook or None)
    try:
        grade_batch(args.submissions, options)
    except (LayoutError, SandboxUnavailable, RuntimeError) as exc:
        print(f"autograder grade: {exc}", file=sys.stderr)
        return 2
    _refresh_penalties(args)
    print(grade_table(ledger_rows(_db_url(args)), gradebook_entries(_db_url(args)),
                      workers=options.workers))
    return 0


def _refresh_penalties(args: argparse.Namespace) -> None:
    """Late penalties follow the scores as they are now (a grade by hand since grading)."""
    from autograder.gradebook.late import refresh_penalties

    refresh_penalties(_db_url(args), args.root)


def _nothing_graded(args: argparse.Namespace, command: str) -> bool:
    """True (and says what to do) when WORK holds no graded submission yet."""
    from sqlalchemy import create_engine, inspect

    from autograder.gradebook.record import LEDGER

    db_url = _db_url(args)
    path = db_url.removeprefix("sqlite:///")
    if db_url.startswith("sqlite:///") and not Path(path).is_file():
        found = False  # (connecting would create an empty file)
    else:
        engine = create_engine(db_url)
        try:
            found = inspect(engine).has_table(LEDGER)
        finally:
            engine.dispose()
    if not found:
        print(f"autograder {command}: nothing is graded in {args.work} yet ({db_url} has no "
              "grades): run `autograder grade FOLDER` first, or pass --work with the folder "
              "you graded in", file=sys.stderr)
    return not found


def _feedback(args: argparse.Namespace) -> int:
    from autograder.exports.feedback import feedback_all

    if _nothing_graded(args, "feedback"):
        return 2
    _refresh_penalties(args)
    written = feedback_all(args.root, args.work, args.output)
    print(f"wrote {len(written)} feedback pages under {args.output or args.work / 'feedback'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from autograder.exports.all_formats import export_all

    if _nothing_graded(args, "export"):
        return 2
    _refresh_penalties(args)
    target = args.output or args.work / "export"
    written = export_all(args.root, args.work, target)
    print(f"wrote grades.csv, canvas.csv, junit.xml and {len(written) - 3} results.json under "
          f"{target}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from autograder.exports.report import write_report

    if _nothing_graded(args, "report"):
        return 2
    _refresh_penalties(args)
    print(f"wrote {write_report(args.root, args.work, args.output or args.work / 'report.html')}")
    return 0


def _student(args: argparse.Namespace) -> int:
    from autograder.gradebook.students import StudentError, remove_student, rename_student

    try:
        if args.action == "remove":
            remove_student(_db_url(args), args.work, args.student)
            print(f"removed {args.student}: gradebook, ledger and work folders")
        elif not args.new:
            raise StudentError("rename needs the new id: autograder student rename OLD NEW")
        else:
            rename_student(_db_url(args), args.work, args.student, args.new)
            print(f"renamed {args.student} to {args.new}: gradebook, ledger and work folders")
    except StudentError as exc:
        print(f"autograder student: {exc}", file=sys.stderr)
        return 2
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.demo import run_demo

    return run_demo(output=args.output or args.root / "output" / "demo", root=args.root,
                    timeout=args.timeout, progress=not args.quiet,
                    overrides=command_line_config(args))


# --- CI grading (issue 6): `ci`, `merge`, `gradescope` ---------------------------------------
def _ci(args: argparse.Namespace) -> int:
    from autograder.ci.command import CIOptions, default_outputs, run_ci

    outputs = default_outputs(args.output)
    for key in outputs:
        if getattr(args, key) is not None:
            outputs[key] = args.__dict__[key]
    options = CIOptions(root=args.root, work=args.ci_work and args.ci_work.resolve(),
                        student=args.student, assignments=args.assignment or None,
                        overrides=command_line_config(args), outputs=outputs,
                        gradebook=args.gradebook)
    return run_ci(args.path, options)


def _merge(args: argparse.Namespace) -> int:
    from autograder.ci.authenticate import KeyProblem, results_key
    from autograder.ci.merge import MergeError, merge_results
    from autograder.exports.all_formats import export_all

    try:
        report = merge_results(args.results, args.root, args.work, results_key())
    except (MergeError, KeyProblem) as exc:
        print(f"autograder merge: {exc}", file=sys.stderr)
        return 2
    for _, reason in report.refused:
        print(f"autograder merge: refused {reason}", file=sys.stderr)
    if report.merged or report.unchanged:
        target = args.output or args.work / "export"
        export_all(args.root, args.work, target)
        where = f"; gradebook {args.work / 'gradebook.db'}, grades {target / 'grades.csv'}"
    else:
        where = ""
    print(f"{report.files} result file(s): {len(report.merged)} submission(s) merged, "
          f"{len(report.unchanged)} unchanged, {len(report.refused)} file(s) refused{where}")
    return 2 if report.refused else 0


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.ci.bundle import build_zip

    print(f"wrote {build_zip(args.output or args.root / 'output' / 'gradescope', args.root)}")
    return 0


def _add_ci_commands(commands) -> None:
    from autograder.course import REPO_ROOT

    ci = commands.add_parser(
        "ci", help="grade one submission on a CI runner (GitHub Classroom, GitLab, Gradescope)",
        description="Grade the notebooks in PATH (a student's repository checkout or a folder "
                    "of notebooks) with no gradebook present; print 'Points X/Y'; write GitHub "
                    "Classroom's result JSON, Gradescope's results.json and JUnit XML. Exit 0 "
                    "when grading ran (whatever the score), 2 when it could not.")
    ci.add_argument("path", type=Path, metavar="PATH")
    ci.add_argument("--root", type=Path, default=REPO_ROOT,
                    help="instructor checkout or unpacked Gradescope bundle holding solutions/")
    ci.add_argument("--work", type=Path, default=None, dest="ci_work",
                    help="keep the gradebook and autograded copies here (default: a temporary "
                         "folder, removed afterwards)")
    ci.add_argument("--student", default=None,
                    help="student id (default: $AUTOGRADER_STUDENT, $GITHUB_ACTOR, "
                         "$GITLAB_USER_LOGIN, Gradescope's metadata, the folder name)")
    ci.add_argument("--assignment", action="append",
                    help="grade only this assignment (repeatable; default: every one found)")
    ci.add_argument("--output", type=Path, default=Path("autograder-results"),
                    help="folder for the three result files (default: ./autograder-results)")
    ci.add_argument("--classroom", type=Path, default=None,
                    help="GitHub Classroom result JSON (default: OUTPUT/classroom.json)")
    ci.add_argument("--gradescope", type=Path, default=None,
                    help="Gradescope results.json (default: OUTPUT/results.json)")
    ci.add_argument("--junit", type=Path, default=None,
                    help="JUnit XML (default: OUTPUT/junit.xml)")
    ci.add_argument("--gradebook", type=Path, default=None,
                    help="start from this gradebook with the masters already loaded (the "
                         "Gradescope bundle ships one; saves loading them on every run)")
    _add_grading_options(ci, require="on by default here: fail (exit 2) when neither bwrap nor "
                         "the fallback can keep kernels apart (--Grader.require_sandbox=False "
                         "grades anyway)")
    ci.set_defaults(run=_ci, work=None)  # main() fills `work` in; ci uses --work (ci_work)

    merge = commands.add_parser(
        "merge", help="fold per-submission CI results into the gradebook and grades.csv",
        description="Record each results.json written by `autograder ci` (or every results.json "
                    "under a folder of CI artifacts) in WORK's gradebook, then write "
                    "grades.csv. Idempotent: merging the same results again changes nothing. "
                    "Only results signed with $AUTOGRADER_RESULTS_KEY (the CI secret the jobs "
                    "graded with) and scored within the masters' points are merged; any other "
                    "file is refused with the reason (exit status 2).")
    merge.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    merge.add_argument("--output", type=Path, default=None,
                       help="folder for grades.csv and the exports (default: WORK/export)")
    _add_course_options(merge)
    merge.set_defaults(run=_merge)

    gradescope = commands.add_parser(
        "gradescope", help="build the Gradescope autograder zip into output/gradescope/")
    gradescope.add_argument("--output", type=Path, default=None,
                            help="folder for autograder.zip (default: ROOT/output/gradescope)")
    _add_course_options(gradescope)
    gradescope.set_defaults(run=_gradescope)
# --- end of CI grading commands --------------------------------------------------------------


def _db_url(args: argparse.Namespace) -> str:
    from autograder.course import load_config

    return load_config(args.root, args.work).CourseDirectory.db_url


def _add_course_options(parser: argparse.ArgumentParser) -> None:
    from autograder.course import REPO_ROOT

    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="course repository (holds solutions/ and course/)")
    parser.add_argument("--work", type=Path, default=None,
                        help="work folder for submissions, autograded copies, feedback and the "
                             "gradebook (default: ROOT/work)")


class HelpAll(argparse.Action):
    """`--help-all`: the command's help, then every configuration option of the grader."""

    HELP = "show this help and every grading option of nbgrader_config.py, then exit"

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(parser.format_help())
        print(config_help())
        parser.exit()


def config_help() -> str:
    """Every option the grader reads from nbgrader_config.py, with its help text and default."""
    from nbgrader.preprocessors import Execute

    from autograder.grading.options import Grader
    from autograder.grading.steps.sandboxed_execute import SandboxedExecute

    intro = ("Configuration: set these in autograder/nbgrader_config.py (c.Grader.memory_mb = "
             "2048) or on the command line (--Grader.memory_mb=2048). --workers, --timeout, "
             "--memory and --require-sandbox set Grader.workers, Grader.wall_clock, "
             "Grader.memory_mb and Grader.require_sandbox.")
    traits = [Execute.class_get_trait_help(Execute.class_traits()["timeout"]),
              SandboxedExecute.class_get_trait_help(
                  SandboxedExecute.class_traits()["interrupt_grace"])]
    return "\n\n".join([textwrap.fill(intro, 80), Grader.class_get_help(),
                         "Other options the grader honours\n--------------------------------",
                         *traits])


def command_line_config(args: argparse.Namespace) -> Config:
    """The configuration the command line sets: --Class.option=value, then the short flags."""
    from traitlets.config.loader import KVArgParseConfigLoader

    config = KVArgParseConfigLoader(list(getattr(args, "overrides", []))).load_config()
    flags = {"workers": "workers", "timeout": "wall_clock", "memory": "memory_mb"}
    for flag, option in flags.items():
        value = getattr(args, flag, None)
        if value is not None and not (args.command == "demo" and flag == "timeout"):
            config.Grader[option] = value
    if getattr(args, "require_sandbox", False):
        config.Grader.require_sandbox = True
    return config


def _add_grading_options(parser: argparse.ArgumentParser, require: str) -> None:
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel kernels (default: Grader.workers, 0: one per core)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="wall-clock seconds per notebook (default: Grader.wall_clock, 120; "
                             "a cell gets at most Execute.timeout, 30)")
    parser.add_argument("--memory", type=int, default=None,
                        help="memory limit per kernel, MB (default: Grader.memory_mb, 1024)")
    parser.add_argument("--require-sandbox", action="store_true", help=require)
    parser.add_argument("--help-all", action=HelpAll, help=HelpAll.HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description="Release, grade and export the autodiff course."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="regenerate course/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.add_argument("--no-check", action="store_true",
                         help="release without grading the masters' answers and stubs first")
    _add_course_options(release)
    release.set_defaults(run=_release)

    new = commands.add_parser(
        "new", help="scaffold an assignment: master, course.toml entry, variants module")
    new.add_argument("assignment", help="the new assignment's id, e.g. 06-softplus")
    _add_course_options(new)
    new.set_defaults(run=_new)

    check = commands.add_parser(
        "check", help="grade each master's answers and stubs through the real grading path",
        description="Build the release of each master as it is now (course/ untouched) and "
                    "refuse a master whose own answers miss a point, whose stubs earn one, or "
                    "whose test cells the grader cannot run, naming the cell and the reason.")
    check.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    _add_course_options(check)
    check.set_defaults(run=_check)

    manifest = commands.add_parser(
        "manifest", help="regenerate the exercise manifest (exercises.json) from the masters")
    manifest.add_argument("--output", type=Path, default=None,
                          help="file to write (default: autograder/exercises.json for the kit's "
                               "own course, ROOT/exercises.json for another)")
    _add_course_options(manifest)
    manifest.set_defaults(run=_manifest)

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions in parallel, in a sandbox",
        description="Grade every submission in SUBMISSIONS: nbgrader's submitted/<student>/"
                    "<assignment>/ folders, a folder of <student>.zip files, a folder of "
                    "per-student repository clones, or nbgrader's exchange (its inbound/, course "
                    "or root folder; latest submission wins). Reruns skip what is already graded.")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    _add_grading_options(grade, require="refuse to grade when neither bwrap nor the fallback "
                         "(root: a uid of the kernel's own) can keep kernels from the masters, "
                         "the gradebook and each other")
    grade.add_argument("--assignment", action="append",
                       help="grade only this assignment (repeatable)")
    grade.add_argument("--force", action="store_true",
                       help="regrade every submission found, even if graded and unchanged")
    grade.add_argument("--student", action="append",
                       help="grade only this student (repeatable)")
    grade.add_argument("--notebook", action="append",
                       help="regrade only this notebook (repeatable; the submission's other "
                            "notebooks keep their grades)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_course_options(grade)
    grade.set_defaults(run=_grade)

    feedback = commands.add_parser(
        "feedback", help="HTML feedback per student per notebook (hidden tests removed)")
    feedback.add_argument("--output", type=Path, default=None,
                          help="folder for the pages (default: WORK/feedback)")
    _add_course_options(feedback)
    feedback.set_defaults(run=_feedback)

    export = commands.add_parser(
        "export", help="grades.csv, Gradescope results.json per submission, JUnit XML")
    export.add_argument("--output", type=Path, default=None,
                        help="folder for the exports (default: WORK/export)")
    _add_course_options(export)
    export.set_defaults(run=_export)

    report = commands.add_parser(
        "report", help="one HTML page of class statistics with plots (WORK/report.html)")
    report.add_argument("--output", type=Path, default=None,
                        help="the page to write (default: WORK/report.html)")
    _add_course_options(report)
    report.set_defaults(run=_report)

    student = commands.add_parser(
        "student", help="remove or rename a student everywhere (gradebook, ledger, work folder)")
    student.add_argument("action", choices=["remove", "rename"])
    student.add_argument("student", help="the student's id")
    student.add_argument("new", nargs="?", help="the new id (rename)")
    _add_course_options(student)
    student.set_defaults(run=_student)

    demo = commands.add_parser("demo", help="grade the bundled example class into output/demo/")
    demo.add_argument("--workers", type=int, default=None,
                      help="parallel kernels (default: Grader.workers, 0: one per core)")
    demo.add_argument("--timeout", type=int, default=20,
                      help="seconds one cell may run (default 20; a notebook gets 3x that)")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument("--output", type=Path, default=None,
                      help="folder for the class, its work folder and exports "
                           "(default: ROOT/output/demo)")
    demo.add_argument("--help-all", action=HelpAll, help=HelpAll.HELP)
    _add_course_options(demo)
    demo.set_defaults(run=_demo)

    _add_ci_commands(commands)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The parsed command line; `--Class.option=value` arguments land in `args.overrides`."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    args.overrides = [a for a in extra if CONFIG_OVERRIDE.match(a)]
    unknown = [a for a in extra if not CONFIG_OVERRIDE.match(a)]
    if unknown or (args.overrides and args.command not in ("grade", "ci", "demo")):
        parser.error(f"unrecognized arguments: {' '.join(unknown or args.overrides)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if getattr(args, "root", None) is not None:
        args.root = args.root.resolve()
        args.work = (args.work or args.root / "work").resolve()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
