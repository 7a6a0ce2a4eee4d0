"""Limits of one import: the file's size (unpacked, as it is read) and each record's size and depth.

Each limit names its setting in the message that enforces it, so a user knows what to change.
"""

from __future__ import annotations

import os

from curation.errors import InputError

MAX_ENV = "CURATION_MAX_IMPORT_MB"
DEFAULT_MAX_MB = 200.0
RECORD_ENV = "CURATION_MAX_RECORD_MB"
DEFAULT_RECORD_MB = 32.0
RECORDS_ENV = "CURATION_MAX_IMPORT_RECORDS"
DEFAULT_MAX_RECORDS = 1_000_000

# Nesting deeper than this is refused per record. Real records nest a dozen levels (tool schemas).
# The tightest reader on the way is pickle in Streamlit's st.cache_data, which fails past about 485
# levels (it recurses about twice per level under Python's 1,000-frame limit); 400 keeps a margin
# for the import result around the record. orjson reads 1,024 levels; the store writes deeper
# values than orjson's 254 with the standard library.
MAX_DEPTH = 400
# The store keeps example ids in a String(200) column (PostgreSQL enforces it, SQLite does not).
MAX_ID_CHARS = 200
# The store keeps an example's source (its file name) in a String(500) column.
MAX_SOURCE_CHARS = 500


def _megabytes(env: str, default: float) -> int:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return int(default * 1024 * 1024)
    try:
        megabytes = float(raw)
    except ValueError:
        raise InputError(f"{env}={raw!r} is not a number of megabytes (e.g. 500).") from None
    if not megabytes > 0:
        raise InputError(f"{env}={raw!r} must be a positive number of megabytes (e.g. 500).")
    return int(megabytes * 1024 * 1024)


def max_import_bytes(max_bytes: int | None = None) -> int:
    """The file size limit: ``max_bytes`` if given, else ``$CURATION_MAX_IMPORT_MB`` (200 MB).

    The limit applies to what is parsed: a compressed file's unpacked content counts, and
    reading stops as soon as it is passed.
    """
    if max_bytes is not None:
        return max_bytes
    return _megabytes(MAX_ENV, DEFAULT_MAX_MB)


def max_record_bytes() -> int:
    """The size limit of one record: ``$CURATION_MAX_RECORD_MB`` (32 MB).

    No training example comes near it (a million tokens is about 4 MB of text); a record over it
    would be slow to store and too large to show in the browser, so it is skipped with a reason.
    """
    return _megabytes(RECORD_ENV, DEFAULT_RECORD_MB)


def max_import_records() -> int:
    """How many records one import reads: ``$CURATION_MAX_IMPORT_RECORDS`` (1,000,000).

    Memory grows with the number of records (about 1 KB each, more for long ones), so a file
    of millions of tiny lines, small in bytes, would otherwise exhaust it.
    """
    raw = os.environ.get(RECORDS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_RECORDS
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"{RECORDS_ENV}={raw!r} must be a whole number of records (e.g. 2000000).")
    return int(raw)


def records_error(count: int, limit: int, what: str, unit: str = "records") -> InputError:
    """The error for ``what`` holding ``count`` records (or lines), over ``limit``."""
    return InputError(
        f"{what} holds {count:,} {unit}, more than the {limit:,} records one import reads. "
        f"Split the file, or raise the limit with the environment variable {RECORDS_ENV} "
        f"(e.g. {RECORDS_ENV}={max(count, limit * 2)})."
    )


def human_size(size: int) -> str:
    """``size`` bytes as text for messages, e.g. ``"1.5 MB (1,572,864 bytes)"``."""
    for unit, scale in (("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


def size_error(
    size: int, limit: int, what: str, *, unpacked: bool = False, stopped: bool = False
) -> InputError:
    """The error for ``what`` being over ``limit``.

    Parameters
    ----------
    size, limit:
        The size found and the limit, in bytes.
    what:
        The file's name (or a part of it).
    unpacked:
        ``size`` is of the content unpacked or decoded, not of the file as it is on disk.
    stopped:
        Reading stopped at ``size``: the whole size is not known.
    """
    verb = "unpacks to" if unpacked else "is"
    if stopped:
        amount = f"{verb} more than the import limit of {human_size(limit)} (reading stopped there)"
    else:
        amount = f"{verb} {human_size(size)}, over the import limit of {human_size(limit)}"
    # Past the limit of a stream the whole size is unknown: suggest twice the limit.
    suggestion = max(1, int((2 * limit if stopped else size) / 1024 / 1024) + 1)
    return InputError(
        f"{what} {amount}. Raise the limit with the environment variable {MAX_ENV} "
        f"(e.g. {MAX_ENV}={suggestion}), or pass max_bytes=, or split the file."
    )


def check_size(size: int, limit: int, what: str, *, unpacked: bool = False) -> None:
    """Raise `InputError` when ``size`` is over ``limit``; ``what`` names the file."""
    if size > limit:
        raise size_error(size, limit, what, unpacked=unpacked)
