"""`curation.paths.safe_file_stem`: names from user data can never climb out of their folder.

Every property is checked by creating the folder for real under a temporary directory.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.paths import export_stem, safe_file_stem

NASTY = [
    "../../../tmp/x",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "a/b/c",
    "..",
    ".",
    "...",
    "",
    " ",
    " padded ",
    ".hidden",
    "-rf",
    "CON",
    "con.txt",
    "LPT1",
    "nul .tar",
    'a<b>c:d"e|f?g*h',
    "tab\there\nnewline\rreturn",
    "nul\x00byte",
    "rtl\u202egpj.exe",
    "zero\u200bwidth",
    "lone \ud800 surrogate",
    "x" * 300,
    "日本語のプロジェクト" * 20,
    "emoji 🧪 data",
    "trailing dots...",
    "ok-name_1.2",
]
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
WINDOWS_RESERVED |= {f"LPT{i}" for i in range(1, 10)}


def assert_safe(stem: str, base: Path, max_bytes: int = 100) -> None:
    assert stem and len(stem.encode("utf-8")) <= max_bytes
    assert not set(stem) & set('/\\<>:"|?*\x00')
    assert ".." not in stem and stem not in (".", "..")
    assert stem[0] not in " .-" and stem[-1] not in " ."
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in stem)
    assert stem.split(".")[0].strip().upper() not in WINDOWS_RESERVED
    folder = base / stem
    folder.mkdir()
    assert Path(os.path.realpath(folder)).parent == Path(os.path.realpath(base))


@pytest.mark.parametrize("name", NASTY)
def test_nasty_names_make_one_safe_folder(name: str, tmp_path: Path) -> None:
    stem = safe_file_stem(name)
    assert_safe(stem, tmp_path)
    assert safe_file_stem(name) == stem  # stable


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=16, max_value=255))
def test_any_text_makes_one_safe_folder(name: str, max_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as base:
        assert_safe(safe_file_stem(name, max_bytes=max_bytes), Path(base), max_bytes)


def test_what_names_become() -> None:
    assert safe_file_stem("../../../tmp/x") == "tmp_x"
    assert safe_file_stem("a/b\\c") == "a_b_c"
    assert safe_file_stem(" padded ") == "padded"
    assert safe_file_stem("CON") == "_CON"
    assert safe_file_stem("rtl\u202egpj.exe") == "rtl_gpj.exe"
    assert safe_file_stem("My project: v2?") == "My project_ v2"
    assert safe_file_stem("日本語 データ") == "日本語 データ"
    assert safe_file_stem("ok-name_1.2") == "ok-name_1.2"
    assert safe_file_stem("..") == "export"
    assert safe_file_stem("", fallback="data") == "data"
    assert safe_file_stem("///", fallback="../") == "export"
    assert export_stem("../../x", "openai") == "x-openai"
    assert export_stem("/", "alpaca") == "alpaca"


def test_long_names_are_cut_with_a_hash_that_keeps_them_apart() -> None:
    a, b = "q" * 200 + "-first", "q" * 200 + "-second"
    stem_a, stem_b = safe_file_stem(a), safe_file_stem(b)
    assert stem_a != stem_b
    assert len(stem_a.encode()) <= 100 and stem_a.startswith("q" * 80)
    assert stem_a[-9] == "-" and all(c in "0123456789abcdef" for c in stem_a[-8:])
    # multi-byte text is cut on a character boundary
    stem = safe_file_stem("é" * 100, max_bytes=40)
    assert len(stem.encode()) <= 40 and stem.startswith("é" * 15)


def test_too_small_a_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes=8"):
        safe_file_stem("x", max_bytes=8)
