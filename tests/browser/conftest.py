"""One JupyterLab server and one headless Chromium for the whole browser session.

The browser tests skip, saying why, only where Chromium is not installed; everything else
(the server failing to start, a page not loading) is a failure.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.browser.lab_page import LabPage
from tests.browser.lab_server import ROOT, copy_workspace, start_lab

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "output" / "browser"
# Debian's chromium in a closed network: no sandbox (containers), no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """output/browser/: screenshots kept after the run (git-ignored); each run overwrites
    its own files by name (not the folder: another checkout's run may be writing there)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """JupyterLab on a free loopback port serving a temporary copy of course/ and solutions/."""
    if chromium_path() is None:
        pytest.skip(
            f"browser tests need Chromium: {CHROMIUM} is missing (Debian: "
            "`apt-get install chromium`, or run tools/install-system-deps as root)"
        )
    state = tmp_path_factory.mktemp("jupyterlab")
    workspace = state / "workspace"
    workspace.mkdir()
    copy_workspace(workspace)
    server = start_lab(state, workspace)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright (sync API) of this test process: a second one started beside it, or
    clearing the loop mark it sets, breaks the first (its close then finds no running loop)."""
    from playwright.sync_api import sync_playwright

    forget_leaked_event_loop()
    with sync_playwright() as playwright:
        yield playwright


def forget_leaked_event_loop() -> None:
    """Clear asyncio's running-loop mark that an earlier test of this worker left behind.

    Grading in this process (nbclient's run_sync) can leave the mark set on the main thread
    with no loop running, and Playwright's sync API then refuses to start. Called only before
    this process's one Playwright starts, so the mark cannot be Playwright's own.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def browser_context(lab_server, playwright_driver, tmp_path_factory):
    """One headless Chromium with a fresh profile."""
    playwright = playwright_driver
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=str(chromium_path()),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def lab(lab_server, browser_context) -> LabPage:
    """The JupyterLab page, loaded once; each test opens and closes its own notebooks."""
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    lab_page = LabPage(page, lab_server.lab_url())
    lab_page.load()
    return lab_page


@pytest.fixture
def workspace(lab_server) -> Path:
    return lab_server.workspace


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, artifacts):
    """Keep a screenshot of the lab page when a browser test fails."""
    yield
    if request.node.stash.get(CALL_FAILED, False) and "lab" in request.fixturenames:
        lab_page = request.getfixturevalue("lab")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        lab_page.page.screenshot(path=artifacts / "failures" / f"{name}.png")
