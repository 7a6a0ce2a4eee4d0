"""Containers: bytes, files and folders in, a list of raw records out.

Each record is checked as it is read; one that cannot be imported becomes an `Unreadable` row.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from curation.errors import InputError
from curation.formats.decoding import (
    SUPPORTED,
    decode_text,
    unpack,
    unpacked_size,
)
from curation.formats.jsontext import RecordTrouble, parse_document, parse_value
from curation.formats.limits import (
    MAX_SOURCE_CHARS,
    check_size,
    max_import_bytes,
    max_import_records,
    max_record_bytes,
    records_error,
    size_error,
)
from curation.formats.results import import_warning
from curation.formats.storable import (
    NOT_UTF8,
    NUL_CHARACTER,
    Unreadable,
    check_json_record,
    describe_path,
    find_problem,
    printable,
    too_large,
)
from curation.issues import Issue

CONTAINERS: tuple[str, ...] = ("jsonl", "json", "csv", "tsv", "parquet", "hf-disk", "hf-load")
EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "hf-load",
}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
WRAPPER_KEYS = ("data", "examples", "train", "records", "rows", "items", "instances", "dataset")
PathOrBuffer = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
_BATCH_ROWS = 1024

# Long answers exceed csv's default 128 KiB field limit; only ever raise it.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

# A TSV field that opens with a quote but has a lone quote before its end is plain text
# (e.g. MRPC's `"He said," she said`), so quoting must be off for that file.
_BARE_QUOTE = re.compile(r'(?:^|\t)"(?:[^"\t\n]|"")*"(?=[^"\t\r\n])', re.MULTILINE)


@dataclass
class LoadedRecords:
    """Raw records of one input, before shape conversion.

    ``rows`` holds ``(number, record, split)``: number is the 1-based JSONL line or record/row
    number, record a dict or an `Unreadable` (or any other JSON value), split the dataset split.
    """

    rows: list[tuple[int, Any, str | None]]
    container: str
    columns: list[str]
    sha256: str
    source: str
    location: str = "record"
    warnings: list[Issue] = field(default_factory=list)
    text_table: bool = False
    truncated: bool = False
    tabular_values: bool = False


@dataclass(frozen=True, slots=True)
class _Reading:
    """What every reader of one input needs besides its content."""

    name: str
    sha256: str
    limit: int | None
    limit_bytes: int
    max_record: int
    max_records: int
    bad_lines: dict[int, str] = field(default_factory=dict)

    def check_count(self, count: int, unit: str = "records") -> None:
        """Refuse an input of ``count`` records (or lines) over the limit, unless previewing."""
        if self.limit is None and count > self.max_records:
            raise records_error(count, self.max_records, self.name, unit)


def load_records(
    path_or_buffer: PathOrBuffer,
    *,
    source: str | None = None,
    max_bytes: int | None = None,
    limit: int | None = None,
) -> LoadedRecords:
    """Read a file, folder, bytes or binary buffer into raw records.

    Parameters
    ----------
    path_or_buffer:
        A path (file or folder), bytes, or a binary file-like object (``.name`` is used to guess
        the container when present).
    source:
        Name to report instead of the file name; also used to guess the container of buffers.
    max_bytes:
        Size limit; default from ``$CURATION_MAX_IMPORT_MB`` (200 MB). Compressed content
        counts unpacked, and reading stops as soon as it passes the limit.
    limit:
        Stop after this many records (for previews).

    Raises
    ------
    InputError
        The input as a whole cannot be read (missing, empty, binary, over the limit...).
    """
    limit_bytes = max_import_bytes(max_bytes)
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer)
        if "\x00" in str(path):
            raise InputError(f"The path {printable(str(path))!r} holds a NUL character.")
        name, renamed = _source_name(source or path.name)
        if path.is_dir():
            loaded = _load_directory(path, name, limit_bytes, limit)
        elif not path.exists():
            raise InputError(
                f"File not found: {printable(str(path))}. Check the path and try again."
            )
        else:
            check_size(path.stat().st_size, limit_bytes, name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"{name} cannot be read: {exc.strerror or exc}.") from exc
            loaded = load_bytes(data, name=name, limit_bytes=limit_bytes, limit=limit)
    else:
        if isinstance(path_or_buffer, bytes | bytearray | memoryview):
            raw_name = source or "upload"
            data = bytes(path_or_buffer)
        elif hasattr(path_or_buffer, "read"):
            raw_name = source or Path(str(getattr(path_or_buffer, "name", "") or "upload")).name
            data = _read_buffer(path_or_buffer, limit_bytes, raw_name)
        else:
            raise InputError(
                f"Cannot read a {type(path_or_buffer).__name__}: pass a file path, bytes or a "
                "binary file object."
            )
        name, renamed = _source_name(raw_name)
        check_size(len(data), limit_bytes, name)
        loaded = load_bytes(data, name=name, limit_bytes=limit_bytes, limit=limit)
    if renamed is not None:
        loaded.warnings.insert(0, renamed)
    return loaded


def _source_name(raw: str) -> tuple[str, Issue | None]:
    """A file name the store and the page can hold: valid text, at most 500 characters."""
    name = printable(raw, MAX_SOURCE_CHARS)
    if name == raw:
        return name, None
    return name, import_warning(
        f"The file name holds characters that are not text or is over {MAX_SOURCE_CHARS} "
        f"characters; its examples are stored with the source {name!r}.",
        reason="file name",
    )


def _read_buffer(buffer: Any, limit_bytes: int, name: str) -> bytes:
    """A buffer's content from its start, never more than the limit (+1 byte) into memory."""
    if hasattr(buffer, "seek"):
        with contextlib.suppress(OSError, ValueError):  # not seekable: read what is left
            size = buffer.seek(0, io.SEEK_END)
            buffer.seek(0)
            check_size(size, limit_bytes, name)
    content: Any = buffer.read(limit_bytes + 1)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if len(data) > limit_bytes:
        raise size_error(len(data), limit_bytes, name, stopped=True)
    return data


def load_bytes(
    data: bytes, *, name: str, limit_bytes: int, limit: int | None = None
) -> LoadedRecords:
    """Parse bytes whose container is guessed from ``name``'s extension, else from content."""
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(f"{name} is empty: there are no records to import.")
    unpacked = unpack(data, name, limit_bytes)
    if unpacked is not data and not unpacked.strip():
        raise InputError(f"{name} is empty: there are no records to import.")
    data = unpacked
    stem = name
    for suffix in COMPRESSED_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    container = EXTENSIONS.get(Path(stem).suffix.lower())
    magic = _binary_container(data)
    if magic is not None:
        container = magic
    reading = _Reading(name, sha256, limit, limit_bytes, max_record_bytes(), max_import_records())
    if container == "parquet":
        return _read_parquet(data, reading)
    if container == "hf-load":
        return _read_with_datasets_bytes(data, reading)
    if data[:2] == b"PK":
        raise InputError(
            f"{name} is a zip archive (or an Excel workbook). Unzip it, or save the sheet as "
            f"CSV. Supported formats: {SUPPORTED}."
        )
    decoded = decode_text(data, name)
    text = decoded.text
    del data, unpacked
    if not text.strip():
        raise InputError(f"{name} is empty: there are no records to import.")
    warnings = [decoded.warning] if decoded.warning else []
    reading = dataclasses.replace(reading, bad_lines=decoded.bad_lines)
    if container is None:
        container = sniff_text(text)
    if container in ("json", "jsonl"):
        loaded = _read_json_text(text, container, reading, warnings)
    else:
        loaded = _read_delimited(text, container, reading)
    loaded.warnings[:0] = warnings
    return loaded


def _binary_container(data: bytes) -> str | None:
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:6] == b"ARROW1" or data[:4] == b"\xff\xff\xff\xff":
        return "hf-load"
    return None


def sniff_text(text: str) -> str:
    """Guess the container of decoded text: JSON array/object, JSONL, TSV or CSV."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first, _, rest = stripped.partition("\n")
        try:
            parse_value(first)
        except RecordTrouble:
            pass  # a whole value that cannot be one record: still a line of its own
        except ValueError:
            return "json"
        return "jsonl" if rest.strip() else "json"
    header = stripped.partition("\n")[0]
    return "tsv" if header.count("\t") >= max(1, header.count(",")) else "csv"


def _ordered_columns(rows: list[tuple[int, Any, str | None]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, record, _ in rows:
        if isinstance(record, dict):
            for key in record:
                if key not in seen:
                    seen[key] = None
    return list(seen)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _not_an_object(value: Any) -> Unreadable:
    return Unreadable("not an object", f"expected a JSON object, got {_json_type(value)}")


def _read_json_text(
    text: str, container: str, reading: _Reading, warnings: list[Issue]
) -> LoadedRecords:
    name = reading.name
    if container == "jsonl":
        if text.lstrip().startswith("[") and sniff_text(text) == "json" and not reading.bad_lines:
            try:
                value, exact = parse_document(text)
            except json.JSONDecodeError:
                value, exact = None, False
            if isinstance(value, list):
                warnings.append(
                    import_warning(f"{name} holds one JSON array, not JSON lines; read as JSON.")
                )
                return _json_value_records(value, exact, reading)
        return _read_jsonl(text, reading)
    if reading.bad_lines:
        if sniff_text(text) == "jsonl":
            warnings.append(
                import_warning(f"{name} holds one JSON object per line; read as JSONL.")
            )
            return _read_jsonl(text, reading)
        line = min(reading.bad_lines)
        raise InputError(
            f"{name} is a JSON document that is UTF-8 except on line {line}: "
            f"{reading.bad_lines[line]}. A JSON document is read whole, so nothing was imported; "
            "fix that line, or save the records as JSON lines (.jsonl) so only the bad lines are "
            "left out."
        )
    try:
        value, exact = parse_document(text)
    except json.JSONDecodeError as exc:
        if sniff_text(text) == "jsonl":
            warnings.append(
                import_warning(f"{name} holds one JSON object per line; read as JSONL.")
            )
            return _read_jsonl(text, reading)
        raise InputError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Fix the file, or save it with one record per line as .jsonl so the other records "
            "can still be imported."
        ) from exc
    return _json_value_records(value, exact, reading)


def _json_value_records(value: Any, exact: bool, reading: _Reading) -> LoadedRecords:
    name = reading.name
    if isinstance(value, Unreadable):
        raise InputError(f"{name} cannot be read: {value.message}.")
    if isinstance(value, dict):
        value = _unwrap(value, name)
    if not isinstance(value, list):
        raise InputError(
            f"{name} holds {_json_type(value)} at the top level; expected a list of records "
            "(or an object with the list under a key such as 'data')."
        )
    reading.check_count(len(value))
    truncated = reading.limit is not None and len(value) > reading.limit
    if truncated:
        value = value[: reading.limit]
    rows: list[tuple[int, Any, str | None]] = []
    for number, record in enumerate(value, 1):
        if isinstance(record, dict):
            record = check_json_record(record, max_bytes=reading.max_record, exact=exact) or record
        elif not isinstance(record, Unreadable):
            record = _not_an_object(record)
        rows.append((number, record, None))
    return LoadedRecords(
        rows, "json", _ordered_columns(rows), reading.sha256, name, truncated=truncated
    )


def _unwrap(obj: dict[str, Any], name: str) -> Any:
    """The record list inside a top-level object, or ``[obj]`` when it is one record."""

    def is_records(v: Any) -> bool:
        # Mostly records (an Unreadable is a record the reader could not read: too deep, NaN);
        # a stray non-object item is then reported on its own.
        if not isinstance(v, list) or not any(isinstance(r, dict) for r in v[:50]):
            return False
        return sum(isinstance(r, dict | Unreadable) for r in v[:50]) * 2 > len(v[:50])

    for key in WRAPPER_KEYS:
        if is_records(obj.get(key)):
            return obj[key]
    from curation.formats.detect import detect_format  # detect imports shapes, not containers

    if detect_format([obj])[0] != "mapped":
        return [obj]
    lists = [k for k, v in obj.items() if is_records(v)]
    if len(lists) == 1:
        return obj[lists[0]]
    if len(lists) > 1:
        raise InputError(
            f"{name} is an object with several record lists "
            f"({printable(', '.join(lists))}); expected one list, under a key such as "
            f"{', '.join(WRAPPER_KEYS[:3])}."
        )
    return [obj]


def _read_jsonl(text: str, reading: _Reading) -> LoadedRecords:
    rows: list[tuple[int, Any, str | None]] = []
    truncated = False
    has_nul = "\x00" in text
    # Counted before splitting: millions of tiny lines would cost gigabytes as Python objects.
    lines = text.count("\n") + (not text.endswith("\n")) - text.count("\n\n")  # about
    reading.check_count(lines, "lines")
    # split("\n"), not splitlines(): JSON strings may hold raw U+2028 and other separators.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if reading.limit is not None and len(rows) >= reading.limit:
            truncated = True
            break
        rows.append((number, _jsonl_record(line, number, reading, has_nul=has_nul), None))
    return LoadedRecords(
        rows,
        "jsonl",
        _ordered_columns(rows),
        reading.sha256,
        reading.name,
        location="line",
        truncated=truncated,
    )


def _jsonl_record(line: str, number: int, reading: _Reading, *, has_nul: bool) -> Any:
    """One JSON line as a record dict, or the `Unreadable` it is."""
    bad_bytes = reading.bad_lines.get(number)
    if bad_bytes is not None:
        return Unreadable(NOT_UTF8, bad_bytes)
    if line.startswith("\ufeff"):  # the byte-order mark of a file concatenated to this one
        line = line[1:]
    if len(line) > reading.max_record:  # checked before parsing: a huge line is never parsed
        return too_large(len(line), reading.max_record)
    if has_nul and "\x00" in line:
        return Unreadable(
            NUL_CHARACTER,
            f"holds a NUL byte at column {line.index(chr(0)) + 1}, which text data never "
            "holds (a damaged file?); remove it",
        )
    try:
        record, exact = parse_value(line)
    except RecordTrouble as exc:
        return exc.problem
    except json.JSONDecodeError as exc:
        return Unreadable("invalid json", f"invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(record, dict):
        return _not_an_object(record)
    return check_json_record(record, max_bytes=reading.max_record, exact=exact) or record


def _read_delimited(text: str, container: str, reading: _Reading) -> LoadedRecords:
    name = reading.name
    delimiter = "\t" if container == "tsv" else ","
    plain = delimiter == "\t" and _BARE_QUOTE.search(text) is not None
    row_lines: list[str] = []  # the physical lines of the row being read
    has_nul = "\x00" in text

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            row_lines.append(line)
            yield line

    reader = csv.reader(
        lines(), delimiter=delimiter, quoting=csv.QUOTE_NONE if plain else csv.QUOTE_MINIMAL
    )
    rows: list[tuple[int, Any, str | None]] = []
    truncated = False
    try:
        header = next((fields for fields in reader if fields), None)
        if header is None:
            raise InputError(f"{name} is empty: there are no records to import.")
        _check_header(header, reader.line_num, reading)
        columns = _unique_names(header)
        width = len(columns)
        last_line = reader.line_num
        for fields in reader:
            first_line, last_line = last_line + 1, reader.line_num
            spanned = "".join(row_lines) if len(row_lines) > 1 and not plain else None
            row_lines.clear()
            if not fields or (len(fields) == 1 and not fields[0].strip() and width > 1):
                continue
            if reading.limit is not None and len(rows) >= reading.limit:
                truncated = True
                break
            number = len(rows) + 1
            reading.check_count(number)
            bad = next(
                (n for n in range(first_line, last_line + 1) if n in reading.bad_lines), None
            )
            # One quote left open makes a row's quotes odd in number; only such rows are re-read.
            odd = spanned is not None and spanned.count('"') % 2 == 1
            misquoted = _misquoted(spanned, delimiter) if odd and spanned else None
            record: Any
            if bad is not None:
                record = Unreadable(NOT_UTF8, f"file line {bad}: {reading.bad_lines[bad]}")
            elif misquoted is not None:
                record = Unreadable(
                    "misquoted",
                    f"file lines {first_line}-{last_line} were read as one row because a "
                    f"quoted field is not closed where it should be ({misquoted}); close the "
                    "quote (the rows those lines hold are not imported)",
                )
            elif len(fields) != width:
                record = Unreadable(
                    "wrong field count",
                    f"has {len(fields)} fields but the header has {width} (file line "
                    f"{reader.line_num}); a line break may be missing or a field may hold an "
                    "unquoted delimiter",
                )
            else:
                record = dict(zip(columns, fields, strict=True))
                # Cells are text decoded as UTF-8: only a NUL or the size can be wrong.
                if (has_nul and "\x00" in "".join(fields)) or sum(
                    map(len, fields)
                ) > reading.max_record:
                    record = find_problem(record, max_bytes=reading.max_record) or record
            rows.append((number, record, None))
    except csv.Error as exc:
        raise InputError(
            f"{name} cannot be read as {container.upper()} near line {reader.line_num}: {exc}."
        ) from exc
    return LoadedRecords(
        rows,
        container,
        columns,
        reading.sha256,
        name,
        location="row",
        text_table=True,
        truncated=truncated,
    )


def _misquoted(row_text: str, delimiter: str) -> str | None:
    """Why a row spanning several lines is not one well-quoted row, or None when it is.

    The lenient reader lets a quote that is never closed (or closed mid-field) swallow the
    lines after it into one field; a strict read of just that row tells it apart from a
    legitimate multi-line field.
    """
    try:
        for _ in csv.reader(io.StringIO(row_text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "the file ends inside it" if "unexpected end of data" in str(exc) else str(exc)
    return None


def _check_header(header: list[str], last_line: int, reading: _Reading) -> None:
    """The header names the columns of every row: refuse the file when it is damaged."""
    bad = next((n for n in range(1, last_line + 1) if n in reading.bad_lines), None)
    if bad is not None:
        raise InputError(
            f"The header of {reading.name} (line {bad}) is {reading.bad_lines[bad]}; "
            "no row can be read without it."
        )
    problem = find_problem(dict.fromkeys(header, ""), max_bytes=reading.max_record)
    if problem is not None:
        raise InputError(
            f"The header of {reading.name} cannot name columns: {printable(problem.message)}."
        )


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, raw in enumerate(header):
        base = raw.strip() or f"column_{i + 1}"
        candidate, k = base, 2
        while candidate in names:
            candidate, k = f"{base}_{k}", k + 1
        names.append(candidate)
    return names


# ---------------------------------------------------------------- Arrow-based containers


def _arrow_size(batch: Any) -> int:
    """Decoded size of an Arrow batch or table: its buffers, dictionaries counted expanded.

    Every cell counts one byte at least, so columns of nulls (no buffers at all) still count.
    """
    import pyarrow as pa

    size = batch.num_rows * max(1, batch.num_columns)
    for column in batch.columns:
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        for chunk in chunks:
            if pa.types.is_dictionary(chunk.type):
                per_value = chunk.dictionary.nbytes / max(1, len(chunk.dictionary))
                size += chunk.indices.nbytes + int(per_value * len(chunk))
            else:
                size += chunk.nbytes
    return int(size)


def _arrow_rows(table: Any, start: int, split: str | None) -> list[tuple[int, Any, str | None]]:
    """Rows of an Arrow table or batch as checked records (or `Unreadable`s), numbered on."""
    try:
        records: list[Any] = table.to_pylist()
    except UnicodeDecodeError:  # Parquet does not check that its text is UTF-8; find the row
        records = [_arrow_row(table, i) for i in range(table.num_rows)]
    max_record = max_record_bytes()
    rows: list[tuple[int, Any, str | None]] = []
    for i, record in enumerate(records):
        if isinstance(record, dict):
            record = find_problem(record, max_bytes=max_record) or record
        rows.append((start + i + 1, record, split))
    return rows


def _arrow_row(table: Any, index: int) -> Any:
    row = table.slice(index, 1)
    try:
        return row.to_pylist()[0]
    except UnicodeDecodeError:
        for column in row.column_names:
            try:
                row.column(column).to_pylist()
            except UnicodeDecodeError:
                break
        return Unreadable(
            NOT_UTF8, f"{describe_path((column,))} holds text that is not valid UTF-8"
        )


def _read_parquet(data: bytes, reading: _Reading) -> LoadedRecords:
    import pyarrow as pa
    import pyarrow.parquet as pq

    name, limit = reading.name, reading.limit
    rows: list[tuple[int, Any, str | None]] = []
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        metadata = parquet.metadata
        declared = sum(
            metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
        )
        # Cheap first: the sizes the file declares, before any page is decompressed.
        check_size(max(declared, metadata.num_rows), reading.limit_bytes, name, unpacked=True)
        reading.check_count(metadata.num_rows)
        decoded = 0
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            decoded += _arrow_size(batch)
            if decoded > reading.limit_bytes:
                raise size_error(decoded, reading.limit_bytes, name, unpacked=True, stopped=True)
            if limit is not None and len(rows) + batch.num_rows > limit:
                batch = batch.slice(0, limit - len(rows))
            rows += _arrow_rows(batch, len(rows), None)
            if limit is not None and len(rows) >= limit:
                break
        truncated = metadata.num_rows > len(rows)
        columns = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name} cannot be read as Parquet: {exc}") from exc
    return LoadedRecords(
        rows, "parquet", columns, reading.sha256, name, truncated=truncated, tabular_values=True
    )


def _dataset_rows(
    dataset: Any, limit: int | None, limit_bytes: int, name: str, *, always_split: bool
) -> tuple[list[tuple[int, Any, str | None]], list[str], bool]:
    """Rows of a datasets Dataset or DatasetDict (splits concatenated, split name kept)."""
    import datasets

    if isinstance(dataset, datasets.DatasetDict):
        parts = [(str(split), dataset[split]) for split in dataset]
        keep_split = always_split or len(parts) > 1
    else:
        parts = [("", dataset)]
        keep_split = False
    total = sum(len(part) for _, part in parts)
    if limit is None and total > max_import_records():
        raise records_error(total, max_import_records(), name)
    rows: list[tuple[int, Any, str | None]] = []
    columns: dict[str, None] = {}
    truncated = False
    decoded = 0
    for split, part in parts:
        columns.update(dict.fromkeys(part.column_names))
        if limit is not None:
            room = limit - len(rows)
            if room <= 0:
                truncated = True
                break
            if len(part) > room:
                truncated = True
                part = part.select(range(room))
        table = part.with_format("arrow")[:]
        # The Arrow data is in memory already; its Python rows would be several times larger.
        decoded += _arrow_size(table)
        if decoded > limit_bytes:
            raise size_error(decoded, limit_bytes, name, unpacked=True)
        rows += _arrow_rows(table, len(rows), split if keep_split else None)
    return rows, list(columns), truncated


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def _load_directory(path: Path, name: str, limit_bytes: int, limit: int | None) -> LoadedRecords:
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if not files:
        raise InputError(f"{name} is an empty folder: there are no records to import.")
    check_size(sum(p.stat().st_size for p in files), limit_bytes, name)
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        with p.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    sha256 = digest.hexdigest()
    import datasets

    if _is_saved_dataset(path):
        try:
            dataset = datasets.load_from_disk(str(path))
        except Exception as exc:  # datasets raises many types for a damaged folder
            raise InputError(
                f"{name} looks like a saved dataset but cannot be loaded: {exc}"
            ) from exc
        rows, columns, truncated = _dataset_rows(
            dataset, limit, limit_bytes, name, always_split=True
        )
        return LoadedRecords(
            rows, "hf-disk", columns, sha256, name, truncated=truncated, tabular_values=True
        )
    _check_folder_unpacked(files, name, limit_bytes)
    return _load_with_datasets(str(path), None, name, sha256, limit, limit_bytes)


def _check_folder_unpacked(files: list[Path], name: str, limit_bytes: int) -> None:
    """Refuse a folder whose compressed files unpack past the limit, before datasets reads it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = 0
    for p in files:
        room = limit_bytes - total
        with p.open("rb") as handle:
            if handle.read(4) == b"PAR1":
                try:
                    metadata = pq.ParquetFile(p).metadata
                except (pa.ArrowException, OSError):
                    total += p.stat().st_size  # datasets will report the damage
                    continue
                size = sum(
                    metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
                )
            else:
                handle.seek(0)
                size = unpacked_size(handle, f"{name}/{p.name}", room)
        total += size
        if total > limit_bytes:
            raise size_error(total, limit_bytes, name, unpacked=True)


def _load_with_datasets(
    path: str, builder: str | None, name: str, sha256: str, limit: int | None, limit_bytes: int
) -> LoadedRecords:
    """Fallback: anything `datasets.load_dataset` reads locally (Arrow files, data folders)."""
    import datasets

    with tempfile.TemporaryDirectory(prefix="curation-hf-") as cache_dir:
        try:
            if builder is None:
                dataset = datasets.load_dataset(path, cache_dir=cache_dir, keep_in_memory=True)
            else:
                dataset = datasets.load_dataset(
                    builder, data_files=path, cache_dir=cache_dir, keep_in_memory=True
                )
        except Exception as exc:  # datasets raises many types; the user needs the message
            raise InputError(
                f"{name} cannot be read with datasets.load_dataset: {exc}. Supported formats: "
                f"{SUPPORTED}."
            ) from exc
        rows, columns, truncated = _dataset_rows(
            dataset, limit, limit_bytes, name, always_split=False
        )
    return LoadedRecords(
        rows, "hf-load", columns, sha256, name, truncated=truncated, tabular_values=True
    )


def _check_arrow_stream(data: bytes, name: str, limit_bytes: int) -> None:
    """Decode an Arrow IPC file batch by batch (they may be compressed); refuse past the limit."""
    import pyarrow as pa

    try:
        try:
            reader: Any = pa.ipc.open_stream(data)
            batches: Any = iter(reader)
        except pa.ArrowInvalid:
            file_reader = pa.ipc.open_file(data)
            batches = (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
        decoded = 0
        for batch in batches:
            decoded += _arrow_size(batch)
            if decoded > limit_bytes:
                raise size_error(decoded, limit_bytes, name, unpacked=True, stopped=True)
    except pa.ArrowException as exc:
        raise InputError(f"{name} cannot be read as an Arrow file: {exc}") from exc


def _read_with_datasets_bytes(data: bytes, reading: _Reading) -> LoadedRecords:
    _check_arrow_stream(data, reading.name, reading.limit_bytes)
    with tempfile.TemporaryDirectory(prefix="curation-arrow-") as tmp:
        target = Path(tmp) / "data.arrow"
        target.write_bytes(data)
        return _load_with_datasets(
            str(target), "arrow", reading.name, reading.sha256, reading.limit, reading.limit_bytes
        )
