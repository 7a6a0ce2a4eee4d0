"""Shared helpers for the curation.formats tests: where the real data lives, small writers.

The real files sit in `<repo>/../shared/data`; tests that need them skip when it is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def data_file(relative: str) -> Path:
    """Path of a real data file; skips the test when the shared data folder is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"real data folder {DATA_DIR} is absent (it sits next to the repository)")
    return DATA_DIR / relative


def load_json(relative: str) -> Any:
    """The parsed content of a real JSON file."""
    return json.loads(data_file(relative).read_text(encoding="utf-8"))


def load_jsonl(relative: str) -> list[Any]:
    """The parsed lines of a real JSONL file (blank lines left out)."""
    lines = data_file(relative).read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """Write records as JSON lines (UTF-8) and return the path."""
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    return path


def turns(example: Any) -> list[tuple[str, str]]:
    """An example's messages as (role, content) pairs."""
    return [(m.role, m.content) for m in example.messages]
