"""Seeded, group-aware train/eval splits: duplicates and shared prompts never straddle splits.

Groups (caller clusters or near-duplicate clusters, plus same-prompt sets) are merged by union-find.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.dedup.components import UnionFind
from curation.errors import ExportError
from curation.export.leakage import similarity_text
from curation.progress import ProgressFn, report
from curation.records import Example, normalize_text

MISSING_STRATUM = "(missing)"


@dataclass(frozen=True, slots=True)
class SplitOptions:
    """How examples are split into train and eval, checked when made (see `split_examples`).

    Attributes
    ----------
    eval_fraction:
        Share put in eval, in [0, 1); ignored when ``eval_count`` is given.
    eval_count:
        Exact eval size instead of a fraction (groups permitting), or None.
    seed:
        Integer seed; the same examples and seed give the same split.
    stratify_by:
        A metadata field whose values keep their proportions in both splits, or None.
    holdout_sources:
        Sources whose examples all go to eval (a held-out domain), sorted and unique.
    """

    eval_fraction: float = 0.1
    eval_count: int | None = None
    seed: int = 0
    stratify_by: str | None = None
    holdout_sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ExportError(f"seed must be an integer, not {self.seed!r}")
        if self.eval_count is not None and (
            isinstance(self.eval_count, bool)
            or not isinstance(self.eval_count, int)
            or self.eval_count < 0
        ):
            raise ExportError(f"eval_count {self.eval_count!r} must be a whole number >= 0")
        if (
            isinstance(self.eval_fraction, bool)
            or not isinstance(self.eval_fraction, int | float)
            or not 0 <= self.eval_fraction < 1
        ):
            raise ExportError(f"eval_fraction {self.eval_fraction!r} must be a number in [0, 1)")
        if isinstance(self.holdout_sources, str):
            raise ExportError(
                f"holdout_sources must be a list of source names, not the string "
                f"{self.holdout_sources!r}"
            )
        object.__setattr__(self, "holdout_sources", tuple(sorted(set(self.holdout_sources))))
        if self.stratify_by is not None and not str(self.stratify_by).strip():
            object.__setattr__(self, "stratify_by", None)

    def parameters(self) -> dict[str, Any]:
        """The options as JSON values (for the manifest and job parameters)."""
        return {
            "eval_fraction": self.eval_fraction,
            "eval_count": self.eval_count,
            "seed": self.seed,
            "stratify_by": self.stratify_by,
            "holdout_sources": list(self.holdout_sources),
        }

    def plan(
        self,
        examples: Sequence[Example],
        *,
        group_by_duplicates: bool = True,
        groups: Sequence[Sequence[int]] | None = None,
        near_threshold: float | None = None,
        progress: ProgressFn | None = None,
    ) -> SplitPlan:
        """`plan_split` with these options."""
        return plan_split(
            examples,
            self.eval_fraction,
            self.seed,
            self.stratify_by,
            group_by_duplicates,
            eval_count=self.eval_count,
            groups=groups,
            holdout_sources=self.holdout_sources or None,
            near_threshold=near_threshold,
            progress=progress,
        )


@dataclass(slots=True)
class SplitPlan:
    """Which examples go where, and why.

    Attributes
    ----------
    train_ids, eval_ids:
        Example ids per split, in the seeded order the split lists use.
    groups:
        Every multi-member group (ids), each wholly in one split.
    eval_target:
        The eval size aimed at, held-out sources excluded.
    strata:
        Stratum value -> ``{"total", "eval", "target"}`` (only when stratified).
    held_out:
        Number of examples put in eval by ``holdout_sources``.
    """

    train_ids: list[str]
    eval_ids: list[str]
    groups: list[list[str]] = field(default_factory=list)
    eval_target: int = 0
    strata: dict[str, dict[str, int]] = field(default_factory=dict)
    held_out: int = 0

    def stats(self) -> dict[str, Any]:
        """Numbers for the dataset card's ``split`` step."""
        out: dict[str, Any] = {
            "train": len(self.train_ids),
            "eval": len(self.eval_ids),
            "eval_target": self.eval_target,
            "groups_kept_together": len(self.groups),
            "examples_in_groups": sum(len(g) for g in self.groups),
        }
        if self.held_out:
            out["held_out_by_source"] = self.held_out
        return out


def _priority(seed: int, key: str) -> bytes:
    # A keyed hash instead of a shuffled list: the order of a group depends only on the seed
    # and its own ids, not on the input order or on which other examples exist.
    return hashlib.sha256(f"{seed}\x00{key}".encode()).digest()


def _stratum(example: Example, key: str) -> str:
    if key not in example.metadata or example.metadata[key] is None:
        return MISSING_STRATUM
    value = example.metadata[key]
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _largest_remainder(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Split ``total`` across strata proportionally to ``sizes``, summing exactly to ``total``."""
    n = sum(sizes.values())
    if n == 0:
        return dict.fromkeys(sizes, 0)
    raw = {s: total * c / n for s, c in sizes.items()}
    out = {s: math.floor(v) for s, v in raw.items()}
    rest = total - sum(out.values())
    for s in sorted(raw, key=lambda s: (-(raw[s] - out[s]), s))[:rest]:
        out[s] += 1
    return out


def _check_args(n: int, eval_fraction: float, eval_count: int | None, seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ExportError(f"seed must be an integer, not {seed!r}")
    if eval_count is not None:
        if (
            isinstance(eval_count, bool)
            or not isinstance(eval_count, int)
            or not 0 <= eval_count <= n
        ):
            raise ExportError(f"eval_count {eval_count!r} must be an integer from 0 to {n}")
    elif not isinstance(eval_fraction, int | float) or not 0 <= eval_fraction < 1:
        raise ExportError(f"eval_fraction {eval_fraction!r} must be a number in [0, 1)")


def plan_split(
    examples: Sequence[Example],
    eval_fraction: float,
    seed: int,
    stratify_by: str | None = None,
    group_by_duplicates: bool = True,
    *,
    eval_count: int | None = None,
    groups: Sequence[Sequence[int]] | None = None,
    holdout_sources: Iterable[str] | None = None,
    near_threshold: float | None = None,
    progress: ProgressFn | None = None,
) -> SplitPlan:
    """Plan a split without copying examples; `split_examples` documents the parameters."""
    n = len(examples)
    _check_args(n, eval_fraction, eval_count, seed)
    ids = [ex.id for ex in examples]
    if len(set(ids)) != n:
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ExportError(f"example id {dup!r} appears more than once; ids must be unique to split")
    near = group_by_duplicates and n > 1
    n_steps = 3 if near else 2  # near-duplicate clusters (when asked), shared prompts, assigning
    # Canonical order (by id) makes every step independent of the input order.
    order = sorted(range(n), key=ids.__getitem__)
    uf = UnionFind(n)
    if groups is not None:
        for g in groups:
            bad = [i for i in g if not (isinstance(i, int) and 0 <= i < n)]
            if bad:
                raise ExportError(f"groups hold indices {bad[:5]} outside 0..{n - 1}")
            uf.union_all(g)
    if near:
        report(progress, "finding near-duplicate clusters", 0, n_steps)
        from curation.dedup import find_duplicate_clusters

        texts = [similarity_text(examples[i]) for i in order]
        for cluster in find_duplicate_clusters(texts, method="near", threshold=near_threshold):
            uf.union_all(order[j] for j in cluster)
    report(progress, "grouping shared prompts", n_steps - 2, n_steps)
    by_prompt: dict[str, int] = {}
    for i in order:
        key = normalize_text(examples[i].prompt)
        if key:
            if key in by_prompt:
                uf.union(by_prompt[key], i)
            else:
                by_prompt[key] = i
    holdout = set(holdout_sources or ())
    if holdout:
        present = {ex.source for ex in examples}
        unknown = sorted(holdout - present)
        if unknown:
            raise ExportError(
                f"holdout sources {unknown} match no example; sources present: {sorted(present)[:20]}"
            )
    comps = uf.components()
    comps.sort(key=lambda c: _priority(seed, min(ids[i] for i in c)))
    held = [c for c in comps if any(examples[i].source in holdout for i in c)]
    pool = [c for c in comps if not any(examples[i].source in holdout for i in c)]
    pool_n = sum(len(c) for c in pool)
    target = eval_count if eval_count is not None else round(eval_fraction * pool_n)
    target = min(target, pool_n)
    strata_of = [_stratum(ex, stratify_by) if stratify_by else "" for ex in examples]
    totals: dict[str, int] = {}
    for c in pool:
        for i in c:
            totals[strata_of[i]] = totals.get(strata_of[i], 0) + 1
    targets = _largest_remainder(target, totals)
    got = dict.fromkeys(totals, 0)
    chosen: list[list[int]] = []
    taken = 0
    report(progress, "assigning groups", n_steps - 1, n_steps)
    # Pass 1: in seeded order, take a group when it fits the total and brings the per-stratum
    # eval counts closer to their targets (L1 distance). Pass 2 fills any remaining gap with
    # groups that fit the total, whatever their strata (groups spanning strata can block pass 1).
    used = [False] * len(pool)
    for strict in (True, False):
        for k, c in enumerate(pool):
            if taken >= target:
                break
            if used[k] or taken + len(c) > target:
                continue
            counts: dict[str, int] = {}
            for i in c:
                counts[strata_of[i]] = counts.get(strata_of[i], 0) + 1
            if strict:
                delta = sum(
                    abs(targets[s] - got[s] - m) - abs(targets[s] - got[s])
                    for s, m in counts.items()
                )
                if delta >= 0:
                    continue
            used[k] = True
            chosen.append(c)
            taken += len(c)
            for s, m in counts.items():
                got[s] += m
    eval_idx = {i for c in held for i in c} | {i for c in chosen for i in c}

    def seeded(idx: Iterable[int]) -> list[str]:
        return [ids[i] for i in sorted(idx, key=lambda i: _priority(seed, ids[i]))]

    plan = SplitPlan(
        train_ids=seeded(i for i in range(n) if i not in eval_idx),
        eval_ids=seeded(eval_idx),
        groups=[
            sorted(ids[i] for i in c)
            for c in sorted(comps, key=lambda c: min(ids[i] for i in c))
            if len(c) > 1
        ],
        eval_target=target,
        held_out=sum(len(c) for c in held),
    )
    if stratify_by:
        plan.strata = {
            s: {"total": totals[s], "eval": got[s], "target": targets[s]} for s in sorted(totals)
        }
    report(progress, "split planned", n_steps, n_steps)
    return plan


def split_examples(
    examples: Sequence[Example],
    eval_fraction: float,
    seed: int,
    stratify_by: str | None = None,
    group_by_duplicates: bool = True,
    *,
    eval_count: int | None = None,
    groups: Sequence[Sequence[int]] | None = None,
    holdout_sources: Iterable[str] | None = None,
    near_threshold: float | None = None,
    progress: ProgressFn | None = None,
) -> tuple[list[Example], list[Example]]:
    """Split examples into train and eval, keeping groups whole.

    Groups are merged with union-find from (a) ``groups`` when given (e.g. a dedup run's
    clusters), (b) near-duplicate clusters from
    ``curation.dedup.find_duplicate_clusters(texts, method="near")`` over each example's user +
    assistant text (`similarity_text`; system prompts left out) when ``group_by_duplicates``
    (also when ``groups`` is given: an exact-only dedup run leaves near duplicates that would
    leak), and (c) always every set of examples whose normalised user text
    (`normalize_text(example.prompt)`) is equal: preference pairs on one prompt and the two KTO
    rows of a pair share it. Each group lands wholly in one split. A preference example's
    near-duplicate text is its prompt alone (`similarity_text`), so pairs on nearly the same
    prompt stay together too.

    Method: groups are ordered by a seeded hash of their smallest id. Per-stratum eval targets
    come from the total target by largest remainder. Pass 1 walks the groups in that order and
    puts a group in eval when it fits the remaining total and lowers the L1 distance between the
    per-stratum eval counts and their targets; pass 2 fills what is left with any group that
    fits. Unstratified splits are the one-stratum case, so with small groups the eval size is
    exact. Large groups are skipped when they would overshoot, so eval leans slightly towards
    small groups.

    Determinism: the same examples (by id and content) and seed give the same split whatever
    the input order; adding examples does not move the others' priorities. Both lists come back
    in a seeded pseudo-random order (also independent of input order).

    Parameters
    ----------
    examples:
        Examples with unique ids.
    eval_fraction:
        Share of the (non-held-out) examples to put in eval, in [0, 1); ignored when
        ``eval_count`` is given.
    seed:
        Integer seed.
    stratify_by:
        An ``Example.metadata`` key; examples lacking it (or None) form the ``(missing)`` stratum.
    group_by_duplicates:
        Compute near-duplicate clusters and keep each in one split (in addition to ``groups``).
    eval_count:
        Exact number of eval examples (held-out sources excluded), when groups allow.
    groups:
        Lists of indices into ``examples`` that must stay together (e.g. dedup clusters).
    holdout_sources:
        Sources whose examples (and their groups) all go to eval, in addition to the target.
    near_threshold:
        Threshold passed to the near-duplicate search (its default when None).
    progress:
        A `curation.progress.ProgressFn`. Each step of the split is a stage whose
        ``ProgressUpdate.done`` counts the steps finished out of ``total``:
        ``"finding near-duplicate clusters"`` (with ``group_by_duplicates``), ``"grouping
        shared prompts"``, ``"assigning groups"``, then ``"split planned"`` with
        ``done == total``.

    Returns
    -------
    tuple[list[Example], list[Example]]
        ``(train, eval)``.

    Raises
    ------
    ExportError
        For out-of-range fractions or counts, duplicate ids, bad group indices, or holdout
        sources that match nothing.
    """
    plan = plan_split(
        examples,
        eval_fraction,
        seed,
        stratify_by,
        group_by_duplicates,
        eval_count=eval_count,
        groups=groups,
        holdout_sources=holdout_sources,
        near_threshold=near_threshold,
        progress=progress,
    )
    by_id = {ex.id: ex for ex in examples}
    return [by_id[i] for i in plan.train_ids], [by_id[i] for i in plan.eval_ids]
