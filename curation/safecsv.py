"""CSV writing that spreadsheets cannot run: every CSV the app or the command line writes.

Cells that a spreadsheet would read as a formula (OWASP "CSV injection") get a leading `'`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

# OWASP: cells starting with these are formulas (or DDE) in Excel, LibreOffice and Sheets.
# The full-width and small forms are included: some spreadsheets fold them to ASCII first.
FORMULA_PREFIXES = frozenset(
    "=+-@\t\r\n"  # ASCII (a line feed opens a multi-line cell some importers trim)
    "\uff1d\uff0b\uff0d\uff20"  # full-width ＝ ＋ － ＠
    "\ufe66\ufe62\ufe63\ufe6b"  # small forms ﹦ ﹢ ﹣ ﹫
)
NEUTRALISER = "'"

Cell = str | int | float


def neutralise_cell(value: object) -> Cell:
    """`value` as a CSV cell that no spreadsheet evaluates.

    Numbers (not booleans, NumPy's included) pass through: they cannot hold a formula, and a
    negative number stays a number. ``None`` and NaN become ``""``. Lists and dicts become compact JSON.
    Any other value becomes text, and text that starts with ``=``, ``+``, ``-``, ``@``, a tab,
    a carriage return or a line feed (or a full-width or small form of the first four) gets a
    leading ``'``, which spreadsheets show as plain text.

    Parameters
    ----------
    value:
        A cell value from data or users.

    Returns
    -------
    str | int | float
        The cell to write.

    Examples
    --------
    >>> neutralise_cell('=HYPERLINK("http://x.example","click")')
    '\\'=HYPERLINK("http://x.example","click")'
    >>> neutralise_cell(-3)
    -3
    """
    if value is None:
        return ""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if isinstance(value, numbers.Integral):
            return int(value)
        number = float(value)
        return "" if math.isnan(number) else number
    if isinstance(value, (list, dict, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    else:
        text = str(value)
    if text and text[0] in FORMULA_PREFIXES:
        return NEUTRALISER + text
    return text


def _table(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]] | Any,
    columns: Sequence[str] | None,
) -> tuple[list[str] | None, Iterable[Sequence[Any]]]:
    """Header and value rows from mappings, sequences or a pandas DataFrame."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame
        frame: Any = rows
        header = [str(c) for c in frame.columns] if columns is None else list(columns)
        selected = frame if columns is None else frame[header]
        return header, (list(r) for r in selected.itertuples(index=False, name=None))
    items = list(rows)
    if items and isinstance(items[0], Mapping):
        if columns is None:
            seen: dict[str, None] = {}
            for row in items:
                seen.update(dict.fromkeys(row))
            columns = list(seen)
        keys = list(columns)
        return keys, ([row.get(k) for k in keys] for row in items)  # type: ignore[union-attr]
    return (list(columns) if columns is not None else None), items  # type: ignore[return-value]


def write_csv(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]] | Any,
    path_or_buffer: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
    bom: bool = False,
) -> int:
    """Write `rows` as CSV with every cell, header included, passed through `neutralise_cell`.

    Parameters
    ----------
    rows:
        Mappings (the header is `columns`, else every key in first-seen order), sequences
        (the header is `columns`, or none), or a pandas DataFrame (its columns).
    path_or_buffer:
        A file path (written as UTF-8 with ``\\r\\n`` line ends, the CSV standard), a text
        buffer, or a binary buffer (UTF-8 is written to it).
    columns:
        Column names and order; a missing key in a mapping row is an empty cell.
    delimiter:
        ``","`` for CSV, ``"\\t"`` for TSV.
    bom:
        Start with a UTF-8 byte-order mark, which Excel needs to read non-ASCII text right.
        Ignored for text buffers (the caller chose their encoding).

    Returns
    -------
    int
        Data rows written (the header is not counted).
    """
    header, body = _table(rows, columns)

    def _write(fh: IO[str]) -> int:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        if header is not None:
            writer.writerow([neutralise_cell(c) for c in header])
        count = 0
        for row in body:
            writer.writerow([neutralise_cell(v) for v in row])
            count += 1
        return count

    encoding = "utf-8-sig" if bom else "utf-8"
    if isinstance(path_or_buffer, (str, os.PathLike)):
        with open(path_or_buffer, "w", encoding=encoding, newline="") as fh:
            return _write(fh)
    if isinstance(path_or_buffer, io.TextIOBase):
        return _write(path_or_buffer)  # type: ignore[arg-type]
    wrapper = io.TextIOWrapper(path_or_buffer, encoding=encoding, newline="")  # type: ignore[type-var]
    try:
        return _write(wrapper)
    finally:
        wrapper.flush()
        wrapper.detach()  # leave the caller's buffer open


def csv_bytes(
    rows: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]] | Any,
    *,
    columns: Sequence[str] | None = None,
    bom: bool = True,
) -> bytes:
    """`write_csv` into memory, for a download button; with a BOM by default (for Excel)."""
    buffer = io.BytesIO()
    write_csv(rows, buffer, columns=columns, bom=bom)
    return buffer.getvalue()
