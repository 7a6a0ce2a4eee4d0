"""Label-error detection with real cleanlab and scikit-learn on a real labelled set with planted
errors; input checks, rare classes, unlabelled examples, duplicate-aware folds, progress.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.dedup.semantic import sentence_transformers_available
from curation.errors import LabelError
from curation.labeling import LabelIssue, LabelIssueConfig, find_label_issues, rank_label_quality
from curation.labeling.issues import _folds


def dbpedia(shared_data: Path) -> tuple[list[str], list[str]]:
    rows = [
        json.loads(line)
        for line in (shared_data / "openai-cookbook" / "dbpedia_samples.jsonl")
        .read_text()
        .splitlines()
        if line.strip()
    ]
    return [r["text"] for r in rows], [r["category"] for r in rows]


def planted(labels: list[str]) -> tuple[list[str], list[int]]:
    """Every 20th label (10 of 200) moved 7 places along the sorted class list: a wrong class."""
    classes = sorted(set(labels))
    where = list(range(5, len(labels), 20))
    noisy = list(labels)
    for i in where:
        noisy[i] = classes[(classes.index(labels[i]) + 7) % len(classes)]
    return noisy, where


def test_planted_errors_rank_lowest_on_real_data(shared_data: Path) -> None:
    texts, labels = dbpedia(shared_data)
    noisy, where = planted(labels)
    assert all(noisy[i] != labels[i] for i in where)
    result = rank_label_quality(texts, noisy, config=LabelIssueConfig(features="tfidf"))
    quality = np.asarray(result.quality_scores, dtype=float)
    lowest = set(np.argsort(quality, kind="stable")[:20].tolist())
    assert len(lowest & set(where)) >= 9, "planted errors should be among the 20 lowest of 200"
    issues = result.issues
    assert issues, "some planted errors should be flagged"
    assert [i.quality_score for i in issues] == sorted(i.quality_score for i in issues)
    assert all(issue.given_label == noisy[issue.index] for issue in issues)
    assert all(issue.suggested_label != issue.given_label for issue in issues)
    hits = [issue for issue in issues if issue.index in where]
    assert len(hits) >= len(issues) / 2, "at least half of the flagged labels are planted ones"
    assert result.info["features"] == "tfidf-word1-2+char3-5"
    assert result.info["folds"] == 10  # 200 examples: 10 folds
    assert result.info["checked"] == 200
    assert set(result.classes) == set(labels)
    assert result.pred_probs.shape == (200, 14)
    assert np.allclose(result.pred_probs.sum(axis=1), 1.0)
    rows = result.rows()
    assert len(rows) == 200
    flagged_rows = {r["index"] for r in rows if r["flag"]}
    assert flagged_rows == {issue.index for issue in issues}
    assert all(r["reason"] == "label issue" for r in rows if r["flag"])


def test_public_function_returns_the_same_issues(shared_data: Path) -> None:
    texts, labels = dbpedia(shared_data)
    noisy, _ = planted(labels)
    issues = find_label_issues(texts, noisy, features="tfidf")
    again = rank_label_quality(texts, noisy, config=LabelIssueConfig(features="tfidf")).issues
    assert issues == again  # deterministic for a seed
    assert all(isinstance(i, LabelIssue) for i in issues)
    assert set(issues[0].to_dict()) == {"index", "given_label", "suggested_label", "quality_score"}


def synthetic(n_per_class: int = 12) -> tuple[list[str], list[str]]:
    """Two clearly separable classes of short texts."""
    fruit = [
        f"the ripe apple and banana smoothie number {i} tastes sweet" for i in range(n_per_class)
    ]
    cars = [f"the fast engine and gearbox of car model {i} need oil" for i in range(n_per_class)]
    return fruit + cars, ["fruit"] * n_per_class + ["car"] * n_per_class


def test_an_obvious_swap_is_found_with_the_right_suggestion() -> None:
    texts, labels = synthetic()
    labels[3] = "car"  # a fruit text labelled car
    issues = find_label_issues(texts, labels, features="tfidf")
    assert [i.index for i in issues][:1] == [3]
    assert (issues[0].given_label, issues[0].suggested_label) == ("car", "fruit")


def test_rare_classes_are_not_learnt_and_unlabelled_examples_not_checked() -> None:
    texts, labels = synthetic()
    texts += ["a lonely sentence about the weather", "another one about rain", "unlabelled text"]
    labels += ["weather", "weather", ""]
    result = rank_label_quality(texts, labels, config=LabelIssueConfig(features="tfidf"))
    assert result.reasons[-3:] == ["rare_class", "rare_class", "unlabelled"]
    assert result.quality_scores[-1] is None
    assert result.info["unchecked_classes"] == {"weather": 2}
    assert result.info["unlabelled"] == 1
    assert "weather" not in result.classes
    assert all(s in ("fruit", "car") for s in result.suggested if s is not None)
    assert not any(issue.index >= 24 for issue in result.issues)


def test_a_rare_label_on_a_clear_example_of_a_learnt_class_is_flagged() -> None:
    texts, labels = synthetic()
    texts += ["the ripe apple and banana smoothie number 99 tastes sweet"]
    labels += ["vegetable"]  # one example only: not learnt, but clearly a fruit text
    result = rank_label_quality(texts, labels, config=LabelIssueConfig(features="tfidf"))
    assert result.reasons[-1] == "label issue (rare class)"
    flagged = [issue for issue in result.issues if issue.index == 24]
    assert len(flagged) == 1
    assert (flagged[0].given_label, flagged[0].suggested_label) == ("vegetable", "fruit")
    assert result.info["rare_class_issues"] == 1


def test_input_errors_name_the_problem() -> None:
    texts, labels = synthetic()
    with pytest.raises(LabelError, match=r"differ in length \(24 and 23\)"):
        find_label_issues(texts, labels[:-1])
    with pytest.raises(LabelError, match="label 0 is int 1; labels must be texts"):
        find_label_issues(["a", "b"], [1, "x"])  # type: ignore[list-item]
    with pytest.raises(LabelError, match="text 1 is NoneType"):
        find_label_issues(["a", None], ["x", "y"])  # type: ignore[list-item]
    with pytest.raises(LabelError, match=r"at least two classes .* label counts: 'fruit': 12"):
        find_label_issues(texts[:12], labels[:12])
    with pytest.raises(LabelError, match="label counts: 'fruit': 12, 'car': 3"):
        find_label_issues(texts[:15], labels[:15])
    with pytest.raises(LabelError, match="label counts: none"):
        find_label_issues([], [])
    with pytest.raises(LabelError, match=r"unknown option\(s\) \['fold'\]"):
        find_label_issues(texts, labels, fold=3)
    with pytest.raises(LabelError, match="either config or keyword options"):
        find_label_issues(texts, labels, config=LabelIssueConfig(), folds=3)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"features": "bert"}, "features must be one of auto, tfidf"),
        ({"folds": 1}, "folds must be a whole number >= 2"),
        ({"C": 0}, "C must be a positive number"),
        ({"min_class_size": 1}, "min_class_size must be a whole number >= 2"),
        ({"filter_by": "magic"}, "filter_by must be one of"),
        ({"n_jobs": 0}, "n_jobs must be a whole number >= 1"),
    ],
)
def test_config_is_validated(kwargs: dict, needle: str) -> None:
    with pytest.raises(LabelError) as info:
        LabelIssueConfig(**kwargs)
    assert needle in str(info.value)


def test_identical_texts_share_a_fold() -> None:
    y = np.array([0, 1] * 20)
    groups = np.array([i // 4 for i in range(40)])  # 10 groups of four identical texts
    for train, test in _folds(y, groups, 5, seed=0):
        assert not set(groups[train]) & set(groups[test])


def test_progress_reports_every_stage_in_order() -> None:
    texts, labels = synthetic()
    calls: list[tuple[str, int, int]] = []
    rank_label_quality(
        texts,
        labels,
        config=LabelIssueConfig(features="tfidf", folds=3),
        progress=lambda u: calls.append((u.stage, u.done, u.total)),
    )
    stages = [c[0] for c in calls]
    assert stages[0] == "features" and stages[-1] == "ranking"
    assert [c for c in calls if c[0] == "cross-validation"] == [
        ("cross-validation", d, 3) for d in range(4)
    ]


def test_two_worker_processes_give_the_same_result_as_one() -> None:
    texts, labels = synthetic()
    labels[3] = "car"
    one = rank_label_quality(texts, labels, config=LabelIssueConfig(features="tfidf", n_jobs=1))
    two = rank_label_quality(texts, labels, config=LabelIssueConfig(features="tfidf", n_jobs=2))
    assert one.issues == two.issues
    assert np.allclose(one.pred_probs, two.pred_probs)


@pytest.mark.skipif(
    not sentence_transformers_available(), reason="the optional 'semantic' extra is not installed"
)
def test_embeddings_join_the_features_and_reuse_the_cache() -> None:
    texts, labels = synthetic(8)
    labels[2] = "car"
    cache: dict[str, np.ndarray] = {}
    config = LabelIssueConfig(features="tfidf+embeddings", cache=cache)
    result = rank_label_quality(texts, labels, config=config)
    assert result.info["features"].startswith("tfidf-word1-2+char3-5+sentence-transformers:")
    assert len(cache) == len(set(texts))
    assert result.issues and result.issues[0].index == 2
    stages: list[str] = []
    rank_label_quality(texts, labels, config=config, progress=lambda u: stages.append(u.stage))
    # Every text is cached now: the embeddings stage has nothing left to encode.
    assert "embeddings" not in stages
    auto = rank_label_quality(texts, labels, config=LabelIssueConfig(cache=cache))
    assert "sentence-transformers" in auto.info["features"]  # small set + extra: auto adds them


def test_many_duplicates_reduce_the_folds_instead_of_failing() -> None:
    # 6 distinct texts repeated: only 6 groups, so at most 6 folds even though 10 were asked.
    texts, labels = synthetic(3)
    texts, labels = texts * 4, labels * 4
    result = rank_label_quality(texts, labels, config=LabelIssueConfig(features="tfidf", folds=10))
    assert result.info["folds"] == 6
    assert result.info["checked"] == 24
