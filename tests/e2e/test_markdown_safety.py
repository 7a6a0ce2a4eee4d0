"""`ui.safe.esc` in real Chromium: hostile markup shows as its text in every element that reads
markdown, creates no image, link, formula or icon, and sends no request off this machine.

Also checks what the shipped `.streamlit/config.toml` promises: bound to 127.0.0.1, no
tracebacks in the page (they go to the server log), no usage statistics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import serve
from tests.e2e.helpers import off_machine, shown, wait_idle, watch_requests
from tests.e2e.hostile import MARKUP_CASES

pytestmark = pytest.mark.e2e

KINDS = [
    "markdown",
    "alone",
    "bold",
    "caption",
    "subheader",
    "error",
    "success",
    "button",
    "expander",
    "checkbox",
    "radio",
    "input",
    "metric",
    "tab",
    "download",
]
# What each kind's container shows before the case (the radio shows its option's text).
PREFIX = {"radio": "option"}


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("probe_home")
    with serve("tests/e2e/markdown_probe.py", home) as url:
        yield url, home / "server.log"


def _open_probe(page: Any, url: str) -> None:
    """Open the probe and wait until every element has rendered (widgets load lazily)."""
    page.goto(url)
    page.get_by_text("K0-markdown:", exact=False).first.wait_for()
    wait_idle(page)
    page.wait_for_function(
        """n => { const blocks = [...document.querySelectorAll('.stVerticalBlock[class*="st-key-K"]')];
                  return blocks.length === n && blocks.every(b => b.innerText.trim() !== ''); }""",
        arg=len(MARKUP_CASES) * len(KINDS),
        timeout=90_000,
    )


def test_every_markdown_element_shows_hostile_text_literally(page, probe) -> None:
    url, _log = probe
    requests = watch_requests(page)
    _open_probe(page, url)
    texts: dict[str, str] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[class*="st-key-K"]')]
            .map(el => [[...el.classList].find(c => c.startsWith('st-key-K')).slice(7),
                        el.innerText]))"""
    )
    wrong = []
    for i, case in enumerate(MARKUP_CASES):
        for kind in KINDS:
            prefix = "" if kind == "alone" else f"K{i}-{PREFIX.get(kind, kind)}: "
            expected = shown(prefix + case)
            got = shown(texts.get(f"K{i}-{kind}", ""))
            if expected not in got:
                wrong.append((kind, case, got))
    assert not wrong, "\n".join(f"{k}: {c!r} shown as {g!r}" for k, c, g in wrong[:20])

    # nothing was turned into markup: no image, no external link, no formula, no icon, no emoji
    assert page.locator("[data-testid=stMain] img").count() == 0
    hrefs = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
    assert [h for h in hrefs if not h.startswith(url)] == []
    assert page.locator(".katex, .katex-display").count() == 0
    assert page.locator("[data-testid=stMain] code").count() == 0
    # the only headings are st.subheader's own, the only bold text is the template's **...**
    assert page.locator("[data-testid=stMain] :is(h1, h2, h4, h5, h6)").count() == 0
    assert page.locator("[data-testid=stMain] h3").count() == len(MARKUP_CASES)
    strong = page.locator("[data-testid=stMain] strong")
    assert strong.count() == len(MARKUP_CASES)
    assert page.locator("[data-testid=stMain] :is(em, del, ol, ul, blockquote, table)").count() == 0
    assert (
        page.locator("[role=img], [data-testid=stIconMaterial]")
        .filter(has_text=re.compile("warning|bolt|home"))
        .count()
        == 0
    )
    assert off_machine(requests, url) == []


def test_help_tooltips_show_hostile_text_literally(page, probe) -> None:
    url, _log = probe
    requests = watch_requests(page)
    _open_probe(page, url)
    for i in (0, 1, 2, 4, 6):  # image, links, autolinks, shortcodes, LaTeX
        button = page.locator(f".st-key-K{i}-button")
        button.get_by_test_id("stTooltipHoverTarget").first.hover()
        tip = page.get_by_test_id("stTooltipContent").last
        tip.wait_for()
        assert shown(tip.inner_text()) == shown(MARKUP_CASES[i])
        assert tip.locator("img, a, .katex, code").count() == 0
        page.mouse.move(0, 0)
        page.wait_for_timeout(300)
    assert off_machine(requests, url) == []


def test_toasts_show_hostile_text_literally(page, probe) -> None:
    url, _log = probe
    requests = watch_requests(page)
    page.goto(f"{url}/?toasts=1")
    page.get_by_text("toasts sent").wait_for()
    toasts = page.get_by_test_id("stToast")
    toasts.first.wait_for()
    texts = [shown(t) for t in toasts.all_inner_texts()]
    seen = [t for t in texts if t.startswith("K")]
    assert seen, texts
    for text in seen:
        index = int(text.split("-", 1)[0][1:])
        assert shown(f"K{index}-toast: {MARKUP_CASES[index]}") in text
    assert page.get_by_test_id("stToast").locator("img, a, .katex, code").count() == 0
    assert off_machine(requests, url) == []


def test_shipped_config_hides_errors_binds_locally_and_sends_no_statistics(page, probe) -> None:
    url, log = probe
    requests = watch_requests(page)
    page.goto(f"{url}/?crash=1")
    wait_idle(page)
    error = page.get_by_test_id("stException")
    if not error.count():
        error = page.get_by_test_id("stAlert")
    error.first.wait_for()
    body = page.get_by_test_id("stApp").inner_text()
    assert "probe-secret-detail" not in body
    assert "Traceback" not in body and "RuntimeError" not in body and "markdown_probe" not in body
    # the details are in the server's log instead
    page.wait_for_timeout(500)
    logged = log.read_text(errors="replace")
    assert "probe-secret-detail" in logged and "Traceback" in logged
    assert off_machine(requests, url) == []

    port = int(url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"127.0.0.1"}


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on `port`, read from /proc/net."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A = LISTEN
                continue
            if width == 8:
                found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
            else:
                found.add("ipv6:" + address)
    return found
