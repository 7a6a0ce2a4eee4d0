"""Real-browser fixtures: `streamlit run app.py` on a free port and Debian's Chromium via Playwright.

The server gets its own store folder, so each test module starts from an empty database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(script: str, home: Path, env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """Run `streamlit run SCRIPT` from the repository on a free port; yield its URL once healthy.

    Only the port, headless mode and the file watcher are given on the command line: the bind
    address, error details, upload cap and usage statistics come from the shipped
    `.streamlit/config.toml`, as they do for a plain `streamlit run app.py`. The server's
    output goes to ``home / "server.log"``.
    """
    port = _free_port()
    env = {**os.environ, "CURATION_HOME": str(home), "PYTHONPATH": str(REPO), **(env_extra or {})}
    env.pop("CURATION_DB_URL", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    f"streamlit did not start {script}:\n"
                    + (home / "server.log").read_text(errors="replace")
                )
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def app_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app server's store folder (and its server.log)."""
    return tmp_path_factory.mktemp("curation_home")


@pytest.fixture(scope="module")
def app_url(app_home: Path) -> Iterator[str]:
    """Start the app on a free port with an empty store; wait for its health endpoint."""
    with serve("app.py", app_home) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser: object, app_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(45_000)  # generous: CI machines can be busy
    yield pg
    context.close()
