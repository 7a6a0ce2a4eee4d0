"""The shipped `.streamlit/config.toml` and the Import page's upload cap agree with the importer.

The browser tests (tests/e2e/test_markdown_safety.py) check what the config does in a real server.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from curation.formats.limits import DEFAULT_MAX_MB

REPO = Path(__file__).resolve().parents[2]
PAGE = "pages/import_page.py"


def _config() -> dict:
    return tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_config_binds_locally_hides_errors_and_caps_uploads() -> None:
    config = _config()
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["maxUploadSize"] == DEFAULT_MAX_MB == 200
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["disableDataExport"] is True
    assert config["browser"]["gatherUsageStats"] is False


def _uploader_limit(at) -> int:  # type: ignore[no-untyped-def]
    return int(at.get("file_uploader")[0].proto.max_upload_size_mb)


@pytest.mark.parametrize(("setting", "expected"), [(None, 200), ("5", 5), ("0.2", 1), ("900", 200)])
def test_uploader_follows_the_import_size_limit(
    open_page, store, monkeypatch: pytest.MonkeyPatch, setting: str | None, expected: int
) -> None:
    if setting is not None:
        monkeypatch.setenv("CURATION_MAX_IMPORT_MB", setting)
    store.create_project("p", "ada")
    at = open_page(PAGE)
    assert _uploader_limit(at) == expected
