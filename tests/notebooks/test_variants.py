"""Fair and sharp: alternative correct answers earn the points, typical bugs lose them.

For each assignment with a variants module in tests/notebooks/variants/, one kernel runs the
master notebook, then for each exercise and each variant: the variant's source replaces the
answer, the exercise's graded test cell (visible and hidden tests) runs, and the master's
answer is run again to restore the state.
"""

import importlib
import json

import pytest

from autograder.authoring.manifest import MANIFEST
from tests.notebooks.kernel import MASTERS, grade_id, session

pytestmark = pytest.mark.notebooks


def _variants_module(assignment: str):
    name = "v" + assignment.replace("-", "_")
    try:
        return importlib.import_module(f"tests.notebooks.variants.{name}")
    except ModuleNotFoundError:
        return None


def _cells_by_id(nb):
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_correct_variants_pass_and_bugs_fail(path):
    assignment = path.parent.name
    module = _variants_module(assignment)
    assert module is not None, (
        f"tests/notebooks/variants/v{assignment.replace('-', '_')}.py is missing: every "
        "assignment needs correct variants and typical bugs for each exercise"
    )
    exercises = [
        e for e in json.loads(MANIFEST.read_text())
        if e["assignment"] == assignment and e["notebook"] == path.name and e["kind"] == "code"
    ]
    missing = [e["grade_id"] for e in exercises if e["grade_id"] not in module.EXERCISES]
    assert not missing, f"{assignment}: no variants for exercises {missing}"

    problems = []
    counts = {"correct": 0, "bugs": 0}
    with session(path) as kernel:
        cells = _cells_by_id(kernel.nb)
        for exercise in exercises:
            spec = module.EXERCISES[exercise["grade_id"]]
            assert len(spec["correct"]) >= 2 and len(spec["bugs"]) >= 4, (
                f"{assignment}/{exercise['grade_id']}: needs >= 2 correct variants and >= 4 bugs"
            )
            answer = cells[exercise["grade_id"]].source
            tests = [cells[t].source for t in exercise["tests"]]
            for kind, variants in (("correct", spec["correct"]), ("bugs", spec["bugs"])):
                for name, source in variants.items():
                    counts[kind] += 1
                    defined = kernel.run(source)
                    assert defined is None, f"variant {name!r} does not even run: {defined}"
                    errors = [e for e in (kernel.run(t) for t in tests) if e is not None]
                    where = f"{assignment}/{exercise['grade_id']} variant {name!r}"
                    if kind == "correct" and errors:
                        problems.append(f"{where} is correct but fails: {errors[0].evalue[:300]}")
                    if kind == "bugs":
                        if not errors:
                            problems.append(f"{where} is a bug but passes every test")
                        elif any(e.ename == "NotImplementedError" for e in errors):
                            problems.append(f"{where} fails only with NotImplementedError")
                    restored = kernel.run(answer)
                    assert restored is None, f"restoring {exercise['grade_id']}: {restored}"
    print(f"{assignment}: {counts['correct']} correct variants, {counts['bugs']} bugs tried")
    assert not problems, "\n".join(problems)
