"""Exact duplicates: equal normalised text (NFKC, case, punctuation, whitespace ignored).

One blake2b digest per text, grouped in a dict; 100,000 short texts take well under a second.
"""

from __future__ import annotations

import hashlib

from curation.dedup.normalise import normalise_all
from curation.dedup.results import StageRecorder

__all__ = ["BACKEND", "exact_duplicate_groups", "text_digests"]

BACKEND = "normalised-blake2b"


def text_digests(normalised: list[str]) -> list[bytes]:
    """16-byte blake2b digest of each normalised text (stable across runs and machines)."""
    blake = hashlib.blake2b
    return [blake(t.encode("utf-8"), digest_size=16).digest() for t in normalised]


def exact_duplicate_groups(
    texts: list[str], recorder: StageRecorder, *, normalised: bool = False
) -> list[list[int]]:
    """Indices of texts whose normalised forms are equal, as groups of size >= 2.

    Texts that normalise to the empty string (empty, whitespace or punctuation only) form a
    group too: they are identical once normalised. With `normalised`, `texts` already are
    (e.g. several normalised parts joined by a separator normalisation never leaves).
    """
    n = len(texts)
    recorder.counts["texts"] = n
    recorder.start("normalise", n)
    normalised_texts = texts if normalised else normalise_all(texts)
    recorder.finish(n)
    recorder.start("hash", n)
    groups: dict[bytes, list[int]] = {}
    for index, digest in enumerate(text_digests(normalised_texts)):
        groups.setdefault(digest, []).append(index)
    recorder.finish(n)
    found = [g for g in groups.values() if len(g) >= 2]
    recorder.counts["distinct_texts"] = len(groups)
    return found
