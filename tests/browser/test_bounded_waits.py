"""Every wait on the page is bounded: Playwright's evaluate has no timeout of its own."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.lab_page import evaluate_within

pytestmark = [pytest.mark.browser]
HERE = Path(__file__).resolve().parent


@pytest.fixture
def blank_page(playwright_driver):
    if chromium_path() is None:
        pytest.skip("browser tests need Chromium (Debian: `apt-get install chromium`)")
    browser = playwright_driver.chromium.launch(executable_path=str(chromium_path()),
                                                headless=True, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        yield page
    finally:
        browser.close()


def test_a_promise_that_never_settles_fails_in_time_naming_the_wait(blank_page):
    from playwright.sync_api import Error

    started = time.monotonic()
    with pytest.raises(Error, match="the moon to rise: no answer within 500 ms"):
        evaluate_within(blank_page, "() => new Promise(() => {})", timeout_ms=500,
                        what="the moon to rise")
    assert time.monotonic() - started < 20


def test_a_promise_that_settles_gives_its_value(blank_page):
    assert evaluate_within(blank_page, "async (x) => x + 1", 41, timeout_ms=5_000,
                           what="arithmetic") == 42
    assert evaluate_within(blank_page, "([a, b]) => a * b", [6, 7], timeout_ms=5_000,
                           what="arithmetic") == 42


def test_every_evaluate_of_the_browser_tests_races_a_timer():
    """page.evaluate is called in one place only, evaluate_within, which races a timer."""
    unbounded = []
    for path in sorted(HERE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "evaluate_within":
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("evaluate", "evaluate_handle")
                        and ast.unparse(node.func.value).split(".")[-1] in ("page", "frame")):
                    unbounded.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    assert not unbounded, (
        "page.evaluate has no timeout: call LabPage.evaluate or evaluate_within (which race "
        f"a timer in the page) instead at {unbounded}")
