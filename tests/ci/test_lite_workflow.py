"""The GitHub Pages template of the zero-install site: valid YAML, GitHub's Pages conventions,
and it builds with the same `make lite` the tests run."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tools" / "lite" / "github-pages.yml"


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_pages_template_builds_with_make_lite_and_uploads_the_site():
    workflow = yaml.safe_load(TEMPLATE.read_text())
    build = steps(workflow, "build")
    assert any(step.get("run", "").strip() == "make lite" for step in build)
    upload = next(s for s in build if s.get("uses", "").startswith(
        "actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "output/lite"
    cache = next(s for s in build if s.get("uses", "").startswith("actions/cache@"))
    assert "tools/lite/requirements.txt" in cache["with"]["key"]


def test_pages_template_follows_github_pages_conventions():
    workflow = yaml.safe_load(TEMPLATE.read_text())
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert {"push", "workflow_dispatch"} <= set(workflow["on"])
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
