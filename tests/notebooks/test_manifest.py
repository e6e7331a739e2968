"""The committed exercise manifest lists exactly the graded cells of the masters."""

import json

from autograder.authoring.manifest import MANIFEST, build_manifest, render


def test_manifest_is_in_step_with_the_notebooks():
    fresh = render(build_manifest())
    assert MANIFEST.exists() and MANIFEST.read_text() == fresh, (
        "autograder/exercises.json is out of step with solutions/; run "
        "`python -m autograder.authoring.manifest` and commit it"
    )


def test_every_exercise_defines_something_and_is_worth_points():
    for entry in json.loads(MANIFEST.read_text()):
        assert entry["points"] > 0, entry
        if entry["kind"] == "code":
            assert entry["defines"], f"{entry['grade_id']} defines no name"
