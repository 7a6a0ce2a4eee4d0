"""A traffic-light summary of whether an export is ready to train on.

Each item reads numbers from the split and from saved step stats; a missing step is "not-run".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from curation.export.issues import TokenStats
from curation.export.leakage import LeakageReport
from curation.export.pairs import (
    LENGTH_RATIO_WARN,
    LONGER_SHARE_WARN,
    NEAR_IDENTICAL_SHARE_WARN,
    label_balance,
    pair_stats,
)
from curation.export.presets.base import LEFT_OUT_REASONS
from curation.records import Example

Status = Literal["ok", "warn", "fail", "not-run"]

MIN_EXAMPLES_FAIL = 100
MIN_EXAMPLES_WARN = 300
MAX_EXAMPLES_WARN = 50_000
MIN_EVAL_WARN = 50


@dataclass(frozen=True, slots=True)
class ReadinessItem:
    """One readiness check: its measured value, a status and a sentence for the user."""

    name: str
    value: Any
    status: Status
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "status": self.status,
            "message": self.message,
        }


def number(step: Mapping[str, Any] | None, *keys: str) -> float | None:
    """The first of `keys` in a step's stats that holds a number (not a bool); None otherwise."""
    if not isinstance(step, Mapping):
        return None
    for key in keys:
        value = step.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def readiness_summary(
    train: Sequence[Example],
    eval: Sequence[Example],
    *,
    stats: Mapping[str, Any],
    tokens: TokenStats | None = None,
    leakage: LeakageReport | None = None,
    left_out: Mapping[str, int] | None = None,
    task: str = "sft",
) -> list[ReadinessItem]:
    """Rate an export's readiness, item by item.

    Parameters
    ----------
    train, eval:
        The splits.
    stats:
        Saved step stats (the same dict as the card's ``curation_stats``). Read keys:
        ``dedup.duplicate_rate`` (or ``dedup.duplicates_remaining`` over the example count),
        ``quality.flagged_active`` (active examples carrying a flag of the latest quality run),
        ``labels.agreement`` (kappa or share in [0, 1]), ``labels.open_issues``,
        ``audit.critical`` / ``audit.warning`` / ``audit.examples_audited`` / ``audit.active_now``
        (the latest bias audit), ``pii.residual`` (findings left unscrubbed). A missing step
        gives "not-run".
    tokens:
        Token statistics from validation (p95 against the preset limit, over-limit count).
    leakage:
        The leakage report, if checked.
    left_out:
        Reason -> examples the preset left out by design (`Preset.prepare`); an item when any.
    task:
        The preset's task (``sft``, ``preference``, ``kto``): which data items apply.

    Returns
    -------
    list[ReadinessItem]
        In display order: examples, eval size, duplicates, quality flags, agreement, label
        issues, PII, token budget, leakage, then the data items that apply: left out (by
        reason), needing an answer (``import.needs_answer``), preference data in an SFT
        export, length bias and near-identical answers of pairs, KTO label balance.
        Thresholds: < 100 examples fail, < 300 or > 50,000
        warn; eval < 50 warn; duplicate rate > 5 % warn, > 20 % fail; any active example with
        a quality flag warn; agreement < 0.6 warn, < 0.4 fail;
        any open label issue warn; any PII residual fail; p95 over the limit fail, any
        example over it warn; any leakage pair warn; anything left out or still needing an
        answer warn; preference pairs written for SFT warn; chosen longer in > 75 % of pairs or
        a chosen/rejected length ratio > 1.5 warn; > 10 % of pairs with near-identical answers
        warn; desirable/undesirable outside TRL's 1:1 to 4:3 (or either absent) warn.
    """
    n = len(train) + len(eval)
    items: list[ReadinessItem] = []
    nt = len(train)
    unit = {"preference": "training pairs", "kto": "training answers"}.get(
        task, "training examples"
    )
    if nt < MIN_EXAMPLES_FAIL:
        items.append(
            ReadinessItem(
                "examples",
                nt,
                "fail",
                f"{nt} {unit}; fine-tuning needs a few hundred at least",
            )
        )
    elif nt < MIN_EXAMPLES_WARN:
        items.append(
            ReadinessItem(
                "examples",
                nt,
                "warn",
                f"{nt} {unit}; a few hundred to a few thousand work best",
            )
        )
    elif nt > MAX_EXAMPLES_WARN:
        items.append(
            ReadinessItem(
                "examples",
                nt,
                "warn",
                f"{nt} {unit}; more than usual for fine-tuning, check cost",
            )
        )
    else:
        items.append(ReadinessItem("examples", nt, "ok", f"{nt} {unit}"))
    ne = len(eval)
    items.append(
        ReadinessItem(
            "eval size",
            ne,
            "warn" if ne < MIN_EVAL_WARN else "ok",
            "no eval split: nothing measures overfitting"
            if ne == 0
            else f"{ne} eval examples" + (" (noisy below 50)" if ne < MIN_EVAL_WARN else ""),
        )
    )
    from curation.steps import CHECKS, steps

    # each registered step adds its items (duplicates, quality flags, bias audit, agreement,
    # label issues, PII residual for the built-in ones)
    for step in sorted((s for s in steps if s.readiness_group == CHECKS), key=_rank):
        items.extend(step.readiness_items(stats.get(step.name), n_examples=n))
    if tokens is None or tokens.count == 0:
        items.append(ReadinessItem("token budget", None, "not-run", "tokens were not counted"))
    elif tokens.limit is None:
        items.append(
            ReadinessItem("token budget", tokens.p95, "ok", f"p95 {tokens.p95:.0f} tokens")
        )
    else:
        status: Status = (
            "fail" if tokens.p95 > tokens.limit else "warn" if tokens.over_limit else "ok"
        )
        items.append(
            ReadinessItem(
                "token budget",
                tokens.p95,
                status,
                f"p95 {tokens.p95:.0f} tokens vs limit {tokens.limit}; "
                f"{tokens.over_limit} examples over the limit would be truncated",
            )
        )
    if leakage is None:
        items.append(
            ReadinessItem("leakage", None, "not-run", "train/eval leakage was not checked")
        )
    else:
        items.append(
            ReadinessItem(
                "leakage",
                leakage.max_similarity,
                "warn" if leakage.pairs else "ok",
                f"{len(leakage.pairs)} train/eval pairs at similarity >= {leakage.threshold}; "
                f"highest {leakage.max_similarity:.2f}",
            )
        )
    items.extend(data_items([*train, *eval], stats=stats, left_out=left_out, task=task))
    return items


def data_items(
    examples: Sequence[Example],
    *,
    stats: Mapping[str, Any],
    left_out: Mapping[str, int] | None,
    task: str,
) -> list[ReadinessItem]:
    """The readiness items about what kind of data goes out (see `readiness_summary`)."""
    items: list[ReadinessItem] = []
    counts = {k: v for k, v in (left_out or {}).items() if v}
    if counts:
        total = sum(counts.values())
        words = "; ".join(f"{LEFT_OUT_REASONS.get(k, k)}: {v}" for k, v in counts.items())
        items.append(
            ReadinessItem("left out", total, "warn", f"{total} examples left out: {words}")
        )
    from curation.steps import DATA, steps

    for step in sorted((s for s in steps if s.readiness_group == DATA), key=_rank):
        items.extend(step.readiness_items(stats.get(step.name), n_examples=len(examples)))
    if task == "sft":
        pairs = sum(1 for ex in examples if ex.candidates)
        if pairs:
            items.append(
                ReadinessItem(
                    "preference data",
                    pairs,
                    "warn",
                    f"{pairs} preference examples go out as prompt + chosen answer; their "
                    "rejected answers are not trained on (a preference preset trains the pairs)",
                )
            )
    elif task == "preference":
        ps = pair_stats(examples)
        if ps.n_pairs:
            biased = ps.length_biased
            items.append(
                ReadinessItem(
                    "length bias",
                    None if ps.length_ratio is None else round(ps.length_ratio, 3),
                    "warn" if biased else "ok",
                    f"chosen answers average {ps.mean_chosen_chars:.0f} characters, rejected "
                    f"{ps.mean_rejected_chars:.0f} (ratio "
                    + ("-" if ps.length_ratio is None else f"{ps.length_ratio:.2f}")
                    + f"); chosen is longer in {ps.share_chosen_longer:.0%} of pairs"
                    + (
                        f" (warn above {LONGER_SHARE_WARN:.0%} or a ratio above "
                        f"{LENGTH_RATIO_WARN}): DPO learns to prefer length"
                        if biased
                        else ""
                    ),
                )
            )
            share = ps.near_identical_share
            items.append(
                ReadinessItem(
                    "near-identical pairs",
                    round(share, 4),
                    "warn" if share > NEAR_IDENTICAL_SHARE_WARN else "ok",
                    f"{ps.n_near_identical} of {ps.n_pairs} pairs ({share:.0%}) have chosen and "
                    f"rejected answers that are near duplicates (word Jaccard >= "
                    f"{ps.threshold}, the near-dedup default)"
                    + (
                        f"; above {NEAR_IDENTICAL_SHARE_WARN:.0%} the pairs teach little"
                        if share > NEAR_IDENTICAL_SHARE_WARN
                        else ""
                    ),
                )
            )
    elif task == "kto":
        balance = label_balance(examples)
        if balance.desirable or balance.undesirable:
            ratio = balance.ratio
            items.append(
                ReadinessItem(
                    "label balance",
                    None if ratio is None else round(ratio, 3),
                    "ok" if balance.balanced else "warn",
                    f"{balance.desirable} desirable / {balance.undesirable} undesirable answers; "
                    + balance.suggestion(),
                )
            )
    return items


def _rank(step: Any) -> int:
    return int(step.readiness_rank)
