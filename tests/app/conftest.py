"""AppTest fixtures: each test gets its own store folder and starts from the entry script.

Pages are reached with `switch_page`, as the app's `st.navigation` requires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _navigation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep AppTest in st.navigation mode.

    AppTest resets Streamlit's "app has a pages/ folder" flag before every run, which would run
    page scripts without app.py (v1 multipage mode). The real server clears the flag for good
    the first time app.py calls st.navigation; do the same here before each run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CURATION_DB_URL", raising=False)
    monkeypatch.delenv("CURATION_PROJECT", raising=False)
    monkeypatch.delenv("CURATION_USER", raising=False)
    monkeypatch.chdir(REPO)
    return tmp_path / "home"


@pytest.fixture()
def store(home: Path) -> Iterator[Store]:
    st = Store()
    yield st
    st.dispose()


@pytest.fixture()
def open_page(home: Path) -> Callable[..., AppTest]:
    """Start the app as `user` on `project`, then switch to `page` (a path under pages/)."""

    def make(page: str | None = None, *, project: str | None = "p", user: str = "ada") -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        if project:
            at.session_state["project"] = project
        at.session_state["annotator"] = user
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, at.exception
        return at

    return make
