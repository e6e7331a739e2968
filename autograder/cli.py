"""The `autograder` command line (also `python -m autograder`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _release(args: argparse.Namespace) -> int:
    from autograder.authoring.release import release

    for folder in release(args.assignments or None):
        print(f"released {folder.relative_to(folder.parent.parent)}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.collect.layouts import LayoutError
    from autograder.exports.table import grade_table
    from autograder.gradebook.batch import BatchOptions, grade_batch
    from autograder.gradebook.record import ledger_rows
    from autograder.sandbox.policy import Limits, SandboxUnavailable

    limits = Limits(memory_mb=args.memory, wall_clock=args.timeout,
                    cell_timeout=min(args.timeout, Limits.cell_timeout),
                    cpu_seconds=max(args.timeout, 10))
    options = BatchOptions(root=args.root, work=args.work, workers=args.workers, limits=limits,
                           require_sandbox=args.require_sandbox,
                           assignments=args.assignment or None, progress=not args.quiet)
    try:
        grade_batch(args.submissions, options)
    except (LayoutError, SandboxUnavailable) as exc:
        print(f"autograder grade: {exc}", file=sys.stderr)
        return 2
    print(grade_table(ledger_rows(_db_url(args))))
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from autograder.exports.feedback import feedback_all

    written = feedback_all(args.root, args.work, args.output)
    print(f"wrote {len(written)} feedback pages under {args.output or args.work / 'feedback'}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from autograder.exports.all_formats import export_all

    target = args.output or args.work / "export"
    written = export_all(args.root, args.work, target)
    print(f"wrote grades.csv, junit.xml and {len(written) - 2} results.json under {target}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.demo import run_demo

    return run_demo(workers=args.workers, timeout=args.timeout, progress=not args.quiet)


# --- CI grading (issue 6): `ci`, `merge`, `gradescope` ---------------------------------------
def _ci(args: argparse.Namespace) -> int:
    from autograder.ci.command import CIOptions, default_outputs, run_ci

    outputs = default_outputs(args.output)
    for key in outputs:
        if getattr(args, key) is not None:
            outputs[key] = args.__dict__[key]
    options = CIOptions(root=args.root, work=args.ci_work and args.ci_work.resolve(),
                        student=args.student, assignments=args.assignment or None,
                        workers=args.workers, require_sandbox=args.require_sandbox,
                        timeout=args.timeout, memory_mb=args.memory, outputs=outputs,
                        gradebook=args.gradebook)
    return run_ci(args.path, options)


def _merge(args: argparse.Namespace) -> int:
    from autograder.ci.merge import MergeError, merge_results
    from autograder.exports.all_formats import export_all

    try:
        report = merge_results(args.results, args.root, args.work)
    except MergeError as exc:
        print(f"autograder merge: {exc}", file=sys.stderr)
        return 2
    target = args.output or args.work / "export"
    export_all(args.root, args.work, target)
    print(f"{report.files} result file(s): {len(report.merged)} submission(s) merged, "
          f"{len(report.unchanged)} unchanged; gradebook {args.work / 'gradebook.db'}, "
          f"grades {target / 'grades.csv'}")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.ci.bundle import OUTPUT, build_zip

    print(f"wrote {build_zip(args.output or OUTPUT)}")
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
    ci.add_argument("--workers", type=int, default=0, help="parallel kernels (default: cores)")
    ci.add_argument("--timeout", type=int, default=120, help="wall-clock seconds per notebook")
    ci.add_argument("--memory", type=int, default=1024, help="memory limit per kernel, MB")
    ci.add_argument("--require-sandbox", action="store_true",
                    help="fail (exit 2) when bwrap cannot isolate student code")
    ci.set_defaults(run=_ci, work=None)  # main() fills `work` in; ci uses --work (ci_work)

    merge = commands.add_parser(
        "merge", help="fold per-submission CI results into the gradebook and grades.csv",
        description="Record each results.json written by `autograder ci` (or every results.json "
                    "under a folder of CI artifacts) in WORK's gradebook, then write "
                    "grades.csv. Idempotent: merging the same results again changes nothing.")
    merge.add_argument("results", type=Path, nargs="+", metavar="RESULTS")
    merge.add_argument("--output", type=Path, default=None,
                       help="folder for grades.csv and the exports (default: WORK/export)")
    _add_course_options(merge)
    merge.set_defaults(run=_merge)

    gradescope = commands.add_parser(
        "gradescope", help="build the Gradescope autograder zip into output/gradescope/")
    gradescope.add_argument("--output", type=Path, default=None,
                            help="folder for autograder.zip (default: output/gradescope)")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description="Release, grade and export the autodiff course."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="regenerate course/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.set_defaults(run=_release)

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions in parallel, in a sandbox",
        description="Grade every submission in SUBMISSIONS: nbgrader's submitted/<student>/"
                    "<assignment>/ folders, a folder of <student>.zip files, a folder of "
                    "per-student repository clones, or nbgrader's exchange (its inbound/, course "
                    "or root folder; latest submission wins). Reruns skip what is already graded.")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    grade.add_argument("--workers", type=int, default=0, help="parallel kernels (default: cores)")
    grade.add_argument("--timeout", type=int, default=120,
                       help="wall-clock seconds per notebook (default 120; a cell gets at most 30)")
    grade.add_argument("--memory", type=int, default=1024, help="memory limit per kernel, MB")
    grade.add_argument("--require-sandbox", action="store_true",
                       help="refuse to grade when bwrap cannot isolate student code")
    grade.add_argument("--assignment", action="append",
                       help="grade only this assignment (repeatable)")
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

    demo = commands.add_parser("demo", help="grade the bundled example class into output/demo/")
    demo.add_argument("--workers", type=int, default=0)
    demo.add_argument("--timeout", type=int, default=20, help="wall-clock seconds per notebook")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(run=_demo)

    _add_ci_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "root", None) is not None:
        args.root = args.root.resolve()
        args.work = (args.work or args.root / "work").resolve()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
