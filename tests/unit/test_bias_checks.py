"""Known-answer tests of each bias check: hand-built texts with counted mentions and pronouns,
a label skewed per group, a language mix, two clear topics, offensive terms, GenBit by hand.

The builders here (`ex`, `audit`, `skewed_examples`) are shared by the other bias tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from curation.bias import AuditConfig, AuditReport, Finding, run_audit
from curation.bias.checks.lengths import token_bin
from curation.bias.checks.representation import genbit_score
from curation.bias.codes import label_code, mention_code, offensive_code, topic_code
from curation.bias.terms import TermMatcher, demographic_terms, group_matcher, words
from curation.records import Example, Message

JOBS = ["nurse", "engineer", "teacher", "pilot", "baker", "chemist", "farmer", "lawyer"]


def ex(
    prompt: str,
    answer: str,
    *,
    ident: str,
    metadata: dict[str, Any] | None = None,
    system: str | None = None,
) -> Example:
    messages = [Message("system", system)] if system else []
    messages += [Message("user", prompt), Message("assistant", answer)]
    return Example(ident, messages, metadata=dict(metadata or {}))


def audit(
    examples: Sequence[Example | tuple[Example, str]], *checks: str, **settings: Any
) -> AuditReport:
    return run_audit(examples, AuditConfig(checks=checks or None, settings=settings))


def findings(report: AuditReport, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def skewed_examples() -> list[tuple[Example, str]]:
    """100 examples: 40 about a woman (20 rejected), 40 about a man (4 rejected), 20 with no
    gender term (2 rejected). Categories: open_qa for people, classification for the rest."""
    out: list[tuple[Example, str]] = []
    for i in range(40):
        job = JOBS[i % len(JOBS)]
        out.append(
            (
                ex(
                    f"Write a short note about a woman who works as a {job} ({i}).",
                    f"She has worked as a {job} for {i + 2} years and loves the work.",
                    ident=f"w{i}",
                    metadata={"category": "open_qa"},
                ),
                "rejected" if i < 20 else "active",
            )
        )
    for i in range(40):
        job = JOBS[i % len(JOBS)]
        out.append(
            (
                ex(
                    f"Write a short note about a man who works as a {job} ({i}).",
                    f"He has worked as a {job} for {i + 2} years and loves the work.",
                    ident=f"m{i}",
                    metadata={"category": "open_qa"},
                ),
                "rejected" if i < 4 else "active",
            )
        )
    for i in range(20):
        out.append(
            (
                ex(
                    f"Is {i * 7} an even number?",
                    "Yes." if i % 2 == 0 else "No.",
                    ident=f"n{i}",
                    metadata={"category": "classification"},
                ),
                "rejected" if i < 2 else "active",
            )
        )
    return out


# ---- term matching and mentions ------------------------------------------------------------


def test_words_split_on_hyphens_and_apostrophes() -> None:
    assert words("Non-binary women's NURSES, 3rd") == [
        "non",
        "binary",
        "women",
        "s",
        "nurses",
        "3rd",
    ]


def test_matcher_counts_single_and_multi_word_terms() -> None:
    matcher = TermMatcher({"a": ["black women", "woman"], "b": ["women"], "c": ["trans woman"]})
    tokens = words("Black women and a trans woman met a woman; women, too.")
    # "black women" 1 (a), "women" twice (b), "woman" twice (a), "trans woman" 1 (c)
    assert matcher.count(tokens) == {"a": 3, "b": 2, "c": 1}
    assert matcher.count(words("nothing here")) == {}


def test_hand_counted_mentions_and_pronouns() -> None:
    text = (
        "She told her sister that the men and a non-binary friend were Muslims; "
        "he said his grandparents visited Nigeria and the mosque."
    )
    counts = group_matcher(demographic_terms()).count(words(text))
    assert counts[("gender", "female")] == 3  # she, her, sister
    assert counts[("gender", "male")] == 3  # men, he, his
    assert counts[("gender", "non_binary")] == 1  # non-binary
    assert counts[("religion", "muslim")] == 2  # Muslims, mosque
    assert counts[("age", "older")] == 1  # grandparents
    assert counts[("nationality", "nigeria")] == 1
    assert sum(counts.values()) == 11
    families = TermMatcher(demographic_terms().pronouns).count(words(text))
    assert families == {"she": 2, "he": 2}


def test_colour_and_language_words_alone_are_not_mentions() -> None:
    counts = group_matcher(demographic_terms()).count(
        words("Translate 'white cat' into French and Chinese; the black box is Spanish.")
    )
    assert counts == {}


def test_representation_counts_examples_per_group_and_judges_gender_balance() -> None:
    examples = [
        ex(f"Tell me about a woman ({i}).", "She is fine.", ident=f"w{i}") for i in range(10)
    ]
    examples += [ex(f"Tell me about a man ({i}).", "He is fine.", ident=f"m{i}") for i in range(35)]
    examples += [ex("What is two plus two?", "Four.", ident="n0")]
    report = audit(examples, "representation")
    check = report.check("representation")
    assert check is not None
    groups = check.info["axes"]["gender"]["groups"]
    assert (groups["female"]["examples"], groups["male"]["examples"]) == (10, 35)
    assert (groups["female"]["in_prompt"], groups["female"]["in_answer"]) == (10, 10)
    [balance] = [f for f in check.findings if f.metric == "representation_ratio"]
    assert balance.severity == "warning"  # 35 / 10 = 3.5: past 2, short of 4
    assert balance.value == pytest.approx(3.5)
    assert balance.group == "male" and balance.n == 35
    assert balance.codes == (mention_code("gender", "male"),)
    assert "35 vs 10 examples" in balance.message
    rows = {r.example_id for r in check.rows if r.code == mention_code("gender", "female")}
    assert rows == {f"w{i}" for i in range(10)}
    pronouns = check.info["pronouns"]
    assert (pronouns["she"]["occurrences"], pronouns["he"]["occurrences"]) == (10, 35)


def test_representation_below_the_minimum_is_not_judged() -> None:
    examples = [ex("A woman asks.", "She waits.", ident="w0")]
    examples += [ex(f"A man asks ({i}).", "He waits.", ident=f"m{i}") for i in range(10)]
    report = audit(examples, "representation")
    assert not [f for f in report.findings if f.metric == "representation_ratio"]  # 11 < 30


# ---- GenBit -------------------------------------------------------------------------------


def test_genbit_score_by_hand() -> None:
    # "she nurse" and "he doctor": every word count starts at 1 (smoothing); nurse co-occurs with
    # a female word at distance 1 (0.95), doctor with a male one. p(nurse|F) = 1.95 / (1 + 4),
    # p(nurse|M) = 1 / (1 + 4): bias log(1 / 1.95) = -0.6678; doctor +0.6678; mean |bias| 0.6678.
    result = genbit_score(
        [["she", "nurse"], ["he", "doctor"]], frozenset({"she"}), frozenset({"he"})
    )
    assert result is not None
    assert result.score == pytest.approx(math.log(1.95), abs=1e-9)
    assert result.words_considered == 2
    assert result.female_leaning[0][0] == "nurse" and result.male_leaning[0][0] == "doctor"
    assert result.female_share == result.male_share == 0.5


def test_genbit_is_zero_when_both_genders_share_their_words() -> None:
    docs = [["she", "writes", "code"], ["he", "writes", "code"]] * 5
    result = genbit_score(docs, frozenset({"she"}), frozenset({"he"}))
    assert result is not None and result.score == pytest.approx(0.0, abs=1e-12)


def test_genbit_needs_both_genders() -> None:
    assert genbit_score([["she", "nurse"]], frozenset({"she"}), frozenset({"he"})) is None


# ---- labels -------------------------------------------------------------------------------


def _categories(counts: dict[str, int]) -> list[Example]:
    return [
        ex(
            f"Question {value} {i}?",
            f"Answer {i}.",
            ident=f"{value}{i}",
            metadata={"category": value},
        )
        for value, n in counts.items()
        for i in range(n)
    ]


def test_label_imbalance_warning_and_critical() -> None:
    report = audit(
        _categories({"open_qa": 50, "brainstorming": 30, "summarization": 10}), "label_balance"
    )
    [finding] = findings(report, "label_balance")
    assert finding.severity == "warning" and finding.value == pytest.approx(5.0)
    assert finding.field == "category" and finding.group == "open_qa" and finding.n == 50
    assert "'open_qa' is 56% of the data (50 of 90)" in finding.message
    assert "add examples to summarization" in finding.message
    report = audit(_categories({"a": 100, "b": 5}), "label_balance")
    assert findings(report, "label_balance")[0].severity == "critical"  # 20x
    report = audit(_categories({"a": 30, "b": 10}), "label_balance")
    assert findings(report, "label_balance") == []  # 3x: under 4


def test_label_rows_list_each_value_and_ids_are_not_labels() -> None:
    examples = [
        ex(
            f"Q{i}",
            "A",
            ident=f"e{i}",
            metadata={"category": "x" if i < 15 else "y", "uid": f"u{i}"},
        )
        for i in range(20)
    ]
    report = audit(examples, "label_balance")
    check = report.check("label_balance")
    assert check is not None
    assert list(check.info["fields"]) == ["category"]  # uid has a value per example
    assert check.info["fields"]["category"]["counts"] == {"x": 15, "y": 5}
    assert {r.example_id for r in check.rows if r.code == label_code("category", "y")} == {
        f"e{i}" for i in range(15, 20)
    }


def test_status_is_a_field_when_rejected_examples_are_read() -> None:
    report = audit(skewed_examples(), "label_balance")
    check = report.check("label_balance")
    assert check is not None
    assert check.info["fields"]["status"]["counts"] == {"active": 74, "rejected": 26}
    # coverage is the active examples only: 20 + 36 people, 18 classification
    assert check.info["fields"]["category"]["counts"] == {"open_qa": 56, "classification": 18}
    status = next(f for f in check.findings if f.field == "status")
    assert status.severity == "info"  # a verdict's spread is reported, not judged


# ---- lengths ------------------------------------------------------------------------------


def test_token_bins() -> None:
    assert [token_bin(n) for n in (0, 1, 8, 9, 16, 17, 4096, 4097, 10**6)] == [
        "0", "1-8", "1-8", "9-16", "9-16", "17-32", "2049-4096", "4097+", "4097+",
    ]  # fmt: skip


def test_a_category_answered_briefly_is_reported() -> None:
    # 599 characters, 120 words: ceil((599 / 4 + 120 * 1.3) / 2) = 153 estimated tokens;
    # "Yes." is 4 characters, 1 word: ceil((1 + 1.3) / 2) = 2
    long = " ".join(["word"] * 120)
    examples = [
        ex(f"Explain {i}.", long, ident=f"l{i}", metadata={"category": "explain"})
        for i in range(30)
    ]
    examples += [
        ex(f"Classify {i}.", "Yes.", ident=f"s{i}", metadata={"category": "classify"})
        for i in range(25)
    ]
    report = audit(examples, "length")
    [finding] = findings(report, "length")
    assert finding.group == "classify" and finding.severity == "warning"
    assert "shorter than the rest (median 2 vs 153 tokens, 25 examples)" in finding.message
    check = report.check("length")
    assert check is not None
    assert check.info["overall"]["answer_chars"]["max"] == 599
    assert check.info["roles"]["assistant"]["tokens"]["n"] == 55


# ---- languages ----------------------------------------------------------------------------

EN_Q = "Could you tell me which foods are good to eat before a long morning run?"
EN_A = "Oatmeal with a banana and some honey gives steady energy for a long run."
FR_Q = "Pouvez-vous me dire quels aliments sont bons à manger avant une longue course ?"
FR_A = "Des flocons d'avoine avec une banane et du miel donnent une énergie durable."
ES_A = (
    "La avena con un plátano y un poco de miel da energía constante para correr largas "
    "distancias por la mañana."
)


def test_language_mix_and_mismatch() -> None:
    examples = [ex(EN_Q + f" ({i})", EN_A, ident=f"en{i}") for i in range(20)]
    examples += [ex(FR_Q + f" ({i})", FR_A, ident=f"fr{i}") for i in range(3)]
    examples += [ex(EN_Q + " (es)", ES_A, ident="mix")]
    report = audit(examples, "language")
    check = report.check("language")
    assert check is not None
    assert check.info["examples"]["user"] == {"en": 21, "fr": 3}
    assert check.info["examples"]["assistant"] == {"en": 20, "fr": 3, "es": 1}
    assert check.info["mismatches"] == {"en->es": 1}
    mismatch = next(f for f in check.findings if f.metric == "mismatch_share")
    assert mismatch.example_ids == ("mix",) and mismatch.severity == "warning"  # 1 of 24
    mix = next(
        f for f in check.findings if f.metric == "other_language_share" and f.group == "user"
    )
    assert mix.severity == "info" and "fr 3" in mix.message
    assert set(mix.example_ids) == {"fr0", "fr1", "fr2"}


def test_a_prompt_asking_for_another_language_is_no_mismatch() -> None:
    examples = [ex(EN_Q + " Answer in Spanish, please.", ES_A, ident="asked")]
    report = audit(examples, "language")
    check = report.check("language")
    assert check is not None and check.info["mismatches"] == {}


# ---- topics -------------------------------------------------------------------------------

COOKING = ["recipe", "oven", "flour", "butter", "bake", "dough", "sugar", "pan"]
SPACE = ["planet", "orbit", "telescope", "star", "galaxy", "comet", "moon", "rocket"]


def _topic_text(vocabulary: list[str], i: int) -> str:
    picked = [vocabulary[(i + k) % len(vocabulary)] for k in range(5)]
    return " ".join(picked)


def test_two_clear_topics_are_found_with_their_terms() -> None:
    examples = [
        ex(_topic_text(COOKING, i), _topic_text(COOKING, i + 3), ident=f"c{i}") for i in range(30)
    ]
    examples += [
        ex(_topic_text(SPACE, i), _topic_text(SPACE, i + 3), ident=f"s{i}") for i in range(20)
    ]
    report = audit(examples, "topics", topics={"n_topics": 2})
    check = report.check("topics")
    assert check is not None
    topics = check.info["topics"]
    assert [t["size"] for t in topics] == [30, 20]
    assert set(topics[0]["terms"]) <= set(COOKING) and set(topics[1]["terms"]) <= set(SPACE)
    first = {r.example_id for r in check.rows if r.code == topic_code(1)}
    assert first == {f"c{i}" for i in range(30)}
    [share] = check.findings
    assert share.metric == "largest_topics_share" and share.value == pytest.approx(1.0)


def test_too_few_examples_for_topics() -> None:
    report = audit([ex("a b", "c d", ident="x")], "topics")
    check = report.check("topics")
    assert check is not None and check.severity == "ok" and "Too few" in check.message


# ---- outcomes -----------------------------------------------------------------------------


def test_rejections_skewed_against_women_are_a_finding_with_its_counts() -> None:
    report = audit(skewed_examples(), "outcome_disparity")
    [finding] = [f for f in findings(report, "outcome_disparity") if f.field == "status"]
    # women 20 of 40 rejected (50 %), men 4 of 40 (10 %): ratio 0.2. Wilson at 97.5 % each:
    # women [0.333, 0.667], men [0.0349, 0.2543]: the ratio's interval is [0.052, 0.764].
    assert finding.axis == "gender" and finding.group == "female"
    assert finding.value == pytest.approx(0.2)
    assert finding.severity == "critical"  # the whole interval is below 0.8
    assert finding.n == 20 and set(finding.example_ids) == {f"w{i}" for i in range(20)}
    assert finding.codes == (mention_code("gender", "female"), label_code("status", "rejected"))
    assert "rejected 5.0x as often as those mentioning men (20 of 40, 50%, vs 4 of 40, 10%" in (
        finding.message
    )
    assert "interval 0.05-0.76" in finding.message


def test_a_ratio_over_a_few_examples_is_not_a_finding() -> None:
    small = [
        (ex(f"A woman {i}.", "She works.", ident=f"w{i}"), "rejected" if i < 2 else "active")
        for i in range(3)
    ]
    small += [(ex(f"A man {i}.", "He works.", ident=f"m{i}"), "active") for i in range(3)]
    report = audit(small, "outcome_disparity", outcome_disparity={"min_group": 1})
    # 2 of 3 vs 0 of 3 is a ratio of 0, but 2 events and an interval reaching 1: no finding
    assert findings(report, "outcome_disparity") == []
    check = report.check("outcome_disparity")
    assert check is not None
    women = next(
        r for r in check.info["rates"] if r["group"] == "female" and r["field"] == "status"
    )
    assert (women["k"], women["n"]) == (2, 3)


def test_a_label_skewed_per_group() -> None:
    # women's examples labelled "negative" 18 of 30 times, men's 3 of 30
    examples = [
        ex(f"A review by a woman ({i}).", "She wrote it.", ident=f"w{i}",
           metadata={"label": "negative" if i < 18 else "positive"})
        for i in range(30)
    ] + [
        ex(f"A review by a man ({i}).", "He wrote it.", ident=f"m{i}",
           metadata={"label": "negative" if i < 3 else "positive"})
        for i in range(30)
    ]  # fmt: skip
    report = audit(examples, "outcome_disparity", outcome_disparity={"compare_none": False})
    [finding] = findings(report, "outcome_disparity")
    # two values: the rarer one (negative, 21 of 60) is tested; 3/30 over 18/30 = 1/6
    assert finding.field == "label" and finding.group == "female"
    assert finding.value == pytest.approx(1 / 6)
    assert "labelled label='negative' 6.0x as often" in finding.message


# ---- offensive terms ----------------------------------------------------------------------


def test_offensive_terms_in_answers_and_prompts() -> None:
    examples = [
        ex("Describe the weather.", "It is a damn cold day, you idiot.", ident="a1"),
        ex("Why is my neighbour such a moron?", "People differ; talk to them calmly.", ident="p1"),
        ex("Say hello.", "Hello!", ident="clean"),
    ]
    report = audit(examples, "offensive_terms")
    by_group = {
        f.group: f for f in findings(report, "offensive_terms") if f.metric == "answers_with_terms"
    }
    assert set(by_group) == {"profanity", "insult"}
    assert by_group["profanity"].example_ids == ("a1",) and "damn" in by_group["profanity"].message
    assert by_group["insult"].severity == "warning"
    [prompt_only] = [
        f for f in findings(report, "offensive_terms") if f.metric == "prompts_with_terms"
    ]
    assert prompt_only.example_ids == ("p1",) and prompt_only.severity == "info"
    check = report.check("offensive_terms")
    assert check is not None
    row = next(r for r in check.rows if r.code == offensive_code("insult", "answer"))
    assert row.data["terms"] == ["idiot"]


def test_slurs_in_answers_are_critical() -> None:
    report = audit(
        [ex("Tell me a joke.", "Only a retarded man would laugh.", ident="s")], "offensive_terms"
    )
    [finding] = findings(report, "offensive_terms")
    assert finding.group == "slur" and finding.severity == "critical"
