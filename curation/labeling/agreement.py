"""Inter-annotator agreement: Krippendorff's alpha for any number of annotators, Cohen's kappa
for pairs, per label field, overall, per category and per group of examples, with counts.

Alpha is computed from the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's
alpha-reliability"), so missing ratings need no special case: a unit counts once rated twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from curation.errors import LabelError
from curation.labeling.labels import Label, latest_labels
from curation.labeling.schema import LabelSchema

__all__ = [
    "AGREEMENT_LEVELS",
    "AgreementFigure",
    "AgreementReport",
    "FieldAgreement",
    "agreement_report",
    "cohen_kappa",
    "krippendorff_alpha",
]

AGREEMENT_LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")
KAPPA_WEIGHTS: tuple[str | None, ...] = (None, "linear", "quadratic")
Units = Mapping[Any, Mapping[str, Any]]
"""Item -> annotator -> value."""
NO_PAIRS = "no item was labelled by two annotators"
NO_VARIATION = "every label has the same value, so agreement is undefined"


@dataclass(frozen=True, slots=True)
class AgreementFigure:
    """One agreement number with what it rests on.

    Attributes
    ----------
    metric:
        ``"krippendorff_alpha"`` or ``"cohen_kappa"``.
    level:
        Alpha: ``"nominal"``, ``"ordinal"`` or ``"interval"``; kappa: ``"nominal"``,
        ``"linear"`` or ``"quadratic"`` (weighted).
    value:
        The coefficient (1 = perfect agreement, 0 = chance, below 0 = worse than chance), or
        None when it is undefined (see `note`).
    items:
        Items behind it: units rated by two or more annotators (alpha) or by both (kappa).
    ratings:
        Pairable ratings those items carry.
    annotators:
        Who is compared (a kappa's pair, or everyone who rated a counted item).
    note:
        Why `value` is None, else empty.
    """

    metric: str
    level: str
    value: float | None
    items: int
    ratings: int
    annotators: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "level": self.level,
            "value": self.value,
            "items": self.items,
            "ratings": self.ratings,
            "annotators": list(self.annotators),
            "note": self.note,
        }


# ------------------------------------------------------------------ the coefficients


def _value_index(
    units: list[list[Hashable]], order: Sequence[Hashable] | None
) -> tuple[list[Hashable], dict[Hashable, int]]:
    if order is not None:
        domain = list(order)
        index = {v: i for i, v in enumerate(domain)}
        if len(index) != len(domain):
            raise LabelError(f"order lists a value twice: {list(order)!r}")
        stray = {v for unit in units for v in unit if v not in index}
        if stray:
            raise LabelError(
                f"value(s) {sorted(map(repr, stray))} are not in the given order {list(order)!r}"
            )
        return domain, index
    seen: dict[Hashable, int] = {}
    for unit in units:
        for v in unit:
            seen.setdefault(v, len(seen))
    domain = list(seen)
    with contextlib.suppress(TypeError):  # mixed types (a candidate index and "tie")
        domain.sort()  # type: ignore[call-arg]
    return domain, {v: i for i, v in enumerate(domain)}


def _coincidences(units: list[list[int]], n_values: int) -> tuple[np.ndarray, int]:
    """Coincidence matrix of the units with at least two values, and how many there were."""
    rows, cols = [], []
    weights = []
    for u, unit in enumerate(units):
        if len(unit) < 2:
            continue
        rows.extend([u] * len(unit))
        cols.extend(unit)
        weights.append(1.0 / (len(unit) - 1))
    pairable = sorted(set(rows))
    if not pairable:
        return np.zeros((n_values, n_values)), 0
    # counts[u, v]: how often unit u got value v; o = sum_u (c c^T - diag(c)) / (m_u - 1).
    remap = {u: i for i, u in enumerate(pairable)}
    counts = sparse.csr_matrix(
        (np.ones(len(rows)), ([remap[r] for r in rows], cols)),
        shape=(len(pairable), n_values),
    )
    w = sparse.diags(np.asarray(weights))
    weighted = w @ counts
    o = np.asarray((counts.T @ weighted).todense()) - np.diag(
        np.asarray(weighted.sum(axis=0)).ravel()
    )
    return o, len(pairable)


def _distances(level: str, domain: list[Hashable], marginals: np.ndarray) -> np.ndarray:
    v = len(domain)
    if level == "nominal":
        return 1.0 - np.eye(v)
    if level == "interval":
        try:
            numbers = np.asarray([float(x) for x in domain])  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise LabelError(f"interval agreement needs numbers, got {domain!r}") from exc
        return (numbers[:, None] - numbers[None, :]) ** 2
    # ordinal: (sum of n_g from c to k, minus half of n_c and n_k) squared.
    cum = np.concatenate([[0.0], np.cumsum(marginals)])
    lo = np.minimum.outer(np.arange(v), np.arange(v))
    hi = np.maximum.outer(np.arange(v), np.arange(v))
    between = cum[hi + 1] - cum[lo]
    return (between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2


def krippendorff_alpha(
    units: Iterable[Iterable[Hashable]],
    *,
    level: str = "nominal",
    order: Sequence[Hashable] | None = None,
) -> tuple[float | None, int, int]:
    """Krippendorff's alpha of values given to units by any number of coders.

    Parameters
    ----------
    units:
        For each unit (an item), the values its coders gave, missing ones simply absent
        (``[[1, 1], [2, 3, 3], [4]]``). Units with fewer than two values do not count.
    level:
        ``"nominal"`` (categories), ``"ordinal"`` (ranks; distances from the values'
        frequencies) or ``"interval"`` (numbers; squared differences).
    order:
        The values from lowest to highest, for ordinal data (e.g. a rating scale ``1..5``);
        by default the sorted distinct values. Values absent from the data then weigh nothing.

    Returns
    -------
    tuple
        ``(alpha or None, units counted, pairable values)``; alpha is None when no unit has two
        values or every value is the same.
    """
    if level not in AGREEMENT_LEVELS:
        raise LabelError(f"level must be one of {', '.join(AGREEMENT_LEVELS)}, not {level!r}")
    raw = [list(unit) for unit in units]
    domain, index = _value_index(raw, order)
    coded = [[index[v] for v in unit] for unit in raw]
    o, counted = _coincidences(coded, len(domain))
    marginals = o.sum(axis=1)
    n = float(marginals.sum())
    if counted == 0:
        return None, 0, 0
    delta = _distances(level, domain, marginals)
    observed = float((o * delta).sum())
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (n - 1.0)
    if expected <= 1e-12:
        return None, counted, int(round(n))
    return 1.0 - observed / expected, counted, int(round(n))


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    weights: str | None = None,
    order: Sequence[Hashable] | None = None,
) -> float | None:
    """Cohen's kappa of two annotators' labels on the same items (``a[i]`` and ``b[i]``).

    Parameters
    ----------
    a, b:
        Equal-length label lists.
    weights:
        None (nominal), ``"linear"`` or ``"quadratic"`` (weighted kappa for ordered values).
    order:
        The values in order, needed for weights; default the sorted distinct values.

    Returns
    -------
    float or None
        None when there are no items or chance agreement is already perfect (one value only).
    """
    if weights not in KAPPA_WEIGHTS:
        raise LabelError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    if len(a) != len(b):
        raise LabelError(f"the two annotators' lists differ in length ({len(a)} and {len(b)})")
    if not a:
        return None
    domain, index = _value_index([list(a), list(b)], order)
    v = len(domain)
    observed = np.zeros((v, v))
    for x, y in zip(a, b, strict=True):
        observed[index[x], index[y]] += 1.0
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    grid = np.abs(np.subtract.outer(np.arange(v), np.arange(v))).astype(float)
    if weights is None:
        w = (grid > 0).astype(float)
    elif weights == "linear":
        w = grid
    else:
        w = grid**2
    denominator = float((w * expected).sum())
    if denominator <= 1e-12:
        return None
    return 1.0 - float((w * observed).sum()) / denominator


# ------------------------------------------------------------------ the report


@dataclass(frozen=True, slots=True)
class FieldAgreement:
    """Agreement on one label field.

    Attributes
    ----------
    field, kind:
        The schema field and its kind.
    alpha:
        Krippendorff's alpha over every example rated by two or more annotators (tags: over
        every (example, tag) as present / absent).
    pairs:
        Cohen's kappa per pair of annotators who share items (quadratic-weighted for ratings).
    per_value:
        Per category, tag or rating: alpha of "this value or not", which shows the categories
        annotators confuse.
    per_group:
        Per group of examples (e.g. source or imported category), when groups were given.
    """

    field: str
    kind: str
    alpha: AgreementFigure
    pairs: tuple[AgreementFigure, ...] = ()
    per_value: dict[str, AgreementFigure] = dataclasses.field(default_factory=dict)
    per_group: dict[str, AgreementFigure] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "alpha": self.alpha.to_dict(),
            "pairs": [p.to_dict() for p in self.pairs],
            "per_value": {k: v.to_dict() for k, v in self.per_value.items()},
            "per_group": {k: v.to_dict() for k, v in self.per_group.items()},
        }


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Agreement of a project's annotators.

    Attributes
    ----------
    overall:
        Nominal alpha pooled over every single-choice, verdict and preference field (each
        (example, field) one unit); None-valued when the schema has no such field.
    fields:
        Field name -> `FieldAgreement`, for every field except free text.
    annotators:
        Everyone whose labels were counted.
    """

    overall: AgreementFigure
    fields: dict[str, FieldAgreement]
    annotators: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "annotators": list(self.annotators),
        }


def _alpha_figure(
    units: Units,
    level: str,
    order: Sequence[Hashable] | None = None,
) -> AgreementFigure:
    counted = {u: by for u, by in units.items() if len(by) >= 2}
    value, items, ratings = krippendorff_alpha(
        (list(by.values()) for by in counted.values()), level=level, order=order
    )
    annotators = tuple(sorted({a for by in counted.values() for a in by}))
    note = "" if value is not None else (NO_PAIRS if items == 0 else NO_VARIATION)
    return AgreementFigure("krippendorff_alpha", level, value, items, ratings, annotators, note)


def _kappa_pairs(
    units: Units,
    weights: str | None,
    order: Sequence[Hashable] | None = None,
) -> tuple[AgreementFigure, ...]:
    people = sorted({a for by in units.values() for a in by})
    out = []
    for x, y in itertools.combinations(people, 2):
        shared = [(by[x], by[y]) for by in units.values() if x in by and y in by]
        if not shared:
            continue
        value = cohen_kappa(
            [s[0] for s in shared], [s[1] for s in shared], weights=weights, order=order
        )
        out.append(
            AgreementFigure(
                "cohen_kappa",
                weights or "nominal",
                value,
                len(shared),
                2 * len(shared),
                (x, y),
                "" if value is not None else NO_VARIATION,
            )
        )
    return tuple(out)


def _binary(units: Units, test: Any) -> dict[Hashable, dict[str, bool]]:
    return {u: {a: bool(test(v)) for a, v in by.items()} for u, by in units.items()}


def _by_group(
    units: Units,
    groups: Mapping[str, str],
    example_of: Any,
    level: str,
    order: Sequence[Hashable] | None,
) -> dict[str, AgreementFigure]:
    split: dict[str, dict[Hashable, Mapping[str, Hashable]]] = {}
    for u, by in units.items():
        group = groups.get(example_of(u))
        if group is not None:
            split.setdefault(str(group), {})[u] = by
    return {g: _alpha_figure(us, level, order) for g, us in sorted(split.items())}


def agreement_report(
    labels: Iterable[Label],
    schema: LabelSchema,
    *,
    groups: Mapping[str, str] | None = None,
) -> AgreementReport:
    """Agreement per field, per category and overall, from annotators' latest labels.

    Only role ``annotator`` counts (reviewers' and imported labels are not independent).
    Each figure carries the number of items behind it; undefined figures say why.

    Parameters
    ----------
    labels:
        Labels as stored (history allowed: the latest per annotator and field counts).
    schema:
        The project's schema (gives each field's kind, options and rating scale).
    groups:
        Optional example id -> group name (a source, an imported category): adds per-group
        alpha to each field.
    """
    latest = [
        lab
        for lab in latest_labels(labels)
        if lab.role == "annotator" and lab.field in schema.field_names
    ]
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for lab in latest:
        values.setdefault(lab.field, {}).setdefault(lab.example_id, {})[lab.annotator] = lab.value
    report: dict[str, FieldAgreement] = {}
    pooled: dict[Hashable, dict[str, Hashable]] = {}
    for f in schema.fields:
        if f.agreement_level is None:
            continue
        units = values.get(f.name, {})
        if f.kind == "multi_choice":
            options = tuple(getattr(f, "options", ()))
            tag_units = {
                (ex, tag): {a: tag in v for a, v in by.items()}
                for ex, by in units.items()
                for tag in options
            }
            report[f.name] = FieldAgreement(
                field=f.name,
                kind=f.kind,
                alpha=_alpha_figure(tag_units, "nominal"),
                pairs=_kappa_pairs(tag_units, None),
                per_value={
                    tag: _alpha_figure(_binary(units, lambda v, t=tag: t in v), "nominal")
                    for tag in options
                },
                per_group=(
                    _by_group(tag_units, groups, lambda u: u[0], "nominal", None) if groups else {}
                ),
            )
            continue
        if f.kind == "rating":
            order = tuple(getattr(f, "options", ()))
            level, weights = "ordinal", "quadratic"
            value_names = [str(v) for v in order]
        else:
            order = None
            level, weights = "nominal", None
            value_names = [str(v) for v in getattr(f, "options", ())]
            if f.kind == "preference":
                seen = sorted({v for by in units.values() for v in by.values()}, key=str)
                value_names = [str(v) for v in seen]
        per_value = {}
        for name in value_names:
            per_value[name] = _alpha_figure(
                _binary(units, lambda v, n=name: str(v) == n), "nominal"
            )
        report[f.name] = FieldAgreement(
            field=f.name,
            kind=f.kind,
            alpha=_alpha_figure(units, level, order),
            pairs=_kappa_pairs(units, weights, order),
            per_value=per_value,
            per_group=_by_group(units, groups, lambda u: u, level, order) if groups else {},
        )
        if level == "nominal":
            for ex, by in units.items():
                pooled[(ex, f.name)] = {a: (f.name, v) for a, v in by.items()}
    if any(f.kind in ("single_choice", "verdict", "preference") for f in schema.fields):
        overall = _alpha_figure(pooled, "nominal")
    else:
        overall = AgreementFigure(
            "krippendorff_alpha", "nominal", None, 0, 0, (), "the schema has no choice field"
        )
    annotators = tuple(sorted({lab.annotator for lab in latest}))
    return AgreementReport(overall=overall, fields=report, annotators=annotators)
