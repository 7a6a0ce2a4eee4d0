"""Labelling a stored project: the schema in the project settings, metadata adopted as imported
labels, the annotator's view and queue, bulk actions, reviews, final labels, agreement and the
label-issue check with its decisions.

Pages and the CLI call these. The store's labels repository (`curation.store.labels`) makes
the atomic writes; the pure core (`curation.labeling`) holds the rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.errors import LabelError
from curation.labeling.agreement import AgreementReport, agreement_report
from curation.labeling.assignment import visible_labels
from curation.labeling.issues import LabelIssueConfig, LabelQualityResult, rank_label_quality
from curation.labeling.resolution import FinalLabel, ResolutionRule, resolve_final_labels
from curation.labeling.schema import (
    ImportedLabel,
    LabelSchema,
    LabelValue,
    field_from_metadata,
)
from curation.progress import ProgressFn
from curation.store import ExampleFilter, StepResult, Store, StoredExample
from curation.store import labels as repo

__all__ = [
    "ADOPT_STATUSES",
    "KTO_SOURCE",
    "AdoptResult",
    "AnnotationView",
    "LabelIssueItem",
    "Suggestion",
    "adopt_metadata",
    "annotation_view",
    "bulk_action",
    "decide_label_issue",
    "disagreements",
    "final_labels",
    "label_issue_inputs",
    "label_issue_items",
    "project_agreement",
    "refresh_imported",
    "require_schema",
    "run_label_issues",
    "save_label_issues",
    "save_schema",
    "set_reviewers",
]

KTO_SOURCE = "kto_label"
"""The source name of an example's KTO label (desirable or not, `Example.desirable`) when it is
adopted as an imported label; it is not in the metadata, so this name stands for it."""
ADOPT_STATUSES = ("active", "needs_answer", "duplicate", "rejected", "filtered")
"""Examples whose metadata is adopted: every status (a restored example keeps its label)."""
KTO_VERDICTS = {"true": "accept", "false": "reject"}


# ---- the schema -------------------------------------------------------------------------------


def require_schema(store: Store, project: str) -> LabelSchema:
    """The project's label schema, or `LabelError` saying how to set one."""
    schema = repo.read_schema(store, project)
    if schema is None:
        raise LabelError(
            f"Project {project!r} has no label schema yet: set one on the Label page, or with "
            f"`curation label-schema --project {project} --set schema.json`."
        )
    return schema


def save_schema(
    store: Store, project: str, schema: LabelSchema | Mapping[str, Any], author: str
) -> int:
    """Check and save the schema (an undoable ``settings`` event); returns the event's id.

    Labels of a field that the new schema no longer has stay stored (the history keeps them)
    and are ignored by final labels and agreement until the field comes back.
    """
    checked = schema if isinstance(schema, LabelSchema) else LabelSchema.from_dict(schema)
    return store.set_project_setting(project, repo.SCHEMA_SETTING, checked.to_dict(), author)


def set_reviewers(store: Store, project: str, names: Iterable[str], author: str) -> int:
    """Name who may set final labels besides the owner (an undoable ``settings`` event)."""
    cleaned = sorted({n.strip() for n in names if n and n.strip()})
    return store.set_project_setting(project, repo.REVIEWERS_SETTING, cleaned or None, author)


# ---- imported labels --------------------------------------------------------------------------


@dataclass(slots=True)
class AdoptResult:
    """What adopting a metadata field did.

    Attributes
    ----------
    field:
        The schema field it fills.
    created:
        Whether that field was made from the metadata's values.
    schema_event, labels_event:
        The ``settings`` event of the new schema and the ``labels`` event of the imported
        values (None when nothing changed); undo them newest first.
    n_labelled:
        Examples that got an imported value.
    problems:
        Values that could not be adopted (each names the example, the value and why).
    """

    field: str
    created: bool
    schema_event: int | None
    labels_event: int | None
    n_labelled: int
    problems: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _source_values(example: StoredExample, key: str) -> dict[str, Any]:
    meta = dict(example.example.metadata)
    if key == KTO_SOURCE and example.example.desirable is not None:
        meta[KTO_SOURCE] = example.example.desirable
    return meta


def adopt_metadata(
    store: Store,
    project: str,
    metadata_key: str,
    author: str,
    *,
    field: str | None = None,
    multi: bool = False,
    value_map: Mapping[str, str] | None = None,
    title: str = "",
) -> AdoptResult:
    """Adopt a metadata field (Dolly's ``category``, a ``label`` column, or `KTO_SOURCE` for a
    KTO label) as the imported labels of a schema field, kept apart from people's labels.

    Parameters
    ----------
    metadata_key:
        The metadata key (or `KTO_SOURCE`).
    field:
        The schema field to fill; default the key lower-cased with other characters as ``_``.
        When the schema has no such field, a single-choice (or, with `multi`, multi-choice)
        field is made whose options are the values seen; a KTO label fills a verdict field
        (true -> accept, false -> reject) unless `value_map` says otherwise.
    value_map:
        Raw value -> field value, compared ignoring letter case (see `ImportedLabel`).
    """
    from curation.labeling.schema import VerdictField

    examples = list(store.iter_examples(project, ExampleFilter(statuses=list(ADOPT_STATUSES))))
    raw = [_source_values(ex, metadata_key).get(metadata_key) for ex in examples]
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
        raise LabelError(
            f"No example of {project!r} has a value for metadata field {metadata_key!r}; "
            "nothing to adopt."
        )
    name = field or _field_name(metadata_key)
    schema = repo.read_schema(store, project)
    fields: list[Any] = list(schema.fields) if schema else []
    created = name not in [f.name for f in fields]
    mapping = dict(value_map or {})
    if metadata_key == KTO_SOURCE and not mapping:
        mapping = dict(KTO_VERDICTS)
    if created:
        if metadata_key == KTO_SOURCE:
            fields.append(VerdictField(name=name, title=title))
        else:
            translated = [
                [mapping.get(str(x).strip().casefold(), x) for x in v]
                if isinstance(v, list)
                else mapping.get(str(v).strip().casefold(), v)
                for v in raw
                if v is not None
            ]
            fields.append(field_from_metadata(name, translated, multi=multi, title=title))
    imported = [imp for imp in (schema.imported if schema else ()) if imp.field != name]
    imported.append(ImportedLabel(metadata_key, name, mapping))
    new_schema = LabelSchema(
        fields=tuple(fields),
        guidelines=schema.guidelines if schema else "",
        annotators_per_example=schema.annotators_per_example if schema else 1,
        imported=tuple(imported),
    )
    schema_event: int | None = None
    if schema is None or new_schema.to_dict() != schema.to_dict():
        schema_event = save_schema(store, project, new_schema, author)
    values, problems = _imported_values(new_schema, examples, [name])
    labels_event = repo.write_imported(
        store, project, values, {name: metadata_key}, author, fields=[name]
    )
    return AdoptResult(name, created, schema_event, labels_event, len(values), problems)


def _field_name(key: str) -> str:
    import re

    name = re.sub(r"[^a-z0-9_]+", "_", key.strip().casefold()).strip("_")
    if not name or not name[0].isalpha():
        name = f"f_{name}" if name else "label"
    return name[:63]


def _imported_values(
    schema: LabelSchema, examples: Sequence[StoredExample], fields: Sequence[str]
) -> tuple[dict[str, dict[str, LabelValue]], list[str]]:
    wanted = tuple(imp for imp in schema.imported if imp.field in fields)
    only = LabelSchema(
        fields=schema.fields, annotators_per_example=schema.annotators_per_example, imported=wanted
    )
    keys = {imp.metadata_key for imp in wanted}
    values: dict[str, dict[str, LabelValue]] = {}
    problems: list[str] = []
    for ex in examples:
        meta: dict[str, Any] = {}
        for key in keys:
            meta.update(_source_values(ex, key))
        n = len(ex.example.candidates)
        got, bad = only.imported_labels(meta, n_candidates=n)
        if got:
            values[ex.id] = got
        problems += [f"{ex.id}: {p}" for p in bad]
    return values, problems


def refresh_imported(store: Store, project: str, author: str) -> int | None:
    """Write the imported labels of every adopted field again from the examples as they are now
    (new imports, undone ones); one ``labels`` event, None when nothing changed."""
    schema = require_schema(store, project)
    if not schema.imported:
        return None
    examples = list(store.iter_examples(project, ExampleFilter(statuses=list(ADOPT_STATUSES))))
    fields = [imp.field for imp in schema.imported]
    values, _ = _imported_values(schema, examples, fields)
    sources = {imp.field: imp.metadata_key for imp in schema.imported}
    return repo.write_imported(store, project, values, sources, author, fields=fields)


# ---- what an annotator sees -------------------------------------------------------------------


@dataclass(slots=True)
class Suggestion:
    """A value proposed for a field, never a given label: where it comes from and why."""

    field: str
    value: LabelValue
    source: str
    detail: str = ""


@dataclass(slots=True)
class AnnotationView:
    """One example as `viewer` may see it on the annotation page.

    Attributes
    ----------
    example:
        The stored example (its revision is what an in-place edit starts from).
    schema:
        The project's schema.
    mine:
        Field -> `viewer`'s own value (role ``annotator``; ``reviewer`` in review mode).
    others:
        Other people's labels `viewer` may see: none on a field before `viewer` labelled it
        (`visible_labels`), every one for a reviewer in review mode.
    suggestions:
        Imported values and the label-issue check's suggestion, shown as suggestions.
    my_version, version:
        Tokens to pass back as ``expected`` (`annotate` and `review`).
    annotators:
        Distinct annotators who labelled the example (a count; names only in `others`).
    """

    example: StoredExample
    schema: LabelSchema
    mine: dict[str, LabelValue]
    others: list[repo.StoredLabel]
    suggestions: list[Suggestion]
    my_version: str
    version: str
    annotators: int
    final: dict[str, FinalLabel] = field(default_factory=dict)


def annotation_view(
    store: Store, project: str, example_id: str, viewer: str, *, review_mode: bool = False
) -> AnnotationView:
    """What the annotation page shows for one example (three small reads)."""
    schema = require_schema(store, project)
    example = store.get_example(project, example_id)
    rows = repo.list_labels(store, project, example_ids=[example_id], history=True)
    role = "reviewer" if review_mode else "annotator"
    newest: dict[tuple[str, str, str], repo.StoredLabel] = {}
    for row in rows:
        newest[(row.annotator, row.field, row.role)] = row
    live = [r for r in newest.values() if r.value is not None and r.field in schema.field_names]
    mine: dict[str, LabelValue] = {
        r.field: r.value
        for r in live
        if r.annotator == viewer and r.role == role and r.value is not None
    }
    allowed = visible_labels(
        [r.as_label() for r in live], viewer=viewer, reviewer=review_mode, show_imported=False
    )
    shown = {(lab.annotator, lab.field, lab.role) for lab in allowed}
    others = [
        r
        for r in live
        if (r.annotator, r.field, r.role) in shown
        and r.role != "imported"
        and not (r.annotator == viewer and r.role == role)
    ]
    suggestions = [
        Suggestion(r.field, r.value, "from the data", f"metadata {r.annotator}")  # type: ignore[arg-type]
        for r in live
        if r.role == "imported"
    ]
    for issue in repo.label_issue_rows(store, project, example_ids=[example_id]):
        target = (issue.detail or {}).get("field")
        if target in schema.field_names and issue.suggestion:
            score = f"label quality {issue.score:.2f}" if issue.score is not None else ""
            given = (issue.detail or {}).get("given")
            detail = f"given {given!r}, {score}" if given is not None else score
            suggestions.append(Suggestion(target, issue.suggestion, "the label check", detail))
    final: dict[str, FinalLabel] = {}
    if review_mode:
        final = {f.field: f for f in resolve_final_labels([r.as_label() for r in live], schema)}
    return AnnotationView(
        example=example,
        schema=schema,
        mine=mine,
        others=others,
        suggestions=suggestions,
        my_version=repo.version_token(rows, annotator=viewer, role=role),
        version=repo.version_token(rows),
        annotators=len({r.annotator for r in live if r.role == "annotator"}),
        final=final,
    )


# ---- bulk actions -----------------------------------------------------------------------------


def bulk_action(
    store: Store,
    project: str,
    flt: ExampleFilter | None,
    field: str,
    value: object,
    author: str,
    *,
    label_state: str | Sequence[str] | None = None,
    role: str = "annotator",
    mode: str = "set",
) -> tuple[int | None, int]:
    """Set a verdict, a category or a tag on every example of a filtered queue as ONE undoable
    event (`curation.store.labels.bulk_label`); returns (event id or None, examples matched)."""
    ids = repo.queue_ids(store, project, flt, label_state=label_state, annotator=author)
    if not ids:
        return None, 0
    return (
        repo.bulk_label(store, project, ids, field, value, author, role=role, mode=mode),
        len(ids),
    )


# ---- final labels, review, agreement ----------------------------------------------------------


def final_labels(
    store: Store,
    project: str,
    *,
    rule: ResolutionRule | None = None,
    example_ids: Sequence[str] | None = None,
) -> dict[str, dict[str, FinalLabel]]:
    """Example id -> field -> `FinalLabel` (what export uses): reviewer, votes, imported."""
    schema = require_schema(store, project)
    labels = repo.project_labels(store, project, example_ids=example_ids)
    out: dict[str, dict[str, FinalLabel]] = {}
    for final in resolve_final_labels(labels, schema, rule=rule):
        out.setdefault(final.example_id, {})[final.field] = final
    return out


def disagreements(
    store: Store, project: str, flt: ExampleFilter | None = None, *, fields: Sequence[str] = ()
) -> list[str]:
    """Ids of the examples `flt` lists (default: active) with an unresolved field (annotators
    disagree, no majority, no reviewer yet), in import order: the review queue."""
    finals = final_labels(store, project)
    ids = repo.queue_ids(store, project, flt)
    return [
        eid
        for eid in ids
        if any(
            f.status == "unresolved" and (not fields or name in fields)
            for name, f in finals.get(eid, {}).items()
        )
    ]


def _groups(store: Store, project: str, group_by: str) -> dict[str, str]:
    """Example id -> group: ``source``, a schema field's final label, or a metadata key."""
    schema = require_schema(store, project)
    if group_by == "source":
        return {ex.id: ex.example.source for ex in store.iter_examples(project)}
    if group_by in schema.field_names:
        finals = final_labels(store, project)
        return {
            eid: _text(by[group_by].value)
            for eid, by in finals.items()
            if group_by in by and by[group_by].resolved
        }
    out = {}
    for ex in store.iter_examples(project):
        value = ex.example.metadata.get(group_by)
        if value is not None:
            out[ex.id] = _text(value)
    return out


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value)
    return str(value)


def project_agreement(
    store: Store, project: str, *, group_by: str | None = None
) -> AgreementReport:
    """Agreement of the project's annotators (`agreement_report`), per field, per category and
    overall; with `group_by` (``source``, a label field or a metadata key) per group too."""
    schema = require_schema(store, project)
    labels = repo.project_labels(store, project, roles=["annotator"])
    groups = _groups(store, project, group_by) if group_by else None
    return agreement_report(labels, schema, groups=groups)


# ---- label errors -----------------------------------------------------------------------------


def label_issue_inputs(
    store: Store, project: str, field: str, *, statuses: Sequence[str] = ("active",)
) -> tuple[list[str], list[str], list[str | None]]:
    """(example ids, texts, given labels) for the label-issue check of `field`.

    The given label is the example's final label of that schema field (reviewed, agreed by
    annotators, or imported); for a name that is not a schema field, the metadata value.
    Examples without one are unlabelled (not checked, not learnt from).
    """
    schema = repo.read_schema(store, project)
    examples = list(store.iter_examples(project, ExampleFilter(statuses=list(statuses))))
    ids = [ex.id for ex in examples]
    texts = [ex.example.text("all") for ex in examples]
    if schema is not None and field in schema.field_names:
        kind = schema.field(field).kind
        if kind not in ("single_choice", "verdict"):
            raise LabelError(
                f"label errors are found for single-choice fields and verdicts; {field!r} is {kind}"
            )
        finals = final_labels(store, project, example_ids=ids)
        given: list[str | None] = []
        for eid in ids:
            final = finals.get(eid, {}).get(field)
            given.append(str(final.value) if final is not None and final.resolved else None)
        return ids, texts, given
    values = [ex.example.metadata.get(field) for ex in examples]
    if all(v is None for v in values):
        known = ", ".join(schema.field_names) if schema else "none"
        raise LabelError(
            f"{field!r} is neither a label field of {project!r} (fields: {known}) nor a "
            "metadata field its examples have"
        )
    return ids, texts, [None if v is None or v == "" else str(v) for v in values]


def run_label_issues(
    store: Store,
    project: str,
    field: str,
    *,
    config: LabelIssueConfig | None = None,
    progress: ProgressFn | None = None,
) -> tuple[list[str], list[str | None], LabelQualityResult]:
    """Check the labels of `field` (`rank_label_quality`); nothing is saved."""
    ids, texts, given = label_issue_inputs(store, project, field)
    result = rank_label_quality(texts, given, config=config, progress=progress)
    return ids, given, result


def save_label_issues(
    store: Store,
    project: str,
    field: str,
    ids: Sequence[str],
    given: Sequence[str | None],
    result: LabelQualityResult,
    author: str,
    *,
    params: Mapping[str, Any] | None = None,
    max_label_id: int | None = None,
) -> int:
    """Keep a check as the project's newest ``label_issues`` run: one step result per flagged
    example (code ``label_issue``, quality score, suggested label); returns the run's id.

    `max_label_id` is the newest label row when the check read the labels: a reviewer's
    decision on a flagged example after it takes the example out of the queue.
    """
    if max_label_id is None:
        max_label_id = repo.newest_label_id(store, project)
    results = [
        StepResult(
            example_id=ids[issue.index],
            code="label_issue",
            score=issue.quality_score,
            reason=result.reasons[issue.index],
            suggestion=issue.suggested_label,
            detail={"field": field, "given": given[issue.index]},
        )
        for issue in result.issues
    ]
    info = result.info
    stats = {
        "checked": int(info.get("checked", 0)),
        "flagged": len(results),
        "unlabelled": int(info.get("unlabelled", 0)),
        "cv_accuracy": round(float(info.get("cv_accuracy", 0.0)), 4),
        "classes": len(result.classes),
    }
    saved_params = {
        **dict(params or {}),
        "field": field,
        "max_label_id": int(max_label_id),
        "features": info.get("features"),
        "folds": info.get("folds"),
    }
    return store.save_step_results(
        project,
        repo.LABEL_ISSUES_STEP,
        saved_params,
        stats,
        results,
        author,
        result={"info": _json_ready(info), "classes": list(result.classes)},
    )


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class LabelIssueItem:
    """A suspected label error of the latest run, with what a reviewer decided since."""

    example_id: str
    field: str
    given: str | None
    suggested: str
    quality_score: float | None
    reason: str
    decision: str | None  # "accepted" (the suggestion), "kept" (the given label), "other", None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def label_issue_items(store: Store, project: str) -> list[LabelIssueItem]:
    """The latest run's flagged examples, worst first, each with the reviewer's decision."""
    run = repo.label_issue_run(store, project)
    if run is None:
        return []
    params = run.get("params") or {}
    field_name = str(params.get("field"))
    since = int(params.get("max_label_id") or 0)
    rows = repo.label_issue_rows(store, project)
    decided = {
        r.example_id: r.value
        for r in repo.list_labels(store, project, roles=["reviewer"], fields=[field_name])
        if r.id > since
    }
    items = []
    for r in rows:
        given = (r.detail or {}).get("given")
        choice = decided.get(r.example_id)
        decision = None
        if r.example_id in decided:
            decision = (
                "accepted" if choice == r.suggestion else "kept" if choice == given else "other"
            )
        items.append(
            LabelIssueItem(
                r.example_id,
                field_name,
                given,
                r.suggestion or "",
                r.score,
                r.reason or "",
                decision,
            )
        )
    items.sort(key=lambda i: i.quality_score if i.quality_score is not None else 1.0)
    return items


def decide_label_issue(
    store: Store, project: str, example_id: str, reviewer: str, *, accept: bool
) -> int | None:
    """Accept the suggested label or keep the given one, as the reviewer's final label (one
    undoable ``labels`` event)."""
    items = {i.example_id: i for i in label_issue_items(store, project)}
    item = items.get(example_id)
    if item is None:
        raise LabelError(f"{example_id} is not among the latest label check's suspected errors")
    schema = require_schema(store, project)
    if item.field not in schema.field_names:
        raise LabelError(
            f"the check ran on metadata field {item.field!r}, which is not a label field: "
            "adopt it first (it becomes imported labels), then decide"
        )
    value = item.suggested if accept else item.given
    if value is None:
        raise LabelError(f"{example_id} had no given label to keep")
    what = f"accepted the suggestion {value!r}" if accept else f"kept the label {value!r}"
    return repo.review(
        store,
        project,
        example_id,
        {item.field: value},
        reviewer,
        action="label_issue",
        note=what,
    )
