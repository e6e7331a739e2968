"""The `autograder` command line (also `python -m autograder`)."""

from __future__ import annotations

import argparse
import sys


def _release(args: argparse.Namespace) -> int:
    from autograder.release import release

    for folder in release(args.assignments or None):
        print(f"released {folder.relative_to(folder.parent.parent)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description="Release, grade and export the autodiff course."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="regenerate course/ from solutions/")
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.set_defaults(run=_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
