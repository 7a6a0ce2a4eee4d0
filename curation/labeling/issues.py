"""Label errors: out-of-sample class probabilities by cross-validation over text features,
ranked by cleanlab; `find_label_issues` is the public entry point.

Features: TF-IDF of word 1-2-grams and character 3-5-grams (word-bounded), optionally with
sentence embeddings from the dedup model resolver. Model: multinomial logistic regression.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from curation.dedup.normalise import normalise_all
from curation.errors import LabelError
from curation.progress import ProgressFn, report

__all__ = [
    "FEATURE_KINDS",
    "LabelIssue",
    "LabelIssueConfig",
    "LabelQualityResult",
    "find_label_issues",
    "rank_label_quality",
    "text_features",
]

FEATURE_KINDS: tuple[str, ...] = ("auto", "tfidf", "tfidf+embeddings", "embeddings")
UNLABELLED = "unlabelled"
RARE_CLASS = "rare_class"


@dataclass(frozen=True, slots=True)
class LabelIssueConfig:
    """Every knob of label-error detection, with the rule behind each default.

    Attributes
    ----------
    features:
        ``"tfidf"``: word 1-2-gram and character 3-5-gram TF-IDF (sublinear tf, terms seen in at
        least two texts, each block unit length). ``"tfidf+embeddings"``: those plus sentence
        embeddings (needs the ``semantic`` extra), best on small sets where a classifier has
        few examples per class to learn from; encoding costs about 10-40 ms per text on 2 cores.
        ``"embeddings"``: embeddings only. ``"auto"`` (default): ``tfidf+embeddings`` when the
        extra is installed and there are at most `auto_embeddings_max` texts, else ``tfidf``.
    auto_embeddings_max:
        Largest set on which ``"auto"`` adds embeddings (1,000: about 10-40 s of encoding).
    folds:
        Cross-validation folds; None: 10 up to 1,000 checked examples (each model then sees
        90 % of a small set), 5 up to 4,000, 3 above (each model still learns from 2,700 or
        more examples, at a third of the cost of 10 folds).
    C:
        Inverse L2 regularisation of the logistic regression. 10 suits unit-length sparse
        n-gram rows (C = 1, scikit-learn's default, under-fits them: its probabilities are nearly
        flat and rank label errors worse); chosen on the development sets of
        ``benchmarks/README_label_issues.md``, not on the evaluation sets.
    min_class_size:
        Classes with fewer examples are not learnt and never suggested (a model cannot learn a
        class from so few). Their examples are still scored by the models of the other
        classes: flagged when those models place them in a learnt class at least as
        confidently as that class's own examples on average (confident learning's threshold),
        else reported as ``rare_class``; their quality score is 1 - that probability.
    filter_by:
        cleanlab's rule for the flagged set. ``"low_self_confidence"`` (default) flags as many
        examples as cleanlab's confident joint estimates to be wrong, lowest label quality first;
        ``"prune_by_noise_rate"`` is cleanlab's own default.
    seed:
        Seeds the fold split.
    n_jobs:
        Folds fitted at once in worker processes; None: 1 up to 1,000 checked examples (a
        worker's start costs more than it saves), else 2 (the two cores of the target machine).
    model_path, encoder, cache:
        For embeddings, as in `curation.dedup.SemanticDedupConfig` (local model folder, an
        already loaded model, a text -> vector cache shared with semantic dedup).
    """

    features: str = "auto"
    auto_embeddings_max: int = 1_000
    folds: int | None = None
    C: float = 10.0
    min_class_size: int = 5
    filter_by: str = "low_self_confidence"
    seed: int = 0
    n_jobs: int | None = None
    model_path: str | None = None
    encoder: Any = field(default=None, repr=False, compare=False)
    cache: dict[str, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.features not in FEATURE_KINDS:
            raise LabelError(
                f"features must be one of {', '.join(FEATURE_KINDS)}, not {self.features!r}"
            )
        if self.folds is not None and (
            isinstance(self.folds, bool) or not isinstance(self.folds, int) or self.folds < 2
        ):
            raise LabelError(f"folds must be a whole number >= 2 or None, not {self.folds!r}")
        if isinstance(self.C, bool) or not isinstance(self.C, int | float) or not self.C > 0:
            raise LabelError(f"C must be a positive number, not {self.C!r}")
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs < 1
        ):
            raise LabelError(f"n_jobs must be a whole number >= 1 or None, not {self.n_jobs!r}")
        for name in ("min_class_size", "auto_embeddings_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise LabelError(f"{name} must be a whole number >= 2, not {value!r}")
        allowed = ("low_self_confidence", "prune_by_noise_rate", "both", "confident_learning")
        if self.filter_by not in allowed:
            raise LabelError(
                f"filter_by must be one of {', '.join(allowed)}, not {self.filter_by!r}"
            )


@dataclass(frozen=True, slots=True)
class LabelIssue:
    """One suspected label error.

    Attributes
    ----------
    index:
        Position in the input lists.
    given_label:
        The label it has.
    suggested_label:
        The class the model finds most likely.
    quality_score:
        cleanlab's label quality in [0, 1] (the out-of-sample probability of the given label);
        low = likely wrong.
    """

    index: int
    given_label: str
    suggested_label: str
    quality_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "given_label": self.given_label,
            "suggested_label": self.suggested_label,
            "quality_score": self.quality_score,
        }


@dataclass(frozen=True, slots=True)
class LabelQualityResult:
    """Everything the check found: one row per example, the flagged issues, and how.

    Attributes
    ----------
    issues:
        Flagged examples, worst (lowest quality) first.
    quality_scores:
        Per input position; None for unlabelled examples.
    suggested:
        Per input position: the most likely learnt class, None for unlabelled examples.
    is_issue:
        Per input position.
    reasons:
        Per input position: ``"label issue"``, ``"label issue (rare class)"``, ``""``
        (checked, fine), ``"rare_class"`` (a rare class's example not flagged) or
        ``"unlabelled"``.
    classes:
        The checked classes (columns of `pred_probs`).
    pred_probs:
        Out-of-sample probabilities of the checked examples (rows in input order).
    info:
        ``features``, ``folds``, ``C``, ``checked``, ``unchecked_classes`` (rare classes and
        their sizes), ``estimated_issues``, ``rare_class_issues``, ``cv_accuracy`` (share of checked examples whose given label is
        the model's top class), ``seconds`` per stage.
    """

    issues: list[LabelIssue]
    quality_scores: list[float | None]
    suggested: list[str | None]
    is_issue: list[bool]
    reasons: list[str]
    classes: tuple[str, ...]
    pred_probs: np.ndarray = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """The per-example table a step stores: index, flag, score, suggestion, reason."""
        return [
            {
                "index": i,
                "flag": self.is_issue[i],
                "score": self.quality_scores[i],
                "suggestion": self.suggested[i],
                "reason": self.reasons[i],
            }
            for i in range(len(self.is_issue))
        ]


# ------------------------------------------------------------------ features


def _tfidf(texts: list[str]) -> sparse.csr_matrix:
    from sklearn.feature_extraction.text import TfidfVectorizer

    blocks = []
    for kwargs in (
        {"analyzer": "word", "ngram_range": (1, 2)},
        {"analyzer": "char_wb", "ngram_range": (3, 5)},
    ):
        vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, dtype=np.float32, **kwargs)
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError:  # no term in two texts (tiny or empty input): the block is empty
            continue
    if not blocks:
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)
    scale = np.float32(1.0 / np.sqrt(len(blocks)))
    return sparse.csr_matrix(sparse.hstack(blocks).tocsr() * scale, dtype=np.float32)


def _embeddings(
    texts: list[str], config: LabelIssueConfig, progress: ProgressFn | None
) -> tuple[np.ndarray, str]:
    from curation.dedup.semantic import SemanticDedupConfig, embed_with_cache, resolve_encoder

    encoder, backend = resolve_encoder(
        SemanticDedupConfig(
            backend="sentence-transformers",
            model_path=config.model_path,
            encoder=config.encoder,
            cache=config.cache,
        )
    )
    if encoder is None:  # resolve_encoder raises first when the extra is missing
        raise LabelError("no sentence-embedding model could be loaded; use features='tfidf'")
    tick = None
    if progress is not None:

        def tick(done: int, total: int) -> None:
            report(progress, "embeddings", done, total)

    vectors = embed_with_cache(texts, encoder, backend, cache=config.cache, report=tick)
    return vectors, backend


def _resolve_features(config: LabelIssueConfig, n: int) -> str:
    if config.features != "auto":
        return config.features
    from curation.dedup.semantic import sentence_transformers_available

    if (config.encoder is not None or sentence_transformers_available()) and (
        n <= config.auto_embeddings_max
    ):
        return "tfidf+embeddings"
    return "tfidf"


def text_features(
    texts: list[str],
    *,
    features: str = "tfidf",
    config: LabelIssueConfig | None = None,
    progress: ProgressFn | None = None,
) -> tuple[sparse.csr_matrix | np.ndarray, str]:
    """The feature matrix the classifier sees, and a name saying what it is.

    Parameters
    ----------
    texts:
        The texts.
    features:
        ``"tfidf"``, ``"tfidf+embeddings"`` or ``"embeddings"`` (see `LabelIssueConfig`).
    config:
        Gives the embedding model settings.
    progress:
        Optional `curation.progress.ProgressFn`, sent a `ProgressUpdate` per stage step.
    """
    config = config or LabelIssueConfig()
    if features == "tfidf":
        return _tfidf(texts), "tfidf-word1-2+char3-5"
    vectors, backend = _embeddings(texts, config, progress)
    if features == "embeddings":
        return vectors, backend
    # Both blocks unit length, scaled so each row has unit length as a whole.
    tfidf = _tfidf(texts)
    half = np.float32(np.sqrt(0.5))
    both = sparse.hstack([tfidf * half, sparse.csr_matrix(vectors * half)]).tocsr()
    return sparse.csr_matrix(both, dtype=np.float32), f"tfidf-word1-2+char3-5+{backend}"


# ------------------------------------------------------------------ cross-validation


def _folds(
    y: np.ndarray, groups: np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that keep identical texts together (one text, one fold)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes smaller than k: expected here
        if len(np.unique(groups)) < len(groups):
            splitter: Any = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
            return list(splitter.split(np.zeros(len(y)), y, groups))
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))


def _fit_fold(
    x: sparse.csr_matrix | np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    C: float,
    extra: sparse.csr_matrix | np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """One fold: fit on `train`; ``(test rows, classes seen, their probabilities, probabilities
    of the `extra` rows)`` (rows never trained on, e.g. examples of rare classes)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these are small dense products, and on a shared 2-core machine two
    # BLAS threads made each fit about 10x slower than one (measured).
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence at tol 1e-3 is enough to rank
        model = LogisticRegression(C=C, max_iter=1000, tol=1e-3)
        model.fit(x[train], y[train])
        more = None if extra is None else model.predict_proba(extra)
        return test, model.classes_, model.predict_proba(x[test]), more


def _out_of_sample_probs(
    x: sparse.csr_matrix | np.ndarray,
    y: np.ndarray,
    n_classes: int,
    splits: list[tuple[np.ndarray, np.ndarray]],
    C: float,
    n_jobs: int,
    progress: ProgressFn | None,
    extra: sparse.csr_matrix | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of `x`'s rows, and the fold models' mean for `extra`'s rows."""
    probs = np.zeros((len(y), n_classes))
    extra_probs = np.zeros((0 if extra is None else extra.shape[0], n_classes))
    report(progress, "cross-validation", 0, len(splits))
    if n_jobs > 1:
        from joblib import Parallel, delayed

        results: Any = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_fit_fold)(x, y, train, test, C, extra) for train, test in splits
        )
    else:
        results = (_fit_fold(x, y, train, test, C, extra) for train, test in splits)
    for done, (test, seen, fold_probs, more) in enumerate(results, start=1):
        probs[np.ix_(test, seen)] = fold_probs
        if more is not None:
            extra_probs[:, seen] += more / len(splits)
        report(progress, "cross-validation", done, len(splits))
    return probs, extra_probs


# ------------------------------------------------------------------ the check


def _check_inputs(texts: Sequence[str], labels: Sequence[str | None]) -> None:
    if len(texts) != len(labels):
        raise LabelError(
            f"texts and labels differ in length ({len(texts)} and {len(labels)}); give one "
            "label per text (None or '' for an unlabelled one)"
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise LabelError(f"text {i} is {type(text).__name__} {text!r}, not text")
    for i, label in enumerate(labels):
        if label is not None and not isinstance(label, str):
            raise LabelError(
                f"label {i} is {type(label).__name__} {label!r}; labels must be texts "
                "(convert numbers with str())"
            )


def rank_label_quality(
    texts: Sequence[str],
    labels: Sequence[str | None],
    *,
    config: LabelIssueConfig | None = None,
    progress: ProgressFn | None = None,
) -> LabelQualityResult:
    """Check every label and return the per-example table with the flagged issues.

    Parameters
    ----------
    texts:
        One text per example (e.g. `curation.dedup.texts_for(examples, "all")`).
    labels:
        The given label of each text; None or ``""`` for an unlabelled example (not checked,
        not learnt from).
    config:
        `LabelIssueConfig`; defaults as documented there.
    progress:
        Optional `curation.progress.ProgressFn`, sent `ProgressUpdate`s for the stages
        ``features``, ``embeddings`` (when used), ``cross-validation`` (per fold) and
        ``ranking``, each from ``done=0`` to ``done=total``.

    Returns
    -------
    LabelQualityResult

    Raises
    ------
    LabelError
        Lengths differ, a label is not text, or fewer than two classes have
        ``min_class_size`` examples (the message lists the class counts).
    """
    from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
    from cleanlab.rank import get_label_quality_scores

    config = config or LabelIssueConfig()
    _check_inputs(texts, labels)
    n = len(texts)
    given = [lab if lab else None for lab in labels]
    counts = Counter(lab for lab in given if lab is not None)
    classes = tuple(sorted(c for c, k in counts.items() if k >= config.min_class_size))
    rare = sorted((c for c in counts if c not in classes), key=lambda c: (-counts[c], c))
    if len(classes) < 2:
        shown = ", ".join(f"{c!r}: {k}" for c, k in counts.most_common(10)) or "none"
        raise LabelError(
            "label errors can only be found with at least two classes of at least "
            f"{config.min_class_size} examples each; label counts: {shown}. Label more "
            "examples, or merge rare classes"
        )
    reasons = [
        UNLABELLED if lab is None else ("" if lab in classes else RARE_CLASS) for lab in given
    ]
    checked = np.asarray([i for i, r in enumerate(reasons) if r == ""], dtype=np.int64)
    index = {c: j for j, c in enumerate(classes)}
    y = np.asarray([index[given[i]] for i in checked], dtype=np.int64)  # type: ignore[index]
    texts_checked = [texts[i] for i in checked]
    rare_rows = np.asarray([i for i, r in enumerate(reasons) if r == RARE_CLASS], dtype=np.int64)
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    report(progress, "features", 0, 1)
    kind = _resolve_features(config, len(checked) + len(rare_rows))
    x_all, feature_name = text_features(
        texts_checked + [texts[i] for i in rare_rows],
        features=kind,
        config=config,
        progress=progress,
    )
    x = x_all[: len(checked)]
    x_rare = x_all[len(checked) :] if len(rare_rows) else None
    report(progress, "features", 1, 1)
    seconds["features"] = time.perf_counter() - start

    start = time.perf_counter()
    k = config.folds or (10 if len(checked) <= 1_000 else 5 if len(checked) <= 4_000 else 3)
    groups = np.unique(normalise_all(texts_checked), return_inverse=True)[1]
    # A fold needs a member of the largest class and a group of its own.
    k = max(2, min(k, int(np.bincount(y).max()), int(groups.max()) + 1))
    splits = _folds(y, groups, k, config.seed)
    n_jobs = config.n_jobs or (1 if len(checked) <= 1_000 else min(2, os.cpu_count() or 1))
    probs, rare_probs = _out_of_sample_probs(
        x, y, len(classes), splits, config.C, n_jobs, progress, x_rare
    )
    seconds["cross-validation"] = time.perf_counter() - start

    start = time.perf_counter()
    report(progress, "ranking", 0, 1)
    quality = get_label_quality_scores(y, probs, method="self_confidence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flagged = cleanlab_find_label_issues(
            y, probs, filter_by=config.filter_by, return_indices_ranked_by="self_confidence"
        )
    top = probs.argmax(axis=1)
    report(progress, "ranking", 1, 1)
    seconds["ranking"] = time.perf_counter() - start

    quality_scores: list[float | None] = [None] * n
    suggested: list[str | None] = [None] * n
    is_issue = [False] * n
    for row, i in enumerate(checked):
        quality_scores[i] = float(quality[row])
        suggested[i] = classes[int(top[row])]
    issues = []
    for row in np.asarray(flagged, dtype=np.int64):
        i = int(checked[row])
        is_issue[i] = True
        reasons[i] = "label issue"
        # The suggestion is the best class other than the given one.
        ranked = np.argsort(-probs[row], kind="stable")
        best = int(ranked[0]) if int(ranked[0]) != int(y[row]) else int(ranked[1])
        suggested[i] = classes[best]
        issues.append(LabelIssue(i, str(given[i]), classes[best], float(quality[row])))
    # A rare-class example is flagged by confident learning's own rule for a label outside the
    # learnt classes: the models agree it belongs to class j at least as confidently as the
    # average example labelled j does (cleanlab's per-class threshold t_j).
    if len(rare_rows):
        thresholds = np.asarray(
            [probs[y == j, j].mean() if np.any(y == j) else 1.0 for j in range(len(classes))]
        )
        best = rare_probs.argmax(axis=1)
        for row, i in enumerate(rare_rows):
            j = int(best[row])
            score = float(1.0 - rare_probs[row, j])
            quality_scores[int(i)] = score
            suggested[int(i)] = classes[j]
            if rare_probs[row, j] >= thresholds[j]:
                is_issue[int(i)] = True
                reasons[int(i)] = "label issue (rare class)"
                issues.append(LabelIssue(int(i), str(given[int(i)]), classes[j], score))
    issues.sort(key=lambda issue: (issue.quality_score, issue.index))
    info = {
        "features": feature_name,
        "folds": k,
        "n_jobs": n_jobs,
        "C": config.C,
        "model": "logistic-regression",
        "filter_by": config.filter_by,
        "checked": len(checked),
        "unlabelled": reasons.count(UNLABELLED),
        "unchecked_classes": {c: counts[c] for c in rare},
        "estimated_issues": len(issues),
        "rare_class_issues": sum(1 for r in reasons if r == "label issue (rare class)"),
        "cv_accuracy": float(np.mean(top == y)),
        "seconds": seconds,
    }
    return LabelQualityResult(
        issues=issues,
        quality_scores=quality_scores,
        suggested=suggested,
        is_issue=is_issue,
        reasons=reasons,
        classes=classes,
        pred_probs=probs,
        info=info,
    )


def find_label_issues(
    texts: list[str],
    labels: list[str],
    *,
    config: LabelIssueConfig | None = None,
    progress: ProgressFn | None = None,
    **options: Any,
) -> list[LabelIssue]:
    """Suspected label errors, worst first.

    Out-of-sample class probabilities come from cross-validated logistic regression over text
    features (see `LabelIssueConfig`); cleanlab's confident learning decides how many labels
    look wrong and ranks them by label quality.

    Parameters
    ----------
    texts:
        One text per example.
    labels:
        The given label of each text (None or ``""``: unlabelled, not checked).
    config:
        A `LabelIssueConfig`.
    progress:
        Optional `curation.progress.ProgressFn`, sent a `ProgressUpdate` per stage step.
    **options:
        Instead of `config`: its fields as keywords (``features="tfidf"``, ``folds=5``...).

    Returns
    -------
    list[LabelIssue]
        ``index``, ``given_label``, ``suggested_label``, ``quality_score``; lowest quality first.

    Examples
    --------
    >>> issues = find_label_issues(texts, labels)  # doctest: +SKIP
    >>> [(i.index, i.given_label, i.suggested_label) for i in issues[:3]]  # doctest: +SKIP
    """
    if config is not None and options:
        raise LabelError("give either config or keyword options, not both")
    if options:
        allowed = set(LabelIssueConfig.__dataclass_fields__)
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise LabelError(f"unknown option(s) {unknown}; allowed: {sorted(allowed)}")
        config = LabelIssueConfig(**options)
    return rank_label_quality(texts, labels, config=config, progress=progress).issues
