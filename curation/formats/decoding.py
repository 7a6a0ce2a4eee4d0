"""Bytes to text: compression (capped as it is read), binary files, byte-order marks, encodings.

A UTF-8 file with a few undecodable lines keeps every other line exact and names the bad ones.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from curation.errors import InputError
from curation.formats.limits import size_error
from curation.formats.results import import_warning
from curation.issues import Issue

SUPPORTED = (
    "JSONL, JSON (array of records), CSV, TSV, Parquet, Arrow, a Hugging Face dataset folder "
    "(save_to_disk) or a folder of data files, each optionally gzip, bzip2 or xz compressed"
)
_CHUNK = 1 << 20

# Compressions unpacked before parsing, by their magic bytes.
_COMPRESSIONS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"\x1f\x8b"), "gzip"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz"),
)
# Well-known binary formats, named in the message so the user knows what they picked.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "a program (ELF)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (save it as CSV)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (unpack it first)"),
    (b"Rar!\x1a\x07", "a RAR archive (unpack it first)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed (unpack it, or compress it with gzip)"),
    (b"\x93NUMPY", "a NumPy array file"),
)
# Whitespace and the control characters plain text uses: tab, LF, VT, FF, CR, backspace, escape.
_TEXT_CONTROLS = frozenset({8, 9, 10, 11, 12, 13, 27})
_CONTROL_BYTES = bytes(b for b in range(32) if b not in _TEXT_CONTROLS)
# Characters surrogateescape makes of undecodable bytes (0x80-0xff -> U+DC80-U+DCFF).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
_SAMPLE = 65536


@dataclass
class DecodedText:
    """Text decoded from a file's bytes.

    Attributes
    ----------
    text:
        The text, BOM removed. In a file that is UTF-8 but for some lines, the bytes that do not
        decode are kept as U+DC80-U+DCFF (Python's ``surrogateescape``), on the lines listed in
        ``bad_lines``.
    warning:
        Set when the file was not plain UTF-8 (a fallback encoding, or bad lines).
    bad_lines:
        1-based line number -> what is wrong with that line's bytes.
    """

    text: str
    warning: Issue | None = None
    bad_lines: dict[int, str] = field(default_factory=dict)


def compression(head: bytes) -> str | None:
    """``"gzip"``, ``"bzip2"`` or ``"xz"`` when content starting with ``head`` is compressed."""
    return next((kind for magic, kind in _COMPRESSIONS if magic.match(head)), None)


def _open_unpacked(kind: str, stream: IO[bytes]) -> gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(stream, mode="rb")
    return lzma.LZMAFile(stream, mode="rb")


def _unpacked_chunks(kind: str, stream: IO[bytes], name: str, limit_bytes: int) -> Iterator[bytes]:
    """The unpacked content in chunks of at most 1 MB; refused once past ``limit_bytes``."""
    total = 0
    try:
        with _open_unpacked(kind, stream) as opened:
            # Never ask for more than one byte past the limit: memory stays bounded by it.
            while chunk := opened.read(min(_CHUNK, limit_bytes + 1 - total)):
                total += len(chunk)
                if total > limit_bytes:
                    raise size_error(total, limit_bytes, name, unpacked=True, stopped=True)
                yield chunk
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise InputError(
            f"{name} looks {kind}-compressed but cannot be unpacked ({exc}); it may be truncated "
            "or damaged."
        ) from exc


def unpack(data: bytes, name: str, limit_bytes: int) -> bytes:
    """``data`` uncompressed when it is gzip, bzip2 or xz, else ``data`` itself.

    The unpacked stream is read in 1 MB chunks and refused as soon as it passes ``limit_bytes``,
    so a small file that unpacks to gigabytes costs at most the limit in memory.

    Raises
    ------
    InputError
        The content is damaged, or unpacks to more than ``limit_bytes``.
    """
    kind = compression(data[:16])
    if kind is None:
        return data
    out = bytearray()
    for chunk in _unpacked_chunks(kind, io.BytesIO(data), name, limit_bytes):
        out += chunk
    return bytes(out)


def unpacked_size(stream: IO[bytes], name: str, limit_bytes: int) -> int:
    """The size ``stream`` unpacks to, read in chunks and discarded; refused past ``limit_bytes``.

    Parameters
    ----------
    stream:
        An open binary file at its start; when its content is not compressed, its size.
    name, limit_bytes:
        The file's name for messages, and the limit.
    """
    head = stream.read(16)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):  # datasets reads the files inside a zip, too
        return _zip_unpacked_size(stream, name, limit_bytes)
    kind = compression(head)
    if kind is None:
        return stream.seek(0, io.SEEK_END)
    return sum(len(chunk) for chunk in _unpacked_chunks(kind, stream, name, limit_bytes))


def _zip_unpacked_size(stream: IO[bytes], name: str, limit_bytes: int) -> int:
    """The size of every member of a zip archive, read (the sizes its headers state may lie)."""
    total = 0
    try:
        with zipfile.ZipFile(stream) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > limit_bytes:
                            raise size_error(total, limit_bytes, name, unpacked=True, stopped=True)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError, RuntimeError) as exc:
        raise InputError(
            f"{name} looks like a zip archive but cannot be unpacked ({exc})."
        ) from exc
    return total


def binary_kind(data: bytes) -> str | None:
    """What binary file ``data`` is (e.g. ``"a PNG image"``, ``""`` if unknown), None for text.

    Known formats are named by their magic bytes. Otherwise a file is binary when over 5 % of
    its first 64 KB are control bytes (not tab, newline, form feed, escape...) and they are
    spread over most of its lines: one line with a stray NUL leaves a text file text (that line
    is then reported on its own), while compressed or random data is control bytes throughout.
    """
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    sample = data[:_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls <= max(1, len(sample) // 20):
        return None
    lines = sample.split(b"\n")
    with_controls = sum(
        1 for line in lines if len(line.translate(None, _CONTROL_BYTES)) < len(line)
    )
    return "" if with_controls * 2 > len(lines) else None


def binary_error(name: str, kind: str | None = None) -> InputError:
    """The error for a file that is not text data; ``kind`` names what it is when known."""
    what = f"a binary file ({kind})" if kind else "a binary file"
    return InputError(f"{name} looks like {what}, not text data. Supported formats: {SUPPORTED}.")


def decode_text(data: bytes, name: str) -> DecodedText:
    """Decode a file's bytes: BOMs first (UTF-8/16/32), then UTF-8, then cp1252 / latin-1.

    A file with valid non-ASCII UTF-8 is never decoded as cp1252: its undecodable lines are
    listed in ``bad_lines`` (for the reader to report and skip) and the others stay exact. Only a
    file with no valid non-ASCII UTF-8 at all is read as cp1252 (or latin-1), with a warning.

    Raises
    ------
    InputError
        The file is binary, or has a UTF-16/32 byte-order mark but does not decode as such.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            if encoding == "utf-8":
                data = data[len(bom) :]
                break
            try:
                return DecodedText(data[len(bom) :].decode(encoding))
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{name} starts with a {encoding} byte-order mark but is not valid "
                    f"{encoding} (byte offset {exc.start}). Re-save it as UTF-8."
                ) from exc
    wide = _utf16_without_bom(data, name)
    if wide is not None:
        return wide
    kind = binary_kind(data)
    if kind is not None:
        raise binary_error(name, kind)
    try:
        return DecodedText(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    if _VALID_NON_ASCII.search(text) is None:
        return _single_byte(data, name)
    bad_lines = _undecodable_lines(text)
    numbers = sorted(bad_lines)
    listed = ", ".join(str(n) for n in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
    return DecodedText(
        text,
        import_warning(
            f"{name} is UTF-8 except {len(numbers)} line(s) ({listed}) with bytes that are not; "
            "those lines are left out and every other line is read exactly. Re-save the file "
            "as UTF-8 to import them.",
            reason="encoding",
        ),
        bad_lines,
    )


def _utf16_without_bom(data: bytes, name: str) -> DecodedText | None:
    sample = data[:8192]
    if b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2 or 1
    # UTF-16 text without a BOM: every ASCII character has a zero high byte.
    if not (max(even, odd) > 0.4 * half and min(even, odd) < 0.05 * half):
        return None
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} looks like {encoding} text without a byte-order mark but does not decode "
            f"as {encoding} (byte offset {exc.start}). Re-save it as UTF-8."
        ) from exc
    return DecodedText(
        text,
        import_warning(f"{name} has no byte-order mark; decoded as {encoding}.", reason="encoding"),
    )


def _single_byte(data: bytes, name: str) -> DecodedText:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start]
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return DecodedText(
            text,
            import_warning(
                f"{name} is not valid UTF-8 (byte 0x{bad:02x} on line {line}) and holds no "
                f"UTF-8 text; decoded as {encoding}. Check accented characters, or re-save "
                "the file as UTF-8.",
                reason="encoding",
            ),
        )
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _undecodable_lines(text: str) -> dict[int, str]:
    """Line number -> the first undecodable byte on it and its column."""
    bad: dict[int, str] = {}
    line, line_start, scanned = 1, 0, 0
    for match in _ESCAPED_BYTE.finditer(text):
        pos = match.start()
        newlines = text.count("\n", scanned, pos)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", scanned, pos) + 1
        scanned = pos
        if line not in bad:
            byte = ord(match.group()) - 0xDC00
            bad[line] = (
                f"not valid UTF-8 (byte 0x{byte:02x} at column {pos - line_start + 1}) though the "
                "rest of the file is; re-save the file as UTF-8"
            )
    return bad
