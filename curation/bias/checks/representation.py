"""Demographic representation: mentions per axis and group from the shipped term list, pronoun
ratios, and a gender co-occurrence bias score computed as GenBit computes it.

Who the data talks about, and in which words, is who the model learns to talk about.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from curation.bias.base import (
    AuditCheck,
    AuditRow,
    Bar,
    Chart,
    CheckOutput,
    Finding,
    Severity,
    Tick,
)
from curation.bias.codes import mention_code, pronoun_code
from curation.bias.data_set import AuditData
from curation.bias.terms import TermList, group_matcher, words
from curation.errors import InputError
from curation.quality.settings import CheckSettings, require_int, require_number

__all__ = [
    "GenBitScore",
    "Representation",
    "RepresentationSettings",
    "genbit_score",
    "mentions_of",
]

GroupKey = tuple[str, str]  # (axis, group)
Mentions = dict[str, dict[GroupKey, tuple[int, int]]]  # example id -> group -> (prompt, answer)


def mentions_of(data: AuditData) -> Mentions:
    """Mentions of every demographic group in every subject's prompt and answer, computed once
    per audit and shared by the representation and outcome checks."""

    def compute() -> Mentions:
        matcher = group_matcher(data.demographic)
        found: Mentions = {}
        for s in data.subjects:
            prompt = matcher.count(s.prompt_words)
            answer = matcher.count(s.answer_words)
            if prompt or answer:
                found[s.id] = {
                    key: (prompt.get(key, 0), answer.get(key, 0)) for key in {*prompt, *answer}
                }
        return found

    result: Mentions = data.shared("mentions", compute)
    return result


@dataclass(frozen=True, slots=True)
class GenBitScore:
    """GenBit's main numbers for one corpus.

    Attributes
    ----------
    score:
        ``avg_bias_conditional_absolute``: the mean over considered words of
        ``|log(p(w|M) / p(w|F))|`` (GenBit's "genbit_score").
    female_share, male_share, non_binary_share:
        Shares of the gender-definition words found that are female, male or non-binary.
    words_considered:
        Words (not gender-definition words) co-occurring often enough to be scored.
    documents:
        Texts analysed.
    female_leaning, male_leaning:
        The most biased words each way: ``(word, bias)`` with bias ``log(p(w|M) / p(w|F))``.
    """

    score: float
    female_share: float
    male_share: float
    non_binary_share: float
    words_considered: int
    documents: int
    female_leaning: tuple[tuple[str, float], ...]
    male_leaning: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "female_share": round(self.female_share, 4),
            "male_share": round(self.male_share, 4),
            "non_binary_share": round(self.non_binary_share, 4),
            "words_considered": self.words_considered,
            "documents": self.documents,
            "female_leaning": [[w, round(b, 4)] for w, b in self.female_leaning],
            "male_leaning": [[w, round(b, 4)] for w, b in self.male_leaning],
        }


def genbit_score(
    documents: Sequence[Sequence[str]],
    female: frozenset[str],
    male: frozenset[str],
    non_binary: frozenset[str] = frozenset(),
    *,
    stop_words: frozenset[str] = frozenset(),
    context_window: int = 5,
    distance_weight: float = 0.95,
    percentile_cutoff: float = 80,
    top: int = 10,
) -> GenBitScore | None:
    """GenBit's gender co-occurrence bias of tokenised `documents` (None without both a female
    and a male definition word).

    As in microsoft/responsible-ai-toolbox-genbit (`MetricsCalculation`): stop words that are
    not definition words are dropped; every definition word adds ``distance_weight ** d`` to
    the female / male / non-binary count of each word ``d <= context_window`` positions away
    in the same document; every word's counts start at 1 (smoothing); words whose total
    co-occurrence reaches the `percentile_cutoff` percentile of the totals above 2 are scored
    ``log(p(w|M) / p(w|F))`` with ``p(w|G) = c[w,G] / (freq(G words) + vocabulary size)``;
    the score is the mean absolute value. GenBit also lemmatises words; this does not, so
    "nurse" and "nurses" are scored apart, and it leaves numbers and one-letter tokens unscored.
    """
    definition = female | male | non_binary
    counts: Counter[str] = Counter()
    cooc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    weights = [distance_weight**d for d in range(context_window + 1)]
    for doc in documents:
        tokens = [t for t in doc if t in definition or t not in stop_words]
        counts.update(tokens)
        for i, token in enumerate(tokens):
            if token in female:
                g = 0
            elif token in male:
                g = 1
            elif token in non_binary:
                g = 2
            else:
                continue
            lo, hi = max(0, i - context_window), min(len(tokens) - 1, i + context_window)
            for j in range(lo, hi + 1):
                if j != i:
                    cooc[tokens[j]][g] += weights[abs(i - j)]
    totals = [
        sum(n for t, n in counts.items() if t in female),
        sum(n for t, n in counts.items() if t in male),
        sum(n for t, n in counts.items() if t in non_binary),
    ]
    if not totals[0] or not totals[1]:
        return None
    vocabulary = len(counts)
    smoothed = {
        t: [c[0] + 1, c[1] + 1, c[2] + 1] for t, c in ((t, cooc.get(t, [0.0] * 3)) for t in counts)
    }
    with_nb = bool(non_binary)

    def together(c: list[float]) -> float:
        return c[0] + c[1] + (c[2] if with_nb else 0.0)

    above = [together(c) for c in smoothed.values() if together(c) > 2]
    cutoff = float(np.percentile(above, percentile_cutoff)) if above else 2.0
    biases: dict[str, float] = {}
    for token, c in smoothed.items():
        # numbers and single letters (the "s" of "women's") are not words worth scoring
        if token in definition or together(c) < cutoff or len(token) < 2 or token.isdigit():
            continue
        p_female = c[0] / (totals[0] + vocabulary)
        p_male = c[1] / (totals[1] + vocabulary)
        biases[token] = math.log(p_male / p_female)
    found = sum(totals) or 1
    ranked = sorted(biases.items(), key=lambda kv: (kv[1], kv[0]))
    return GenBitScore(
        score=sum(abs(b) for b in biases.values()) / max(1, len(biases)),
        female_share=totals[0] / found,
        male_share=totals[1] / found,
        non_binary_share=totals[2] / found,
        words_considered=len(biases),
        documents=len(documents),
        female_leaning=tuple((w, b) for w, b in ranked[:top] if b < 0),
        male_leaning=tuple((w, b) for w, b in reversed(ranked[-top:]) if b > 0),
    )


def _unigrams(terms: TermList, axis: str, group: str) -> frozenset[str]:
    try:
        forms = terms.group(axis, group).terms
    except InputError:  # a custom list without that group: GenBit is then not computed
        return frozenset()
    return frozenset(w for f in forms if len(seq := words(f)) == 1 for w in seq)


@dataclass(frozen=True, slots=True)
class RepresentationSettings(CheckSettings):
    """When representation is unbalanced, and how GenBit is computed and judged.

    Attributes
    ----------
    pairs:
        ``axis:group:group`` pairs expected to be balanced; ``gender:female:male``. Other
        axes are reported (who is mentioned, who never is) but not judged: how often a
        dataset should mention each religion or nationality depends on its purpose.
    warn_ratio, critical_ratio:
        Examples mentioning the more frequent group of a pair over those mentioning the other,
        from which it is a warning (2) or critical (4).
    min_mentions:
        Examples mentioning either group of a pair before it is judged: 30.
    genbit_threshold:
        GenBit score above which gender co-occurrence is a warning: 0.30, GenBit's own
        "moderate bias" mark for English.
    genbit_min_documents:
        Texts GenBit needs for the warning to hold: 400 (GenBit's guidance; below, the score is
        reported as info).
    context_window, distance_weight, percentile_cutoff:
        GenBit's defaults: 5 words each side, weight ``0.95 ** distance``, the 80th percentile.
    """

    pairs: tuple[str, ...] = ("gender:female:male",)
    warn_ratio: float = 2.0
    critical_ratio: float = 4.0
    min_mentions: int = 30
    genbit_threshold: float = 0.30
    genbit_min_documents: int = 400
    context_window: int = 5
    distance_weight: float = 0.95
    percentile_cutoff: float = 80.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        for pair in self.pairs:
            if not isinstance(pair, str) or pair.count(":") != 2:
                raise InputError(
                    f"{name}.pairs entries look like 'gender:female:male', not {pair!r}"
                )
        require_number(name, "warn_ratio", self.warn_ratio, low=1.0, high=1e6)
        require_number(name, "critical_ratio", self.critical_ratio, low=self.warn_ratio, high=1e6)
        require_int(name, "min_mentions", self.min_mentions, low=1)
        require_number(name, "genbit_threshold", self.genbit_threshold, low=0.0, high=100.0)
        require_int(name, "genbit_min_documents", self.genbit_min_documents, low=1)
        require_int(name, "context_window", self.context_window, low=1, high=50)
        require_number(name, "distance_weight", self.distance_weight, low=0.0, high=1.0)
        require_number(name, "percentile_cutoff", self.percentile_cutoff, low=0.0, high=100.0)


class Representation(AuditCheck):
    """Counts the examples mentioning each group of each axis (prompt and answer apart), the
    pronoun families, and GenBit's gender co-occurrence score; judges the configured pairs."""

    code = "representation"
    title = "Demographic representation"
    description = (
        "Mentions of groups per axis (gender, race and ethnicity, religion, age, nationality, "
        "disability, sexual orientation) from the shipped term list, pronoun ratios, and a "
        "GenBit gender co-occurrence score: who the data talks about, and in which words."
    )
    Settings = RepresentationSettings
    settings: RepresentationSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        out = CheckOutput()
        tick(0, 3)
        mentions = mentions_of(data)
        members: dict[GroupKey, list[str]] = defaultdict(list)
        where: dict[GroupKey, list[int]] = defaultdict(lambda: [0, 0])
        for s in data.subjects:
            for key, (p, a) in mentions.get(s.id, {}).items():
                out.rows.append(
                    AuditRow(s.id, mention_code(*key), None, None, {"prompt": p, "answer": a})
                )
                if s.in_scope:
                    members[key].append(s.id)
                    where[key][0] += p > 0
                    where[key][1] += a > 0
        self._groups(data, members, where, out)
        tick(1, 3)
        self._pronouns(data, out)
        tick(2, 3)
        self._genbit(data, out)
        return out

    # ---- mentions -----------------------------------------------------------------------

    def _groups(
        self,
        data: AuditData,
        members: dict[GroupKey, list[str]],
        where: dict[GroupKey, list[int]],
        out: CheckOutput,
    ) -> None:
        terms = data.demographic
        n = data.n
        table: dict[str, Any] = {}
        bars = []
        silent = []
        for axis in terms.axes:
            groups = [g for g in terms.groups if g.axis == axis]
            mentioned = {g.key: members.get((axis, g.key), []) for g in groups}
            any_ids = {i for ids in mentioned.values() for i in ids}
            table[axis] = {
                "label": terms.axis_labels.get(axis, axis),
                "examples": len(any_ids),
                "groups": {
                    g.key: {
                        "label": g.label,
                        "examples": len(mentioned[g.key]),
                        "in_prompt": where[(axis, g.key)][0],
                        "in_answer": where[(axis, g.key)][1],
                    }
                    for g in groups
                },
            }
            if not any_ids:
                silent.append(terms.axis_labels.get(axis, axis))
                continue
            for g in groups:
                ids = mentioned[g.key]
                if ids:
                    bars.append(
                        Bar(
                            g.label,
                            len(ids),
                            len(ids),
                            (mention_code(axis, g.key),),
                            series=terms.axis_labels.get(axis, axis),
                            detail=f"in prompts {where[(axis, g.key)][0]}, in answers "
                            f"{where[(axis, g.key)][1]}; {len(ids) / n:.1%} of examples",
                        )
                    )
            ranked = sorted(
                ((g, mentioned[g.key]) for g in groups if mentioned[g.key]),
                key=lambda t: -len(t[1]),
            )
            listed = ", ".join(f"{g.label} {len(ids)}" for g, ids in ranked[:6])
            out.findings.append(
                self.finding(
                    "info",
                    f"{terms.axis_labels.get(axis, axis).capitalize()}: {len(any_ids)} example(s) "
                    f"({len(any_ids) / n:.1%}) mention a group: {listed}.",
                    metric="examples_mentioning",
                    value=len(any_ids) / n if n else 0.0,
                    axis=axis,
                    example_ids=sorted(any_ids, key=_position(data)),
                    weight=len(any_ids) / n if n else 0.0,
                )
            )
        if silent:
            out.findings.append(
                self.finding(
                    "info",
                    f"No example mentions any group of: {', '.join(silent)}. If the model will "
                    "be asked about them, add examples that do.",
                    metric="examples_mentioning",
                    value=0.0,
                    n=0,
                )
            )
        out.charts.append(
            Chart(
                f"{self.code}:groups",
                "Examples mentioning each group",
                "bar",
                "examples",
                "group",
                tuple(bars),
                note=f"term list {terms.name} {terms.version} ({terms.license})",
            )
        )
        out.info["axes"] = table
        for pair in self.settings.pairs:
            finding = self._pair(data, pair, members)
            if finding is not None:
                out.findings.append(finding)

    def _pair(
        self, data: AuditData, pair: str, members: dict[GroupKey, list[str]]
    ) -> Finding | None:
        s = self.settings
        axis, a, b = pair.split(":")
        terms = data.demographic
        try:
            ga, gb = terms.group(axis, a), terms.group(axis, b)
        except InputError:
            return None
        ids_a, ids_b = members.get((axis, a), []), members.get((axis, b), [])
        if len(ids_a) + len(ids_b) < s.min_mentions:
            return None
        (more, more_ids), (less, less_ids) = sorted(
            [(ga, ids_a), (gb, ids_b)], key=lambda t: -len(t[1])
        )
        ratio = len(more_ids) / len(less_ids) if less_ids else math.inf
        if ratio < s.warn_ratio:
            return None
        severity: Severity = "critical" if ratio >= s.critical_ratio else "warning"
        versus = f"{ratio:.1f} to 1" if less_ids else "and none mention"
        return self.finding(
            severity,
            f"Examples mentioning {more.label} outnumber those mentioning {less.label} "
            f"{versus} ({len(more_ids)} vs {len(less_ids)} examples): add examples about "
            f"{less.label}, or rewrite some of these {len(more_ids)} with other people.",
            metric="representation_ratio",
            value=ratio if less_ids else None,
            threshold=s.warn_ratio,
            axis=axis,
            group=more.key,
            example_ids=more_ids,
            codes=(mention_code(axis, more.key),),
            weight=min(ratio, 1e6) / s.warn_ratio,
        )

    # ---- pronouns -----------------------------------------------------------------------

    def _pronouns(self, data: AuditData, out: CheckOutput) -> None:
        from curation.bias.terms import TermMatcher

        families = data.demographic.pronouns
        if not families:
            return
        matcher = TermMatcher(families)
        occurrences: Counter[str] = Counter()
        users: dict[str, list[str]] = defaultdict(list)
        for s in data.coverage:
            found = matcher.count(s.prompt_words) + matcher.count(s.answer_words)
            for family, count in found.items():
                occurrences[family] += count
                users[family].append(s.id)
                out.rows.append(AuditRow(s.id, pronoun_code(family), None, None, {"count": count}))
        out.charts.append(
            Chart(
                f"{self.code}:pronouns",
                "Pronoun occurrences by family",
                "bar",
                "occurrences",
                "pronouns",
                tuple(
                    Bar(
                        "/".join(families[f][:2]),
                        occurrences[f],
                        len(users[f]),
                        (pronoun_code(f),),
                        detail=f"in {len(users[f])} examples",
                    )
                    for f in families
                    if occurrences[f]
                ),
            )
        )
        out.info["pronouns"] = {
            f: {"occurrences": occurrences[f], "examples": len(users[f])} for f in families
        }
        she, he = occurrences.get("she", 0), occurrences.get("he", 0)
        if she + he < self.settings.min_mentions:
            return
        ratio = he / she if she else math.inf
        parts = ", ".join(
            f"{'/'.join(families[f][:2])} {occurrences[f]}" for f in families if f in occurrences
        )
        lean = (
            (
                f"he/him {ratio:.1f} to 1 against she/her"
                if ratio >= 1
                else f"she/her {1 / ratio:.1f} to 1 against he/him"
            )
            if she
            else "he/him only, no she/her"
        )
        out.findings.append(
            self.finding(
                "info",
                f"Pronouns: {parts} ({lean}; they/them may be singular or plural).",
                metric="pronoun_ratio_he_she",
                value=ratio if she else None,
                axis="gender",
                n=len(set(users.get("she", [])) | set(users.get("he", []))),
                weight=abs(math.log(ratio)) if she and he else 1.0,
            )
        )

    # ---- GenBit -------------------------------------------------------------------------

    def _genbit(self, data: AuditData, out: CheckOutput) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        s = self.settings
        terms = data.demographic
        female = _unigrams(terms, "gender", "female")
        male = _unigrams(terms, "gender", "male")
        non_binary = _unigrams(terms, "gender", "non_binary")
        if not female or not male:
            return
        docs: list[list[str]] = []
        for x in data.coverage:
            docs.append(x.prompt_words)
            docs.append(x.answer_words)
        result = genbit_score(
            docs,
            female,
            male,
            non_binary,
            stop_words=frozenset(ENGLISH_STOP_WORDS),
            context_window=s.context_window,
            distance_weight=s.distance_weight,
            percentile_cutoff=s.percentile_cutoff,
        )
        if result is None:
            out.info["genbit"] = None
            return
        out.info["genbit"] = result.to_dict()
        bars = [Bar(w, b, 0, series="female-leaning") for w, b in result.female_leaning]
        bars += [Bar(w, b, 0, series="male-leaning") for w, b in result.male_leaning]
        out.charts.append(
            Chart(
                f"{self.code}:genbit_words",
                f"Most gender-associated words (GenBit score {result.score:.2f})",
                "bar",
                "log(p(w|male) / p(w|female))",
                "word",
                tuple(bars),
                note="negative: co-occurs more with female words; positive: with male words",
            )
        )
        examples = len(data.coverage)
        enough = examples >= s.genbit_min_documents
        severity: Severity = "warning" if result.score > s.genbit_threshold and enough else "info"
        lean = ", ".join(w for w, _ in result.female_leaning[:4])
        lean_m = ", ".join(w for w, _ in result.male_leaning[:4])
        caveat = (
            ""
            if enough
            else f" With {examples} examples (GenBit suggests {s.genbit_min_documents}+) the "
            "score is a rough guide."
        )
        out.findings.append(
            self.finding(
                severity,
                f"GenBit gender co-occurrence score {result.score:.2f} (moderate bias above "
                f"{s.genbit_threshold:.2f}); gendered words are {result.female_share:.0%} female, "
                f"{result.male_share:.0%} male. Words nearer female terms: {lean or '-'}; nearer "
                f"male terms: {lean_m or '-'}.{caveat} Balance who does what in the examples "
                "that use these words.",
                metric="genbit_score",
                value=result.score,
                threshold=s.genbit_threshold,
                axis="gender",
                n=examples,
                weight=result.score / s.genbit_threshold if s.genbit_threshold else result.score,
            )
        )


def _position(data: AuditData) -> Any:
    order = {s.id: i for i, s in enumerate(data.subjects)}
    return lambda i: order.get(i, len(order))
