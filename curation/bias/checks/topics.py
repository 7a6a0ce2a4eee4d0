"""Topic coverage: k-means clusters over TF-IDF vectors of prompt and answer, their top terms and
sizes, and how much of the data the largest topics hold.

What a dataset is mostly about is what the model gets best at; a topic with a third of the
examples crowds out the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from curation.bias.base import AuditCheck, AuditRow, Bar, Chart, CheckOutput, Tick
from curation.bias.codes import topic_code
from curation.bias.data_set import AuditData
from curation.quality.settings import CheckSettings, require_fraction, require_int

__all__ = ["TopicCoverage", "TopicCoverageSettings", "topic_count"]

TEXT_CHARS = 3000  # of each prompt and answer: what an example is about shows early


def topic_count(n: int, requested: int = 0, *, most: int = 20) -> int:
    """Topics for `n` examples: `requested` when given, else ``sqrt(n / 5)`` within [2, most]
    (4 for 100 examples, 14 for 1,000, 20 from 2,000 on)."""
    if requested:
        return max(2, min(requested, n))
    return max(2, min(most, round(math.sqrt(n / 5))))


@dataclass(frozen=True, slots=True)
class TopicCoverageSettings(CheckSettings):
    """How topics are found and when one holds too much of the data.

    Attributes
    ----------
    n_topics:
        Clusters to find; 0 = ``sqrt(n / 5)`` within [2, 20] (see `topic_count`).
    top_terms:
        Terms that name a topic: 6.
    largest:
        How many of the largest topics the concentration share sums: 3.
    dominant_share:
        Share of the examples in one topic from which it is a warning (with 5 topics or more):
        0.3. k-means on TF-IDF often makes one loose "everything else" cluster, so a large
        topic whose terms are generic words is worth reading before acting on.
    min_examples:
        Examples needed to look for topics at all: 20.
    max_features:
        Vocabulary size of the vectors: 10,000 (words in at least 2 examples and at most half
        of them, English stop words left out).
    seed:
        k-means' random seed, so a run is reproducible.
    """

    n_topics: int = 0
    top_terms: int = 6
    largest: int = 3
    dominant_share: float = 0.3
    min_examples: int = 20
    max_features: int = 10_000
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_int(name, "n_topics", self.n_topics, low=0, high=500)
        require_int(name, "top_terms", self.top_terms, low=1, high=50)
        require_int(name, "largest", self.largest, low=1, high=50)
        require_fraction(name, "dominant_share", self.dominant_share)
        require_int(name, "min_examples", self.min_examples, low=4)
        require_int(name, "max_features", self.max_features, low=10)
        require_int(name, "seed", self.seed, low=0)


class TopicCoverage(AuditCheck):
    """Clusters examples into topics (scikit-learn's TF-IDF and k-means), names each by the
    heaviest terms of its centroid, and reports how concentrated the data is."""

    code = "topics"
    title = "Topic coverage"
    description = (
        "Clusters of examples by their words, with each cluster's top terms and size: the "
        "largest topics are what the model will be best at, the smallest what it will barely see."
    )
    Settings = TopicCoverageSettings
    settings: TopicCoverageSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        from sklearn.cluster import KMeans
        from sklearn.feature_extraction.text import TfidfVectorizer

        s = self.settings
        out = CheckOutput()
        subjects = data.coverage
        if len(subjects) < s.min_examples:
            out.message = (
                f"Too few examples ({len(subjects)}) to look for topics (needs {s.min_examples})."
            )
            return out
        texts = [f"{x.prompt[:TEXT_CHARS]}\n{x.answer[:TEXT_CHARS]}" for x in subjects]
        tick(0, 3)
        vectorizer = TfidfVectorizer(
            stop_words="english",
            max_features=s.max_features,
            min_df=2,
            max_df=0.5,
            sublinear_tf=True,
            dtype=np.float32,
            token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",  # words of 2+ letters, no numbers
        )
        try:
            vectors = vectorizer.fit_transform(texts)
        except ValueError:  # no word in two examples: nothing to cluster on
            out.message = "The examples share too few words to find topics."
            return out
        k = topic_count(len(subjects), s.n_topics)
        tick(1, 3)
        model = KMeans(n_clusters=k, n_init=2, random_state=s.seed).fit(vectors)
        tick(2, 3)
        labels = model.labels_
        centres = np.asarray(model.cluster_centers_)
        terms = vectorizer.get_feature_names_out()
        sizes = np.bincount(labels, minlength=k)
        order = [int(c) for c in np.argsort(-sizes, kind="stable") if sizes[c]]
        number = {c: i + 1 for i, c in enumerate(order)}  # topic 1 is the largest
        names: dict[int, list[str]] = {}
        for c in order:
            heaviest = np.argsort(-centres[c])[: s.top_terms]
            names[c] = [str(terms[t]) for t in heaviest if centres[c][t] > 0]
        # cosine to the topic's centre: how typical an example is of its topic
        norms = np.linalg.norm(centres, axis=1)
        similarity = np.asarray(vectors.multiply(centres[labels]).sum(axis=1)).ravel()
        similarity = similarity / np.maximum(norms[labels], 1e-12)
        for subject, c, sim in zip(subjects, labels, similarity, strict=True):
            c = int(c)
            out.rows.append(
                AuditRow(
                    subject.id,
                    topic_code(number[c]),
                    round(float(min(1.0, max(0.0, sim))), 4),
                    None,
                    {"topic": number[c], "terms": ", ".join(names[c][:4])},
                )
            )
        n = len(subjects)
        topics: list[dict[str, Any]] = [
            {
                "topic": number[c],
                "size": int(sizes[c]),
                "share": round(float(sizes[c]) / n, 4),
                "terms": names[c],
            }
            for c in order
        ]
        out.charts.append(
            Chart(
                f"{self.code}:sizes",
                f"Examples per topic ({k} k-means clusters)",
                "bar",
                "examples",
                "topic",
                tuple(
                    Bar(
                        f"{t['topic']}: {', '.join(t['terms'][:3])}",
                        t["size"],
                        t["size"],
                        (topic_code(t["topic"]),),
                        detail=f"{t['share']:.1%}; terms: {', '.join(t['terms'])}",
                    )
                    for t in topics
                ),
                sort="given",
            )
        )
        largest = topics[: s.largest]
        share = sum(t["share"] for t in largest)
        named = "; ".join(f"{', '.join(t['terms'][:3])} ({t['share']:.0%})" for t in largest)
        smallest = topics[-2:] if len(topics) > s.largest + 1 else topics[-1:]
        small = "; ".join(f"{', '.join(t['terms'][:3])} ({t['size']})" for t in smallest)
        ids_largest = [
            r.example_id for r in out.rows if int(r.data.get("topic", 0)) <= len(largest)
        ]
        out.findings.append(
            self.finding(
                "info",
                f"The {len(largest)} largest of {len(topics)} topics hold {share:.0%} of the "
                f"examples: {named}. Smallest: {small}.",
                metric="largest_topics_share",
                value=share,
                example_ids=ids_largest,
                weight=share,
            )
        )
        top = topics[0]
        if len(topics) >= 5 and top["share"] >= s.dominant_share:
            out.findings.append(
                self.finding(
                    "warning",
                    f"Topic {', '.join(top['terms'][:4])!r} holds {top['share']:.0%} of the "
                    f"examples ({top['size']} of {n}; an even share is {1 / len(topics):.0%}): "
                    f"downsample it or add examples on the small topics ({small}).",
                    metric="topic_share",
                    value=top["share"],
                    threshold=s.dominant_share,
                    group=str(top["topic"]),
                    example_ids=[r.example_id for r in out.rows if r.data.get("topic") == 1],
                    codes=(topic_code(1),),
                    weight=top["share"] / s.dominant_share,
                )
            )
        out.info = {"n_topics": k, "topics": topics, "largest_share": round(share, 4)}
        out.message = (
            f"{len(topics)} topics; the {len(largest)} largest hold {share:.0%} of the examples."
        )
        return out
