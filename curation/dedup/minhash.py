"""MinHash + LSH stages for near-duplicate search, each a pure numpy function.

shingle sets -> signatures -> band keys -> candidate pairs -> verified Jaccard; no per-doc loops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import csr_matrix

__all__ = [
    "SHINGLE_KINDS",
    "ShingleSets",
    "band_keys",
    "candidate_pairs",
    "estimated_jaccard",
    "hash_permutations",
    "identical_set_groups",
    "jaccard",
    "merge_part_sets",
    "optimal_bands_rows",
    "overlap",
    "shingle_counts",
    "shingle_sets",
    "signatures",
]

SHINGLE_KINDS: tuple[str, ...] = ("word", "char")
_EMPTY = np.iinfo(np.uint64).max
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)
_COMBINE = np.uint64(0x100000001B3)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values; sort + compare, much faster than np.unique on numpy 2.4 here."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic is intended)."""
    z = x + _C1
    z = (z ^ (z >> np.uint64(30))) * _C2
    z = (z ^ (z >> np.uint64(27))) * _C3
    return z ^ (z >> np.uint64(31))


@dataclass(slots=True)
class ShingleSets:
    """Each document's set of shingle hashes, as ragged sorted arrays.

    Attributes
    ----------
    indptr:
        int64 ``(n_docs + 1,)``: document ``d`` owns ``values[indptr[d]:indptr[d + 1]]``.
    values:
        uint64 shingle hashes, distinct and ascending within each document, stable across runs.
    """

    indptr: np.ndarray
    values: np.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.indptr) - 1

    @property
    def sizes(self) -> np.ndarray:
        """Number of distinct shingles per document (0 for empty texts)."""
        return np.diff(self.indptr)

    def subset(self, docs: np.ndarray) -> ShingleSets:
        """The sets of `docs` only, in that order."""
        docs = np.asarray(docs, dtype=np.int64)
        sizes = self.sizes[docs]
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        take = np.arange(int(indptr[-1]), dtype=np.int64) + np.repeat(
            self.indptr[docs] - indptr[:-1], sizes
        )
        return ShingleSets(indptr=indptr, values=self.values[take])

    def matrix(self) -> csr_matrix:
        """Binary ``(n_docs, n_distinct)`` CSR over the distinct shingles of these documents."""
        distinct = sorted_unique(self.values)
        columns = np.searchsorted(distinct, self.values)
        data = np.ones(len(self.values), dtype=np.int32)
        return csr_matrix((data, columns, self.indptr), shape=(self.n_docs, len(distinct)))


_POLY = np.uint64(0xA0761D6478BD642F)


def _code_points(normalised: list[str]) -> np.ndarray:
    """All texts joined by newlines (normalised texts hold none), as uint32 code points."""
    joined = "\n".join(normalised)
    if joined.isascii():
        return np.frombuffer(joined.encode("ascii"), dtype=np.uint8).astype(np.uint32)
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def _token_values(
    normalised: list[str], shingle: str, segment: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Stable uint64 values for every token (word or character), and tokens per document.

    Words are hashed without a per-word Python loop: a polynomial hash (mod 2**64, random odd
    base) of their code points, mixed with the word length. Equal words hash equal in every run
    and every corpus. Work goes in blocks of about 4 million characters to bound memory. With
    `segment`, runs of scripts written without spaces (Chinese, Japanese, Thai...) count as
    their character bigrams (`curation.text.script.segment_spaceless`), per text.
    """
    n_docs = len(normalised)
    if shingle == "word" and segment:
        from curation.text.script import segment_spaceless

        normalised = [t if t.isascii() else segment_spaceless(t) for t in normalised]
    if shingle == "char":
        codes = _code_points(normalised)
        lengths = np.fromiter(map(len, normalised), dtype=np.int64, count=n_docs)
        return _mix(codes[codes != 10].astype(np.uint64)), lengths
    values: list[np.ndarray] = []
    lengths_parts: list[np.ndarray] = []
    start, budget = 0, 1 << 22
    while start < n_docs:
        stop, size = start, 0
        while stop < n_docs and (size < budget or stop == start):
            size += len(normalised[stop]) + 1
            stop += 1
        words, lengths = _word_hashes(normalised[start:stop])
        values.append(words)
        lengths_parts.append(lengths)
        start = stop
    if not values:
        return np.empty(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(lengths_parts)


@lru_cache(maxsize=4)
def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**k`` and ``P**-k`` mod 2**64 for ``k < size`` (P is odd, so it has an inverse)."""
    powers = np.full(size, _POLY, dtype=np.uint64)
    inverses = np.full(size, pow(int(_POLY), -1, 1 << 64), dtype=np.uint64)
    powers[0] = inverses[0] = 1
    return np.cumprod(powers), np.cumprod(inverses)


def _word_hashes(normalised: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of one block of documents (see `_token_values`).

    A word at ``[s, e)`` hashes to ``sum(code[k] * P**(k - s))``, read off one prefix sum of
    ``code[k] * P**k`` and multiplied by ``P**-s``: a handful of passes, no per-word work.
    """
    codes = _code_points(normalised)
    n_docs = len(normalised)
    if len(codes) == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(n_docs, dtype=np.int64)
    newline = codes == 10
    sep = newline | (codes == 32)
    is_start = ~sep
    is_start[1:] &= sep[:-1]
    starts = np.flatnonzero(is_start)
    is_end = ~sep
    is_end[:-1] &= sep[1:]
    ends = np.flatnonzero(is_end) + 1
    powers, inverses = _power_tables(1 << len(codes).bit_length())
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes * powers[: len(codes)], out=prefix[1:])
    words = (prefix[ends] - prefix[starts]) * inverses[starts]
    words = _mix(words ^ (ends - starts).astype(np.uint64))
    doc_of_token = np.searchsorted(np.flatnonzero(newline), starts)
    lengths = np.bincount(doc_of_token, minlength=n_docs).astype(np.int64)
    return words, lengths


def _ngram_hashes(values: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash every n-gram of consecutive tokens inside each document.

    A document with fewer than ``n`` tokens gets one shingle made of all its tokens; an empty
    document gets none. Returns ``(hashes, owner)`` with owner the document of each shingle.
    """
    if n == 1:
        owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        return _mix(values), owner
    counts = np.where(lengths > 0, np.maximum(lengths - n + 1, 1), 0)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    doc_start = np.cumsum(lengths) - lengths
    first_shingle = np.cumsum(counts) - counts
    pos = np.arange(total, dtype=np.int64) - first_shingle[owner] + doc_start[owner]
    width = np.minimum(lengths, n)[owner]
    out = np.zeros(total, dtype=np.uint64)
    last = max(len(values) - 1, 0)
    for k in range(n):
        if len(values) == 0:
            break
        v = values[np.minimum(pos + k, last)]
        if k > 0:
            v = np.where(width > k, v, np.uint64(0))
        out = out * _COMBINE + v
    return _mix(out), owner


def shingle_counts(
    normalised: list[str], shingle: str = "word", ngram: int = 3, *, segment: bool = True
) -> tuple[csr_matrix, np.ndarray]:
    """Occurrences of each distinct hashed shingle per document: ``(counts CSR, hashes)``.

    Same parameters as `shingle_sets`; the semantic fallback weights these counts by TF-IDF.
    """
    if shingle not in SHINGLE_KINDS:
        raise ValueError(f"shingle must be one of {SHINGLE_KINDS}, not {shingle!r}")
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, not {ngram!r}")
    values, lengths = _token_values(normalised, shingle, segment)
    hashes, owner = _ngram_hashes(values, lengths, ngram)
    distinct = sorted_unique(hashes)
    column = np.searchsorted(distinct, hashes)
    matrix = csr_matrix(
        (np.ones(len(hashes), dtype=np.int32), (owner, column)),
        shape=(len(normalised), len(distinct)),
    )
    matrix.sum_duplicates()
    return matrix, distinct


def shingle_sets(
    normalised: list[str],
    shingle: str = "word",
    ngram: int | tuple[int, ...] = 3,
    *,
    segment: bool = True,
) -> ShingleSets:
    """Build every document's set of hashed shingles.

    Parameters
    ----------
    normalised:
        Texts already passed through `normalise_all`.
    shingle:
        ``"word"`` (n-grams of words) or ``"char"`` (n-grams of characters, spaces included).
    ngram:
        n, at least 1, or several n whose shingles are pooled (``(1, 2)``: words and word
        pairs). Texts shorter than n give one shingle of all they have.
    segment:
        Word shingles only: runs of scripts written without spaces (Chinese, Japanese, Thai...)
        count as overlapping character bigrams, one "word" each, so a one-character edit
        changes two words instead of a whole clause.

    Returns
    -------
    ShingleSets
        One sort de-duplicates shingles inside each document: the key holds the document in its
        top ``b = bit_length(n_docs)`` bits and the shingle hash in the other ``64 - b``, so
        values are ``64 - b``-bit hashes (47 bits at 100,000 texts: collisions stay negligible).
    """
    if shingle not in SHINGLE_KINDS:
        raise ValueError(f"shingle must be one of {SHINGLE_KINDS}, not {shingle!r}")
    sizes = (ngram,) if isinstance(ngram, int) else tuple(ngram)
    if not sizes or any(not isinstance(k, int) or k < 1 for k in sizes):
        raise ValueError(f"ngram must be an integer >= 1 or a tuple of them, not {ngram!r}")
    n = len(normalised)
    values, lengths = _token_values(normalised, shingle, segment)
    parts = [_ngram_hashes(values, lengths, k) for k in sorted(set(sizes))]
    # Each n-gram size gets its own hash space, so a unigram never equals a bigram.
    hashes = np.concatenate(
        [
            h ^ _mix(np.full(1, k, dtype=np.uint64))
            for (h, _), k in zip(parts, sorted(set(sizes)), strict=True)
        ]
    )
    owner = np.concatenate([o for _, o in parts])
    bits = np.uint64(max(n.bit_length(), 1))
    keys = sorted_unique((owner.astype(np.uint64) << (np.uint64(64) - bits)) | (hashes >> bits))
    doc = (keys >> (np.uint64(64) - bits)).astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc, minlength=n), out=indptr[1:])
    mask = (np.uint64(1) << (np.uint64(64) - bits)) - np.uint64(1)
    return ShingleSets(indptr=indptr, values=keys & mask)


def merge_part_sets(parts: list[ShingleSets]) -> ShingleSets:
    """One set per document holding the shingles of all its parts, each tagged by its part.

    A shingle of part ``p`` is mixed with ``p`` first, so the same words in a prompt and in an
    answer stay distinct; the merged sets are disjoint unions, hence
    ``J(merged) >= min_p J(part p)`` for any pair: LSH over the merged sets at a threshold finds
    every pair whose parts all reach it.

    Parameters
    ----------
    parts:
        One `ShingleSets` per part, all over the same documents in the same order.
    """
    if not parts:
        raise ValueError("parts is empty: give at least one ShingleSets")
    n = parts[0].n_docs
    if any(p.n_docs != n for p in parts):
        raise ValueError(f"every part must cover the same {n} documents")
    if len(parts) == 1:
        return parts[0]
    bits = np.uint64(max(n.bit_length(), 1))
    width = np.uint64(64) - bits
    mask = (np.uint64(1) << width) - np.uint64(1)
    owners, values = [], []
    for k, p in enumerate(parts):
        owners.append(np.repeat(np.arange(n, dtype=np.uint64), p.sizes))
        tag = _mix(np.full(1, k + 1, dtype=np.uint64) * _C3)
        values.append((p.values ^ tag) & mask)
    keys = sorted_unique((np.concatenate(owners) << width) | np.concatenate(values))
    doc = (keys >> width).astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc, minlength=n), out=indptr[1:])
    return ShingleSets(indptr=indptr, values=keys & mask)


def hash_permutations(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Parameters ``(a, b)`` of ``count`` hash functions ``h(x) = a*x + b mod 2**64`` (a odd)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)
    b = rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)
    return a | np.uint64(1), b


def signatures(
    sets: ShingleSets,
    num_hashes: int,
    seed: int,
    *,
    chunk_shingles: int = 1 << 15,
    report: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """MinHash signatures of all documents at once.

    Parameters
    ----------
    sets:
        From `shingle_sets`.
    num_hashes:
        Number of hash functions (signature rows).
    seed:
        Seeds the hash functions; equal seeds give equal signatures.
    chunk_shingles:
        Shingles hashed per block, bounding memory to ``num_hashes * chunk_shingles * 8`` bytes.
    report:
        Optional ``report(done_docs, total_docs)``.

    Returns
    -------
    numpy.ndarray
        uint64 array ``(num_hashes, n_docs)``; documents without shingles hold the max value.
    """
    a, b = hash_permutations(num_hashes, seed)
    b_col = b[:, None]
    n = sets.n_docs
    sig = np.full((num_hashes, n), _EMPTY, dtype=np.uint64)
    indptr = sets.indptr
    values = sets.values
    start = 0
    while start < n:
        stop = int(np.searchsorted(indptr, indptr[start] + chunk_shingles, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        docs = start + np.flatnonzero(indptr[start + 1 : stop + 1] > indptr[start:stop])
        if len(docs):
            base = indptr[start]
            block = np.multiply.outer(a, values[base : indptr[stop]])
            block += b_col
            sig[:, docs] = np.minimum.reduceat(block, indptr[docs] - base, axis=1)
        if report is not None:
            report(stop, n)
        start = stop
    return sig


@lru_cache(maxsize=64)
def optimal_bands_rows(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """Bands and rows minimising the weighted false-positive + false-negative area at threshold.

    Same criterion as datasketch's ``_optimal_param``: a pair of Jaccard ``s`` becomes a
    candidate with probability ``1 - (1 - s**r)**b``; the false-positive area is its integral
    over ``[0, threshold]``, the false-negative area the integral of its complement over
    ``[threshold, 1]``. Searches every ``b * r <= num_perm``; ties go to the smallest b, then r.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], not {threshold!r}")
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, not {num_perm!r}")
    combos = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([c[0] for c in combos], dtype=np.float64)[:, None]
    rows = np.array([c[1] for c in combos], dtype=np.float64)[:, None]
    lo = np.linspace(0.0, threshold, 513)[None, :]
    hi = np.linspace(threshold, 1.0, 513)[None, :]
    fp = np.trapezoid(1.0 - (1.0 - lo**rows) ** bands, lo, axis=1)
    fn = np.trapezoid((1.0 - hi**rows) ** bands, hi, axis=1)
    error = false_positive_weight * fp + false_negative_weight * fn
    return combos[int(np.argmin(error))]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (band, document): equal keys mean the band's rows all agree."""
    if bands * rows > sig.shape[0]:
        raise ValueError(f"bands * rows = {bands * rows} exceeds the {sig.shape[0]} signature rows")
    keys = np.empty((bands, sig.shape[1]), dtype=np.uint64)
    for band in range(bands):
        acc = np.zeros(sig.shape[1], dtype=np.uint64)
        for row in sig[band * rows : (band + 1) * rows]:
            acc = _mix(acc * _COMBINE + row)
        keys[band] = acc
    return keys


def candidate_pairs(
    keys: np.ndarray,
    active: np.ndarray | None = None,
    *,
    window: int = 64,
    keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Pairs of documents sharing a bucket in at least one band.

    Parameters
    ----------
    keys:
        ``(bands, n_docs)`` from `band_keys`.
    active:
        Indices of the documents that take part (default all).
    window:
        In a bucket larger than ``window + 1`` each member is paired only with the next
        ``window`` members (by index), which still links the whole bucket transitively.
    keep:
        Optional filter ``keep(i, j) -> bool mask`` applied before de-duplication.

    Returns
    -------
    numpy.ndarray
        int64 ``(P, 2)``, ``i < j``, sorted, unique.
    """
    n = keys.shape[1]
    idx = np.arange(n, dtype=np.int64) if active is None else np.asarray(active, dtype=np.int64)
    codes: list[np.ndarray] = []
    for band_key in keys:
        k = band_key[idx]
        order = np.argsort(k, kind="stable")
        ks, members = k[order], idx[order]
        for d in range(1, min(window, len(ks) - 1) + 1):
            same = ks[d:] == ks[:-d]
            if not same.any():
                break
            i, j = members[:-d][same], members[d:][same]
            lo, hi = np.minimum(i, j), np.maximum(i, j)
            if keep is not None:
                mask = keep(lo, hi)
                lo, hi = lo[mask], hi[mask]
            codes.append(lo * n + hi)
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = sorted_unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


def identical_set_groups(sets: ShingleSets, partition: np.ndarray | None = None) -> np.ndarray:
    """For each document, the smallest index with exactly the same shingle set (itself if none).

    Empty documents map to themselves. Uses an order-independent 64-bit set hash plus the size.
    With `partition` (one integer label per document) only documents with equal labels group.
    """
    sizes = sets.sizes
    n = sets.n_docs
    rep = np.arange(n, dtype=np.int64)
    nonempty = np.flatnonzero(sizes > 0)
    if len(nonempty) == 0:
        return rep
    mixed = _mix(sets.values ^ np.uint64(0x5851F42D4C957F2D))
    set_hash = np.add.reduceat(mixed, sets.indptr[nonempty])
    key = set_hash ^ _mix(sizes[nonempty].astype(np.uint64))
    if partition is not None:
        key = _mix(key ^ np.asarray(partition, dtype=np.uint64)[nonempty])
    order = np.lexsort((nonempty, key))
    sorted_key = key[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = sorted_key[1:] != sorted_key[:-1]
    first_pos = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    group_first = nonempty[order][first_pos]
    rep[nonempty[order]] = group_first
    return rep


def jaccard(sets: ShingleSets, pairs: np.ndarray, *, chunk: int = 100_000) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of each pair ``(i, j)``."""
    inter, union = overlap(sets, pairs, chunk=chunk)
    return np.divide(inter, union, out=np.zeros(len(inter), dtype=np.float64), where=union > 0)


def overlap(
    sets: ShingleSets, pairs: np.ndarray, *, chunk: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """``(intersection, union)`` sizes of the shingle sets of each pair ``(i, j)``.

    Only the documents named in `pairs` are turned into a sparse matrix.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    inter = np.zeros(len(pairs), dtype=np.int64)
    if len(pairs) == 0:
        return inter, inter.copy()
    docs = sorted_unique(pairs.ravel())
    local = np.searchsorted(docs, pairs)
    m = sets.subset(docs).matrix()
    for lo in range(0, len(pairs), chunk):
        i, j = local[lo : lo + chunk, 0], local[lo : lo + chunk, 1]
        inter[lo : lo + chunk] = np.asarray(m[i].multiply(m[j]).sum(axis=1)).ravel()
    sizes = sets.sizes[docs]
    union = sizes[local[:, 0]] + sizes[local[:, 1]] - inter
    return inter, union


def estimated_jaccard(sig: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """MinHash estimate of Jaccard: the share of signature rows on which a pair agrees."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.empty(0, dtype=np.float64)
    agree = np.zeros(len(pairs), dtype=np.int64)
    for row in sig:
        agree += row[pairs[:, 0]] == row[pairs[:, 1]]
    return agree / sig.shape[0]
