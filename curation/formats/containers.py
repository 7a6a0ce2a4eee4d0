"""Containers: bytes, files and folders in, a list of raw records out.

Handles size limits, compression, encodings (BOMs, UTF-16, cp1252 fallback) and sniffing.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from curation.errors import InputError
from curation.formats.results import ImportIssue

CONTAINERS: tuple[str, ...] = ("jsonl", "json", "csv", "tsv", "parquet", "hf-disk", "hf-load")
SUPPORTED = (
    "JSONL, JSON (array of records), CSV, TSV, Parquet, Arrow, a Hugging Face dataset folder "
    "(save_to_disk) or a folder of data files"
)
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
WRAPPER_KEYS = ("data", "examples", "train", "records", "rows", "items", "instances", "dataset")
DEFAULT_MAX_MB = 200.0
MAX_ENV = "CURATION_MAX_IMPORT_MB"
PathOrBuffer = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

# Long answers exceed csv's default 128 KiB field limit; only ever raise it.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

# A TSV field that opens with a quote but has a lone quote before its end is plain text
# (e.g. MRPC's `"He said," she said`), so quoting must be off for that file.
_BARE_QUOTE = re.compile(r'(?:^|\t)"(?:[^"\t\n]|"")*"(?=[^"\t\r\n])', re.MULTILINE)


@dataclass(slots=True)
class Unreadable:
    """A record that could not be parsed (bad JSON line, wrong field count...)."""

    reason: str
    message: str


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
    warnings: list[ImportIssue] = field(default_factory=list)
    text_table: bool = False
    truncated: bool = False
    tabular_values: bool = False


def max_import_bytes(max_bytes: int | None = None) -> int:
    """The size limit: ``max_bytes`` if given, else ``$CURATION_MAX_IMPORT_MB`` (200 MB)."""
    if max_bytes is not None:
        return max_bytes
    raw = os.environ.get(MAX_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MAX_MB * 1024 * 1024)
    try:
        megabytes = float(raw)
    except ValueError:
        raise InputError(f"{MAX_ENV}={raw!r} is not a number of megabytes (e.g. 500).") from None
    return int(megabytes * 1024 * 1024)


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


def _check_size(size: int, limit: int, name: str) -> None:
    if size > limit:
        raise InputError(
            f"{name} is {_human_size(size)}, over the import limit of "
            f"{_human_size(limit)}. Raise the limit with the environment variable "
            f"{MAX_ENV} (e.g. {MAX_ENV}={max(1, int(size / 1024 / 1024) + 1)}), or pass "
            "max_bytes=, or split the file."
        )


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
        Size limit; default from ``$CURATION_MAX_IMPORT_MB`` (200 MB).
    limit:
        Stop after this many records (for previews).
    """
    limit_bytes = max_import_bytes(max_bytes)
    if isinstance(path_or_buffer, str | os.PathLike):
        path = Path(path_or_buffer)
        name = source or path.name
        if path.is_dir():
            return _load_directory(path, name, limit_bytes, limit)
        if not path.exists():
            raise InputError(f"File not found: {path}. Check the path and try again.")
        _check_size(path.stat().st_size, limit_bytes, name)
        return load_bytes(path.read_bytes(), name=name, limit_bytes=limit_bytes, limit=limit)
    if isinstance(path_or_buffer, bytes | bytearray | memoryview):
        data = bytes(path_or_buffer)
        name = source or "upload"
    elif hasattr(path_or_buffer, "read"):
        buffer = path_or_buffer
        if hasattr(buffer, "seek"):
            with contextlib.suppress(OSError, ValueError):  # not seekable: read what is left
                buffer.seek(0)
        content: Any = buffer.read()
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        name = source or Path(str(getattr(buffer, "name", "") or "upload")).name
    else:
        raise InputError(
            f"Cannot read a {type(path_or_buffer).__name__}: pass a file path, bytes or a "
            "binary file object."
        )
    _check_size(len(data), limit_bytes, name)
    return load_bytes(data, name=name, limit_bytes=limit_bytes, limit=limit)


def load_bytes(
    data: bytes, *, name: str, limit_bytes: int, limit: int | None = None
) -> LoadedRecords:
    """Parse bytes whose container is guessed from ``name``'s extension, else from content."""
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(f"{name} is empty: there are no records to import.")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{name} looks gzip-compressed but cannot be unpacked: {exc}") from exc
        _check_size(len(data), limit_bytes, f"{name} (unpacked)")
        if not data.strip():
            raise InputError(f"{name} is empty: there are no records to import.")
    stem = name[:-3] if name.lower().endswith(".gz") else name
    container = EXTENSIONS.get(Path(stem).suffix.lower())
    magic = _binary_container(data)
    if magic is not None:
        container = magic
    if container == "parquet":
        return _read_parquet(data, name, sha256, limit)
    if container == "hf-load":
        return _read_with_datasets_bytes(data, name, sha256, limit)
    if data[:2] == b"PK":
        raise InputError(
            f"{name} is a zip archive (or an Excel workbook). Unzip it, or save the sheet as "
            f"CSV. Supported formats: {SUPPORTED}."
        )
    text, warning = decode_text(data, name)
    if not text.strip():
        raise InputError(f"{name} is empty: there are no records to import.")
    warnings = [warning] if warning else []
    if container is None:
        container = sniff_text(text)
    if container in ("json", "jsonl"):
        loaded = _read_json_text(text, container, name, sha256, limit, warnings)
    else:
        loaded = _read_delimited(text, container, name, sha256, limit)
    loaded.warnings[:0] = warnings
    return loaded


def _binary_container(data: bytes) -> str | None:
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:6] == b"ARROW1" or data[:4] == b"\xff\xff\xff\xff":
        return "hf-load"
    return None


def _binary_error(name: str) -> InputError:
    return InputError(
        f"{name} looks like a binary file, not text data. Supported formats: {SUPPORTED}."
    )


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 8, 27))
    return controls > max(1, len(sample) // 20)


def decode_text(data: bytes, name: str) -> tuple[str, ImportIssue | None]:
    """Decode bytes as text: BOMs first (UTF-8/16/32), then UTF-8, then cp1252 / latin-1.

    Returns
    -------
    (text, warning):
        The text (BOM removed) and a warning when a fallback encoding was used.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), None
            except UnicodeDecodeError as exc:
                if encoding != "utf-8":
                    raise InputError(
                        f"{name} starts with a {encoding} byte-order mark but is not valid "
                        f"{encoding} (byte offset {exc.start}). Re-save it as UTF-8."
                    ) from exc
                data = data[len(bom) :]
                break
    sample = data[:8192]
    if b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2 or 1
        # UTF-16 text without a BOM: every ASCII character has a zero high byte.
        if max(even, odd) > 0.4 * half and min(even, odd) < 0.05 * half:
            encoding = "utf-16-le" if odd > even else "utf-16-be"
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise _binary_error(name) from None
            return text, ImportIssue(
                None, f"{name} has no byte-order mark; decoded as {encoding}.", reason="encoding"
            )
        raise _binary_error(name)
    if _looks_binary(sample):
        raise _binary_error(name)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start]
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, ImportIssue(
            None,
            f"{name} is not valid UTF-8 (byte 0x{bad:02x} on line {line}); decoded as "
            f"{encoding}. Check accented characters, or re-save the file as UTF-8.",
            reason="encoding",
        )
    raise _binary_error(name)  # unreachable: latin-1 decodes any bytes


def sniff_text(text: str) -> str:
    """Guess the container of decoded text: JSON array/object, JSONL, TSV or CSV."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first, _, rest = stripped.partition("\n")
        try:
            json.loads(first)
        except json.JSONDecodeError:
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


def _read_json_text(
    text: str,
    container: str,
    name: str,
    sha256: str,
    limit: int | None,
    warnings: list[ImportIssue],
) -> LoadedRecords:
    if container == "jsonl":
        stripped = text.lstrip()
        if stripped.startswith("[") and sniff_text(text) == "json":
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, list):
                warnings.append(
                    ImportIssue(None, f"{name} holds one JSON array, not JSON lines; read as JSON.")
                )
                return _json_value_records(value, name, sha256, limit)
        return _read_jsonl(text, name, sha256, limit)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if sniff_text(text) == "jsonl":
            warnings.append(
                ImportIssue(None, f"{name} holds one JSON object per line; read as JSONL.")
            )
            return _read_jsonl(text, name, sha256, limit)
        raise InputError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Fix the file, or save it with one record per line as .jsonl so the other records "
            "can still be imported."
        ) from exc
    return _json_value_records(value, name, sha256, limit)


def _json_value_records(value: Any, name: str, sha256: str, limit: int | None) -> LoadedRecords:
    if isinstance(value, dict):
        value = _unwrap(value, name)
    if not isinstance(value, list):
        raise InputError(
            f"{name} holds {_json_type(value)} at the top level; expected a list of records "
            "(or an object with the list under a key such as 'data')."
        )
    truncated = limit is not None and len(value) > limit
    if truncated:
        value = value[:limit]
    rows: list[tuple[int, Any, str | None]] = []
    for number, record in enumerate(value, 1):
        if not isinstance(record, dict):
            record = Unreadable(
                "not an object", f"expected a JSON object, got {_json_type(record)}"
            )
        rows.append((number, record, None))
    return LoadedRecords(rows, "json", _ordered_columns(rows), sha256, name, truncated=truncated)


def _unwrap(obj: dict[str, Any], name: str) -> Any:
    """The record list inside a top-level object, or ``[obj]`` when it is one record."""

    def is_records(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(r, dict) for r in v[:50])

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
            f"{name} is an object with several record lists ({', '.join(lists)}); expected one "
            f"list, under a key such as {', '.join(WRAPPER_KEYS[:3])}."
        )
    return [obj]


def _read_jsonl(text: str, name: str, sha256: str, limit: int | None) -> LoadedRecords:
    rows: list[tuple[int, Any, str | None]] = []
    truncated = False
    loads = json.loads
    # split("\n"), not splitlines(): JSON strings may hold raw U+2028 and other separators.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if limit is not None and len(rows) >= limit:
            truncated = True
            break
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            record = Unreadable("invalid json", f"invalid JSON: {exc.msg} (column {exc.colno})")
        else:
            if not isinstance(record, dict):
                record = Unreadable(
                    "not an object", f"expected a JSON object, got {_json_type(record)}"
                )
        rows.append((number, record, None))
    return LoadedRecords(
        rows, "jsonl", _ordered_columns(rows), sha256, name, location="line", truncated=truncated
    )


def _read_delimited(
    text: str, container: str, name: str, sha256: str, limit: int | None
) -> LoadedRecords:
    delimiter = "\t" if container == "tsv" else ","
    plain = delimiter == "\t" and _BARE_QUOTE.search(text) is not None
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_NONE if plain else csv.QUOTE_MINIMAL,
    )
    rows: list[tuple[int, Any, str | None]] = []
    truncated = False
    try:
        header = next((fields for fields in reader if fields), None)
        if header is None:
            raise InputError(f"{name} is empty: there are no records to import.")
        columns = _unique_names(header)
        width = len(columns)
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip() and width > 1):
                continue
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            number = len(rows) + 1
            if len(fields) != width:
                record: Any = Unreadable(
                    "wrong field count",
                    f"has {len(fields)} fields but the header has {width} (file line "
                    f"{reader.line_num}); a line break may be missing or a field may hold an "
                    "unquoted delimiter",
                )
            else:
                record = dict(zip(columns, fields, strict=True))
            rows.append((number, record, None))
    except csv.Error as exc:
        raise InputError(
            f"{name} cannot be read as {container.upper()} near line {reader.line_num}: {exc}."
        ) from exc
    return LoadedRecords(
        rows,
        container,
        columns,
        sha256,
        name,
        location="row",
        text_table=True,
        truncated=truncated,
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


def _read_parquet(data: bytes, name: str, sha256: str, limit: int | None) -> LoadedRecords:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        if limit is None:
            table = parquet.read()
            truncated = False
        else:
            batches = []
            count = 0
            for batch in parquet.iter_batches(batch_size=max(1, limit)):
                batches.append(batch)
                count += batch.num_rows
                if count >= limit:
                    break
            table = pa.Table.from_batches(batches, schema=parquet.schema_arrow).slice(0, limit)
            truncated = parquet.metadata.num_rows > table.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name} cannot be read as Parquet: {exc}") from exc
    rows = _table_rows(table.to_pylist(), None)
    return LoadedRecords(
        rows,
        "parquet",
        list(table.column_names),
        sha256,
        name,
        truncated=truncated,
        tabular_values=True,
    )


def _table_rows(
    records: list[dict[str, Any]], split: str | None, start: int = 0
) -> list[tuple[int, Any, str | None]]:
    return [(start + i + 1, record, split) for i, record in enumerate(records)]


def _dataset_rows(
    dataset: Any, limit: int | None, *, always_split: bool
) -> tuple[list[tuple[int, Any, str | None]], list[str], bool]:
    """Rows of a datasets Dataset or DatasetDict (splits concatenated, split name kept)."""
    import datasets

    if isinstance(dataset, datasets.DatasetDict):
        parts = [(str(split), dataset[split]) for split in dataset]
        keep_split = always_split or len(parts) > 1
    else:
        parts = [("", dataset)]
        keep_split = False
    rows: list[tuple[int, Any, str | None]] = []
    columns: dict[str, None] = {}
    truncated = False
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
        rows += _table_rows(part.to_list(), split if keep_split else None, start=len(rows))
    return rows, list(columns), truncated


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def _load_directory(path: Path, name: str, limit_bytes: int, limit: int | None) -> LoadedRecords:
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if not files:
        raise InputError(f"{name} is an empty folder: there are no records to import.")
    _check_size(sum(p.stat().st_size for p in files), limit_bytes, name)
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(path).as_posix().encode("utf-8") + b"\0")
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
        rows, columns, truncated = _dataset_rows(dataset, limit, always_split=True)
        return LoadedRecords(
            rows, "hf-disk", columns, sha256, name, truncated=truncated, tabular_values=True
        )
    return _load_with_datasets(str(path), None, name, sha256, limit)


def _load_with_datasets(
    path: str, builder: str | None, name: str, sha256: str, limit: int | None
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
        rows, columns, truncated = _dataset_rows(dataset, limit, always_split=False)
    return LoadedRecords(
        rows, "hf-load", columns, sha256, name, truncated=truncated, tabular_values=True
    )


def _read_with_datasets_bytes(
    data: bytes, name: str, sha256: str, limit: int | None
) -> LoadedRecords:
    with tempfile.TemporaryDirectory(prefix="curation-arrow-") as tmp:
        target = Path(tmp) / "data.arrow"
        target.write_bytes(data)
        return _load_with_datasets(str(target), "arrow", name, sha256, limit)
