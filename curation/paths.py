"""Safe file and folder names derived from user data (project names, presets, dataset names).

Every name the app builds from such data goes through `safe_file_stem`, so no name can climb
out of its folder, nest folders, hide itself or exceed what file systems accept.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
import unicodedata
from pathlib import Path

# Characters that separate paths or are refused by Windows file systems; replaced by "_".
_UNSAFE = frozenset('/\\<>:"|?*')
# Unicode categories that must not reach a file name: controls, format characters (zero-width
# and bidirectional overrides that disguise an extension), surrogates, line and paragraph
# separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r"\s+")
_HASH_CHARS = 8
MIN_BYTES = 16


def safe_file_stem(name: object, *, max_bytes: int = 100, fallback: str = "export") -> str:
    """A file or folder name made from `name` that is safe on every common file system.

    The result has no path separators, no ``..``, no leading or trailing dots, spaces or underscores, no leading ``-``, no
    control, format or Windows-reserved characters, is not a Windows device name, and is at
    most `max_bytes` bytes of UTF-8. The same input always gives the same result; a name that
    had to be shortened ends with ``-`` and 8 hex characters of its SHA-256, so long names
    that share a beginning stay apart. Different names can still map to the same stem
    (``a/b`` and ``a_b``), so callers that need uniqueness use a folder of their own.

    Parameters
    ----------
    name:
        Any value; it is converted with ``str``.
    max_bytes:
        Upper bound on the UTF-8 length of the result (at least 16).
    fallback:
        Used when nothing usable is left (``""``, ``".."``, ``"///"``); it is made safe too.

    Returns
    -------
    str
        A non-empty name with no directory part.

    Examples
    --------
    >>> safe_file_stem("../../../tmp/x")
    'tmp_x'
    >>> safe_file_stem("CON")
    '_CON'
    """
    if max_bytes < MIN_BYTES:
        raise ValueError(f"max_bytes={max_bytes} is too small; use at least {MIN_BYTES}")
    text = unicodedata.normalize("NFC", str(name))
    cleaned = "".join(
        " "
        if ch.isspace()
        else "_"
        if ch in _UNSAFE or unicodedata.category(ch) in _UNSAFE_CATEGORIES
        else ch
        for ch in text
    )
    # Path components made only of dots ("..", ".") carry no name: drop them, keep the rest.
    stem = "_".join(part for part in cleaned.split("_") if part.strip(" ."))
    stem = _DOTS.sub(".", stem)
    stem = _SPACES.sub(" ", stem)
    # a leading "-" would read as an option to command-line tools
    stem = stem.lstrip(" ._-").rstrip(" ._")
    if not stem:
        return safe_file_stem(fallback, max_bytes=max_bytes, fallback="") if fallback else "export"
    if stem.split(".")[0].strip().upper() in _RESERVED:
        stem = "_" + stem
    if len(stem.encode("utf-8")) > max_bytes:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
        room = max_bytes - _HASH_CHARS - 1
        cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" ._-")
        stem = f"{cut}-{digest}"
    return stem


def export_stem(project: str, preset: str) -> str:
    """The folder and zip name of a download-only export: ``<project>-<preset>``, made safe."""
    return safe_file_stem(f"{project}-{preset}", fallback=f"export-{preset}")


def discard_stale_folders(root: Path, max_age_seconds: float) -> None:
    """Delete the folders directly under `root` not changed for `max_age_seconds` (the job
    folders of uploads and exports left behind); files and unreadable entries are left alone."""
    if not root.is_dir():
        return
    cutoff = time.time() - max_age_seconds
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
