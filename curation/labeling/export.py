"""What an export needs from the labels: final labels per example (to keep only some verdicts,
to stratify the split by a label field) and the label distribution and agreement for the
dataset card and the readiness summary. Nothing here writes.

Export reads final labels only (a reviewer's decision, the annotators' agreed value, or an
imported one), never raw votes: see `curation.labeling.resolve_final_labels`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.labeling.resolution import FINAL_STATUSES, FinalLabel
from curation.labeling.schema import LabelSchema, LabelValue
from curation.records import Example
from curation.store import Store
from curation.store import labels as repo

__all__ = [
    "ALPHA_RELIABLE",
    "ALPHA_TENTATIVE",
    "LABEL_PREFIX",
    "MISSING",
    "FieldSummary",
    "LabelSummary",
    "final_values",
    "label_strata",
    "label_summary",
    "select_by_verdict",
    "with_label_metadata",
]

LABEL_PREFIX = "label."
"""`with_label_metadata` puts a final label under ``metadata["label.<field>"]``, so the split's
``stratify_by`` and the card's ``label_field`` (both read metadata) take it as it is."""
MISSING = "(missing)"  # the stratum of an example without a final label (as the split's own)
ALPHA_RELIABLE = 0.8  # Krippendorff (2004): alpha >= 0.800 to rely on the labels
ALPHA_TENTATIVE = 0.667  # ... and >= 0.667 for tentative conclusions only


def _finals(
    store: Store, project: str, example_ids: Sequence[str] | None
) -> tuple[LabelSchema | None, dict[str, dict[str, FinalLabel]]]:
    from curation.labeling.project import final_labels

    schema = repo.read_schema(store, project)
    if schema is None:
        return None, {}
    return schema, final_labels(store, project, example_ids=example_ids)


def final_values(
    store: Store,
    project: str,
    *,
    fields: Sequence[str] | None = None,
    example_ids: Sequence[str] | None = None,
) -> dict[str, dict[str, LabelValue]]:
    """Example id -> field -> final value, for resolved labels only (pending and unresolved
    fields are absent); {} when the project has no label schema."""
    _, finals = _finals(store, project, example_ids)
    out: dict[str, dict[str, LabelValue]] = {}
    for eid, by_field in finals.items():
        for name, final in by_field.items():
            if final.resolved and final.value is not None and (not fields or name in fields):
                out.setdefault(eid, {})[name] = final.value
    return out


def _verdict_field(schema: LabelSchema, field_name: str | None) -> str:
    from curation.errors import LabelError

    if field_name is not None:
        if schema.field(field_name).kind != "verdict":
            raise LabelError(f"field {field_name!r} is not a verdict field")
        return field_name
    verdicts = [f.name for f in schema.fields if f.kind == "verdict"]
    if not verdicts:
        raise LabelError("the label schema has no verdict field to filter by")
    return verdicts[0]


def select_by_verdict(
    store: Store,
    project: str,
    examples: Sequence[Example],
    verdicts: Iterable[str] = ("accept",),
    *,
    field: str | None = None,
    keep_unlabelled: bool = False,
) -> tuple[list[Example], dict[str, int]]:
    """Keep the examples whose final verdict is one of `verdicts` (e.g. accepted only).

    Parameters
    ----------
    examples:
        The export's selection.
    verdicts:
        Final verdict values to keep (``accept``, ``needs_fix``, ``reject``).
    field:
        The verdict field (default: the schema's first verdict field).
    keep_unlabelled:
        Also keep examples without a final verdict (none yet, or annotators disagree).

    Returns
    -------
    tuple
        ``(kept examples in their order, excluded counts)``, the counts keyed as the export's
        ``Selection.excluded`` is: ``"verdict reject"``, ``"no final verdict"``...
    """
    from curation.errors import LabelError

    schema = repo.read_schema(store, project)
    if schema is None:
        raise LabelError(f"project {project!r} has no label schema, so no verdicts to filter by")
    name = _verdict_field(schema, field)
    wanted = set(verdicts)
    finals = final_values(store, project, fields=[name], example_ids=[ex.id for ex in examples])
    kept: list[Example] = []
    excluded: Counter[str] = Counter()
    for ex in examples:
        value = finals.get(ex.id, {}).get(name)
        if value is None:
            if keep_unlabelled:
                kept.append(ex)
            else:
                excluded["no final verdict"] += 1
        elif value in wanted:
            kept.append(ex)
        else:
            excluded[f"verdict {value}"] += 1
    return kept, dict(sorted(excluded.items()))


def _as_text(value: LabelValue) -> str:
    return ";".join(value) if isinstance(value, tuple) else str(value)


def label_strata(
    store: Store, project: str, field: str, example_ids: Sequence[str]
) -> dict[str, str]:
    """Example id -> its final label of `field` as text (tags joined by ``;``), `MISSING` when
    none: the strata of a split stratified by a label field."""
    finals = final_values(store, project, fields=[field], example_ids=example_ids)
    return {
        eid: _as_text(finals[eid][field]) if field in finals.get(eid, {}) else MISSING
        for eid in example_ids
    }


def with_label_metadata(
    store: Store,
    project: str,
    examples: Sequence[Example],
    fields: Sequence[str] | None = None,
    *,
    prefix: str = LABEL_PREFIX,
) -> list[Example]:
    """Copies of `examples` whose metadata also holds their final labels under ``prefix +
    field`` (tags as a list), so ``stratify_by="label.topic"`` and ``CardInfo(label_field=
    "label.topic")`` work on final labels without other changes. The stored examples and the
    given objects are left as they are."""
    finals = final_values(store, project, fields=fields, example_ids=[ex.id for ex in examples])
    out = []
    for ex in examples:
        extra = {
            prefix + name: list(value) if isinstance(value, tuple) else value
            for name, value in finals.get(ex.id, {}).items()
        }
        out.append(dataclasses.replace(ex, metadata={**ex.metadata, **extra}) if extra else ex)
    return out


@dataclass(slots=True)
class FieldSummary:
    """One label field over an export's examples.

    Attributes
    ----------
    field, kind:
        The schema field.
    distribution:
        Final value -> examples (tags: per tag), most first.
    statuses:
        `FINAL_STATUSES` -> examples (``missing``: nobody labelled it).
    alpha, alpha_items:
        Krippendorff's alpha of the annotators on this field and the items behind it (None and
        0 when no example has two annotators).
    """

    field: str
    kind: str
    distribution: dict[str, int]
    statuses: dict[str, int]
    alpha: float | None
    alpha_items: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class LabelSummary:
    """The labels of an export's examples, for the dataset card and the readiness summary.

    Attributes
    ----------
    examples:
        Examples summarised.
    annotators_per_example:
        The schema's requirement.
    annotators:
        Everyone whose annotator labels count in agreement.
    fields:
        Per field (free text fields are left out).
    overall_alpha, overall_items:
        Nominal alpha pooled over the choice fields and the items behind it.
    suspected_errors:
        Examples of the latest label-issue run among these, not decided by a reviewer since.
    """

    examples: int
    annotators_per_example: int
    annotators: list[str]
    fields: list[FieldSummary] = field(default_factory=list)
    overall_alpha: float | None = None
    overall_items: int = 0
    suspected_errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def card_stats(self) -> dict[str, Any]:
        """The card's ``labels`` step (`curation.export.card.render_steps`): numbers and notes."""
        unresolved = max((f.statuses.get("unresolved", 0) for f in self.fields), default=0)
        pending = max((f.statuses.get("pending", 0) for f in self.fields), default=0)
        stats: dict[str, Any] = {
            "fields": len(self.fields),
            "annotators": len(self.annotators),
            "annotators_per_example": self.annotators_per_example,
            "unresolved": unresolved,
            "pending": pending,
            "krippendorff_alpha": "-" if self.overall_alpha is None else self.overall_alpha,
            "alpha_items": self.overall_items,
        }
        if self.suspected_errors:
            stats["suspected_label_errors"] = self.suspected_errors
        notes = []
        for f in self.fields:
            shown = ", ".join(f"{v} {n}" for v, n in list(f.distribution.items())[:8])
            more = " ..." if len(f.distribution) > 8 else ""
            alpha = "" if f.alpha is None else f" (alpha {f.alpha:.3f} on {f.alpha_items})"
            notes.append(f"{f.field}: {shown or 'no final labels'}{more}{alpha}")
        stats["notes"] = notes
        return stats

    def card_markdown(self) -> list[str]:
        """A card section: per field the final-label distribution and agreement."""
        out = ["## Labels", ""]
        out.append(
            f"{self.annotators_per_example} annotator(s) per example; "
            f"{len(self.annotators)} annotator(s) in all. Final labels: a reviewer's decision, "
            "else the annotators' agreed value, else the label the data came with."
        )
        out.append("")
        out += ["| Field | Value | Examples |", "|---|---|---|"]
        for f in self.fields:
            for value, n in f.distribution.items():
                out.append(f"| {_cell(f.field)} | {_cell(value)} | {n} |")
        out.append("")
        out += ["| Field | Krippendorff's alpha | Items | Unresolved |", "|---|---|---|---|"]
        for f in self.fields:
            alpha = "-" if f.alpha is None else f"{f.alpha:.3f}"
            out.append(
                f"| {_cell(f.field)} | {alpha} | {f.alpha_items} | "
                f"{f.statuses.get('unresolved', 0)} |"
            )
        out.append("")
        return out

    def readiness_items(self) -> list[dict[str, Any]]:
        """Readiness checks as ``{name, value, status, message}`` (`ReadinessItem` fields)."""
        items = []
        unresolved = max((f.statuses.get("unresolved", 0) for f in self.fields), default=0)
        items.append(
            {
                "name": "labels: disagreements",
                "value": unresolved,
                "status": "ok" if unresolved == 0 else "warn",
                "message": "every labelled example has a final label"
                if unresolved == 0
                else f"{unresolved} example(s) where annotators disagree and no reviewer "
                "decided; review them on the Label page",
            }
        )
        alpha = self.overall_alpha
        if alpha is None:
            items.append(
                {
                    "name": "labels: agreement",
                    "value": None,
                    "status": "not-run",
                    "message": "no example was labelled by two annotators",
                }
            )
        else:
            status = (
                "ok" if alpha >= ALPHA_RELIABLE else "warn" if alpha >= ALPHA_TENTATIVE else "fail"
            )
            items.append(
                {
                    "name": "labels: agreement",
                    "value": round(alpha, 3),
                    "status": status,
                    "message": f"Krippendorff's alpha {alpha:.3f} on {self.overall_items} "
                    f"item(s); {ALPHA_RELIABLE} or more is reliable, below {ALPHA_TENTATIVE} "
                    "the labels are not",
                }
            )
        if self.suspected_errors:
            items.append(
                {
                    "name": "labels: suspected errors",
                    "value": self.suspected_errors,
                    "status": "warn",
                    "message": f"{self.suspected_errors} suspected label error(s) not decided; "
                    "accept or keep each on the Label page",
                }
            )
        return items


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def label_summary(
    store: Store, project: str, *, example_ids: Sequence[str] | None = None
) -> LabelSummary | None:
    """Distribution, statuses and agreement of the labels of `example_ids` (default every
    example); None when the project has no label schema."""
    from curation.labeling.agreement import agreement_report

    schema, finals = _finals(store, project, example_ids)
    if schema is None:
        return None
    ids = (
        list(example_ids)
        if example_ids is not None
        else [ex.id for ex in store.iter_examples(project)]
    )
    wanted = set(ids)
    labels = repo.project_labels(store, project, roles=["annotator"], example_ids=ids)
    report = agreement_report(labels, schema)
    out = LabelSummary(
        examples=len(ids),
        annotators_per_example=schema.annotators_per_example,
        annotators=list(report.annotators),
        overall_alpha=report.overall.value,
        overall_items=report.overall.items,
    )
    for f in schema.fields:
        if f.kind == "text":
            continue
        counts: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        for eid in ids:
            final = finals.get(eid, {}).get(f.name)
            if final is None:
                statuses["missing"] += 1
                continue
            statuses[final.status] += 1
            if final.resolved and final.value is not None:
                values = final.value if isinstance(final.value, tuple) else (final.value,)
                counts.update(str(v) for v in values)
        agreement = report.fields.get(f.name)
        out.fields.append(
            FieldSummary(
                field=f.name,
                kind=f.kind,
                distribution=dict(counts.most_common()),
                statuses={k: statuses[k] for k in (*FINAL_STATUSES, "missing") if statuses[k]},
                alpha=agreement.alpha.value if agreement else None,
                alpha_items=agreement.alpha.items if agreement else 0,
            )
        )
    out.suspected_errors = _undecided_issues(store, project, wanted)
    return out


def _undecided_issues(store: Store, project: str, ids: set[str]) -> int:
    from curation.labeling.project import label_issue_items

    return sum(
        1
        for item in label_issue_items(store, project)
        if item.example_id in ids and not item.decision
    )
