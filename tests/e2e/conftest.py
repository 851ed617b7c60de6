"""The real app (`streamlit run`) on a fresh data directory, driven by Debian's headless Chromium."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
STARTUP_SECONDS = 90
expect.set_options(timeout=60_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir) -> tuple[subprocess.Popen, str]:
    """Start the app and wait (with a deadline) until its health endpoint answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=os.environ | {"CRM_DATA_DIR": str(data_dir)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)  # polling a port that is not open yet; the deadline bounds it
    process.kill()
    raise RuntimeError("streamlit did not answer in time")


@pytest.fixture
def app_url(tmp_path):
    """A server of the test's own, on an empty data directory (the app builds the demo itself)."""
    process, url = start_app(tmp_path / "data")
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def metric_value(page: Page, label: str):
    """The value locator of the KPI whose label is exactly `label`."""
    card = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{re.escape(label)}$")))
    return card.locator("[data-testid='stMetricValue']")


def settled(page: Page) -> None:
    """Wait until the app has finished its current run: no running indicator (it shows only after a moment)
    and no element of the previous run left stale (a rerun marks them until it draws or drops them)."""
    page.wait_for_selector("[data-testid='stApp']")
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0)
    expect(page.locator("[data-stale='true']")).to_have_count(0)


def go_to(page: Page, path: str) -> None:
    """Click a sidebar navigation link (a URL change would start a new session)."""
    page.locator(f"[data-testid='stSidebarNavLink'][href$='/{path}']").click()
