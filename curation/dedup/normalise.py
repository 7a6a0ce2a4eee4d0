"""Stage 1 of every dedup method: the normalised form texts are compared in.

NFKC, case-folded, punctuation stripped (except inside numbers such as 3.14), whitespace collapsed.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

__all__ = ["normalise_for_dedup", "normalise_all"]

# A punctuation run between two digits carries meaning (3.14, 1,000, 2/3, 2*2), so it stays.
_BETWEEN_DIGITS = re.compile(r"((?<=\d)[^\w\s]+(?=\d))")
_HAS_DIGIT_PUNCT_DIGIT = re.compile(r"\d[^\w\s]+\d")
_BETWEEN_DIGITS_BYTES = re.compile(rb"((?<=\d)[^\w\s]+(?=\d))")
_HAS_DIGIT_PUNCT_DIGIT_BYTES = re.compile(rb"\d[^\w\s]+\d")
_ASCII_PUNCT = bytes(c for c in range(128) if unicodedata.category(chr(c)).startswith("P"))
# str.split() also splits on the ASCII separators 0x1c-0x1f; bytes.split() does not.
_BYTES_TABLE = bytes.maketrans(
    _ASCII_PUNCT + bytes(range(0x1C, 0x20)), b" " * (len(_ASCII_PUNCT) + 4)
)
_NOT_DIGITS = bytes(c for c in range(256) if not (48 <= c <= 57))


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


def _has_ascii_separators(text: str) -> bool:
    """str.split() and str regexes treat 0x1c-0x1f as whitespace; bytes ones do not."""
    return "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text


def normalise_all(texts: list[str]) -> list[str]:
    """`normalise_for_dedup` over a list of texts, in order."""
    table = _punctuation_table()
    nfkc = unicodedata.normalize
    out: list[str] = []
    for text in texts:
        if text.isascii() and not _has_ascii_separators(text):
            # ASCII fast path on bytes (NFKC is the identity and casefold is lower here).
            raw = text.encode("ascii").lower()
            if not raw.translate(None, _NOT_DIGITS) or not _HAS_DIGIT_PUNCT_DIGIT_BYTES.search(raw):
                raw = raw.translate(_BYTES_TABLE)
            else:
                pieces = _BETWEEN_DIGITS_BYTES.split(raw)
                raw = b"".join(
                    p if i % 2 else p.translate(_BYTES_TABLE) for i, p in enumerate(pieces)
                )
            out.append(b" ".join(raw.split()).decode("ascii"))
            continue
        text = nfkc("NFKC", text).casefold()
        if _HAS_DIGIT_PUNCT_DIGIT.search(text) is None:
            text = text.translate(table)
        else:
            # Odd pieces are the protected runs between digits; only the others lose punctuation.
            parts: list[str] = _BETWEEN_DIGITS.split(text)
            text = "".join(q if i % 2 else q.translate(table) for i, q in enumerate(parts))
        out.append(" ".join(text.split()))
    return out
