"""Connected components over verified duplicate pairs, and the canonical cluster order.

Shared by every method, so "duplicates of duplicates" are grouped the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curation.dedup.results import Cluster

__all__ = ["UnionFind", "clusters_from_pairs"]


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False when they were already one set."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return True

    def union_all(self, members: Iterable[int]) -> None:
        it = iter(members)
        first = next(it, None)
        if first is None:
            return
        for m in it:
            self.union(first, m)

    def components(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())


def clusters_from_pairs(n: int, pairs: np.ndarray, similarities: np.ndarray) -> list[Cluster]:
    """Group indices linked by pairs into clusters (transitively), with their pair scores.

    Parameters
    ----------
    n:
        Number of items; pairs index into ``range(n)``.
    pairs:
        Integer array of shape ``(P, 2)``.
    similarities:
        Float array of shape ``(P,)``, the score of each pair.

    Returns
    -------
    list[Cluster]
        Components of size >= 2, largest first then by first member; each cluster's pairs are
        ``(i, j, s)`` with ``i < j``, sorted.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if n == 0 or len(pairs) == 0:
        return []
    lo = np.minimum(pairs[:, 0], pairs[:, 1])
    hi = np.maximum(pairs[:, 0], pairs[:, 1])
    graph = coo_matrix((np.ones(len(lo), dtype=np.int8), (lo, hi)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    in_cluster = sizes[labels] >= 2
    members_of: dict[int, list[int]] = {}
    for idx in np.flatnonzero(in_cluster).tolist():
        members_of.setdefault(int(labels[idx]), []).append(idx)
    pairs_of: dict[int, list[tuple[int, int, float]]] = {}
    order = np.lexsort((hi, lo))
    sims = np.asarray(similarities, dtype=np.float64)
    for k in order.tolist():
        i, j = int(lo[k]), int(hi[k])
        pairs_of.setdefault(int(labels[i]), []).append((i, j, float(sims[k])))
    clusters = [Cluster(members=m, pairs=pairs_of.get(lab, [])) for lab, m in members_of.items()]
    clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
    return clusters
