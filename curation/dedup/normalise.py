"""Stage 1 of every dedup method: the normalised form texts are compared in.

NFKC, case-folded, punctuation stripped (except inside numbers such as 3.14), whitespace collapsed.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

import numpy as np

__all__ = ["normalise_for_dedup", "normalise_all"]

# A punctuation run between two digits carries meaning (3.14, 1,000, 2/3, 2*2), so it stays.
_BETWEEN_DIGITS = re.compile(r"((?<=\d)[^\w\s]+(?=\d))")
_HAS_DIGIT_PUNCT_DIGIT = re.compile(r"\d[^\w\s]+\d")

_BATCH_CHARS = 1 << 22


@lru_cache(maxsize=2)
def _char_classes(limit: int) -> np.ndarray:
    """Class bits of code points below `limit` (0 separates texts in a batch, so it has none).

    1 punctuation (Unicode P*), 2 whitespace as str.split sees it, 4 decimal digit (regex \\d),
    8 neither word character nor whitespace (regex [^\\w\\s]: may sit between protected digits).
    """
    classes = np.zeros(limit, dtype=np.uint8)
    for code in range(1, limit):
        ch = chr(code)
        cat = unicodedata.category(ch)
        bits = 1 if cat.startswith("P") else 0
        if ch.isspace():
            bits |= 2
        if cat == "Nd":
            bits |= 4
        if not ch.isspace() and not ch.isalnum() and ch != "_":
            bits |= 8
        classes[code] = bits
    return classes


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, str]:
    """A `str.translate` table sending every Unicode punctuation character (P*) to a space."""
    return {
        code: " "
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)).startswith("P")
    }


def normalise_for_dedup(text: str) -> str:
    """Return the form two texts must share to count as exact duplicates.

    Parameters
    ----------
    text:
        Any text.

    Returns
    -------
    str
        Unicode NFKC, case-folded, punctuation (Unicode categories P*) replaced by spaces
        except between two digits (so ``3.14`` and ``2*2`` survive), whitespace runs collapsed
        to one space, stripped.
    """
    return normalise_all([text])[0]


def _normalise_one(text: str) -> str:
    """The reference implementation on str (any Unicode); `_normalise_ascii` must agree with it."""
    text = unicodedata.normalize("NFKC", text).casefold()
    table = _punctuation_table()
    if _HAS_DIGIT_PUNCT_DIGIT.search(text) is None:
        text = text.translate(table)
    else:
        # Odd pieces are the protected runs between digits; only the others lose punctuation.
        parts: list[str] = _BETWEEN_DIGITS.split(text)
        text = "".join(q if i % 2 else q.translate(table) for i, q in enumerate(parts))
    return " ".join(text.split())


def _normalise_batch(joined: str, ascii_only: bool) -> list[str]:
    """Normalise texts joined by NUL, already NFKC + case-folded, with numpy masks.

    Punctuation becomes space except in a maximal [^\\w\\s] run between two digits (what
    `_BETWEEN_DIGITS` protects); whitespace runs collapse to one space; texts are stripped.
    """
    if ascii_only:
        c: np.ndarray = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        classes = _char_classes(128)
    else:
        c = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        classes = _char_classes(sys.maxunicode + 1)
    bits = classes[c]
    space = (bits & 3) != 0
    digit = (bits & 4) != 0
    if digit.any():
        run = ((bits & 8) != 0).view(np.int8)
        edge = np.diff(run, prepend=np.int8(0), append=np.int8(0))
        starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
        kept = (starts > 0) & (ends < len(c))
        kept[kept] = digit[starts[kept] - 1] & digit[ends[kept]]
        if kept.any():
            lo, hi = starts[kept], ends[kept]
            within = np.arange(int((hi - lo).sum())) - np.repeat(
                np.cumsum(hi - lo) - (hi - lo), hi - lo
            )
            space[np.repeat(lo, hi - lo) + within] = False
    sep = c == 0
    word = ~(space | sep)
    # Keep the last space of each run when a word follows; then drop those that lead a text.
    keep = ~space
    keep[:-1] |= word[1:]
    out = np.where(space, c.dtype.type(32), c)[keep]
    leading = out == 32
    leading[1:] &= out[:-1] == 0
    out = out[~leading]
    text = out.tobytes().decode("ascii" if ascii_only else "utf-32-le")
    return text.split("\x00")


def normalise_all(texts: list[str]) -> list[str]:
    """`normalise_for_dedup` over a list of texts, in order.

    Texts go through `_normalise_batch` in batches of about 4 million characters, ASCII ones
    (most instruction data) apart from the rest; texts holding NUL through `_normalise_one`.
    """
    out: list[str] = [""] * len(texts)
    nul = [i for i, t in enumerate(texts) if "\x00" in t]
    for i in nul:
        out[i] = _normalise_one(texts[i])
    skip = set(nul)
    for ascii_only in (True, False):
        chosen = [i for i, t in enumerate(texts) if t.isascii() == ascii_only and i not in skip]
        ends = np.cumsum(np.fromiter((len(texts[i]) + 1 for i in chosen), np.int64, len(chosen)))
        start = 0
        while start < len(chosen):
            done = int(ends[start - 1]) if start else 0
            stop = max(int(np.searchsorted(ends, done + _BATCH_CHARS)), start + 1)
            batch = chosen[start:stop]
            if ascii_only:
                # NFKC is the identity on ASCII and casefold is lower there.
                joined = "\x00".join([texts[i] for i in batch]).lower()
            else:
                joined = "\x00".join(
                    [unicodedata.normalize("NFKC", texts[i]).casefold() for i in batch]
                )
            for i, norm in zip(batch, _normalise_batch(joined, ascii_only), strict=True):
                out[i] = norm
            start = stop
    return out
