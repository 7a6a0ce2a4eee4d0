"""Unit tests of dedup that compares each role apart, "same prompt, different answers", and
scripts written without spaces (real Chinese sentences with planted one-character edits).

Expected values follow from how the inputs were built (word sets with known overlaps).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from curation.dedup import (
    NearDedupConfig,
    SemanticDedupConfig,
    cluster_conversations,
    cluster_duplicates,
    find_duplicate_clusters,
    role_texts_for,
    texts_for,
)
from curation.dedup.minhash import jaccard, merge_part_sets, shingle_sets
from curation.dedup.project import apply_policy, load_run, run_dedup
from curation.formats import read_examples
from curation.records import Example, Message
from curation.store import Store
from curation.text import has_spaceless_script, segment_spaceless

WORDS = [f"w{i}x{chr(97 + i % 26)}" for i in range(120)]
CHINESE = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "chinese_sentences.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]


def words(lo: int, hi: int) -> str:
    return " ".join(WORDS[lo:hi])


def chat(user: str, answer: str, system: str | None = None) -> dict[str, str]:
    out = {"user": user, "assistant": answer}
    if system is not None:
        out["system"] = system
    return out


# A premise of 40 words shared by two hypotheses of 4 words each and two different labels.
# Concatenated word sets: 40 shared of 50 distinct, 40 / (50 + 2) = 0.77 >= 0.7: one cluster.
# Per role: user parts share 40 of 48 (40 / 50 = 0.8, passes); the answers share nothing.
PREMISE_PAIR = [
    chat(words(0, 40) + " " + words(40, 44), "neutral"),
    chat(words(0, 40) + " " + words(44, 48), "contradiction"),
]


def _as_examples(convs: list[dict[str, str]]) -> list[Example]:
    out = []
    for k, conv in enumerate(convs):
        messages = [
            Message(role, conv[role]) for role in ("system", "user", "assistant") if role in conv
        ]
        out.append(Example(f"e{k}", messages))
    return out


# ---------------------------------------------------------------- per-role comparison


def test_long_shared_prompt_no_longer_hides_a_different_answer() -> None:
    joined = texts_for(_as_examples(PREMISE_PAIR), "all")
    assert find_duplicate_clusters(joined, "near") == [[0, 1]]  # the old, concatenated way
    result = cluster_conversations(PREMISE_PAIR, "near")
    assert result.clusters == []
    assert [c.members for c in result.same_prompt] == [[0, 1]]
    assert result.stats["params"]["part_names"] == ["user", "assistant"]


def test_copies_edited_in_every_part_still_cluster_scored_as_a_whole() -> None:
    # user: 60 words, 2 substituted -> 58 shared of 62 distinct; answer: 30 words, 1 swapped
    # -> 29 of 31. Together 87 of 93 (87 / 95 >= 0.7 with the margin); parts >= 0.5 each.
    a = chat(words(0, 60), words(60, 90))
    b = chat(
        words(0, 10) + " zebra " + words(11, 40) + " yak " + words(41, 60),
        words(60, 75) + " okapi " + words(76, 90),
    )
    other = chat(words(90, 110), words(0, 5))
    result = cluster_conversations([a, other, b], "near")
    assert result.groups() == [[0, 2]]
    assert result.clusters[0].pairs == [(0, 2, pytest.approx(87 / 93))]
    assert result.same_prompt == []  # the only prompt duplicates are full duplicates


def test_a_part_may_fall_below_the_threshold_by_the_slack_only() -> None:
    # user: 40 words shared; answers: 10 words, 6 shared of 14 distinct (J = 0.43).
    # Together 46 / 54 = 0.85 passes; the answer part passes only with a slack of 0.3.
    a = chat(words(0, 40), words(40, 50))
    b = chat(words(0, 40), words(40, 46) + " " + words(50, 54))
    assert cluster_conversations([a, b], "near").clusters == []
    assert cluster_conversations([a, b], "near", part_slack=0.3, diff_check=False).groups() == [
        [0, 1]
    ]
    with pytest.raises(ValueError, match="part_slack"):
        NearDedupConfig(part_slack=1.0)


def test_exact_compares_parts_not_their_concatenation() -> None:
    # "A B" + "C" and "A" + "B C" are the same text once joined, yet different turns.
    convs = [
        chat("alpha beta", "gamma"),
        chat("alpha", "beta gamma"),
        chat("Alpha, beta!", "GAMMA"),
    ]
    joined = texts_for(_as_examples(convs), "all")
    assert find_duplicate_clusters(joined, "exact") == [[0, 1, 2]]
    result = cluster_conversations(convs, "exact")
    assert result.groups() == [[0, 2]]


def test_a_part_one_side_lacks_is_a_difference_both_lacking_is_not() -> None:
    convs = [
        chat(words(0, 30), words(30, 50), system="Answer in French."),
        chat(words(0, 30), words(30, 50)),
        chat(words(0, 30), words(30, 50)),
    ]
    for method in ("exact", "near"):
        assert cluster_conversations(convs, method).groups() == [[1, 2]], method


def test_same_prompt_groups_only_where_answers_differ() -> None:
    convs = [
        chat(words(0, 20), words(20, 40)),  # 0 and 1: the same example twice
        chat(words(0, 20), words(20, 40)),
        chat(words(0, 20), words(60, 80)),  # same prompt, a different answer
        chat(words(80, 100), words(100, 110)),  # 3 and 4: duplicates, nothing else shares
        chat(words(80, 100), words(100, 110)),
    ]
    result = cluster_conversations(convs, "near")
    assert result.groups() == [[0, 1], [3, 4]]
    assert [c.members for c in result.same_prompt] == [[0, 1, 2]]
    assert cluster_conversations(convs, "near", same_prompt=False).same_prompt == []
    # One part only: the plain-text entry point, and no same-prompt pass.
    users = [{"user": c["user"]} for c in convs]
    assert cluster_conversations(users, "near").groups() == find_duplicate_clusters(
        [c["user"] for c in convs], "near"
    )


def test_progress_of_the_same_prompt_pass_is_labelled() -> None:
    seen: list[str] = []
    cluster_conversations(PREMISE_PAIR, "near", progress=lambda u: seen.append(u.stage))
    assert "verify" in seen and "same prompt: verify" in seen


def test_merged_part_sets_keep_parts_apart() -> None:
    # The same two words in the user part of one and the answer part of the other share nothing.
    user = shingle_sets(["alpha beta", ""], "word", 1)
    answer = shingle_sets(["", "alpha beta"], "word", 1)
    merged = merge_part_sets([user, answer])
    assert merged.sizes.tolist() == [2, 2]
    assert jaccard(merged, np.array([[0, 1]])).tolist() == [0.0]
    same = merge_part_sets([user, user])
    assert jaccard(same, np.array([[0, 0]])).tolist() == [1.0]


def test_role_texts_for_splits_roles_and_keeps_tool_calls() -> None:
    ex = Example(
        "x",
        [
            Message("system", "Be brief."),
            Message("user", "Weather?"),
            Message("assistant", "", tool_calls='[{"function": {"name": "w"}}]'),
            Message("tool", "sunny"),
            Message("user", "Thanks"),
            Message("assistant", "It is sunny."),
        ],
    )
    assert role_texts_for([ex]) == [
        {
            "system": "Be brief.",
            "user": "Weather?\n\nThanks",
            "assistant": '[{"function": {"name": "w"}}]\n\nIt is sunny.',
            "tool": "sunny",
        }
    ]
    assert role_texts_for([ex], "user") == [{"user": "Weather?\n\nThanks"}]
    with pytest.raises(ValueError, match="assistant"):
        role_texts_for([ex], "answers")


def test_bad_conversations_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match="mapping"):
        cluster_conversations(["just a string"], "near")  # type: ignore[list-item]
    with pytest.raises(ValueError, match="'user' must be str"):
        cluster_conversations([{"user": 3}], "near")  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="exact.*near.*semantic"):
        cluster_conversations(PREMISE_PAIR, "fuzzy")


class RoleEncoder:
    """Hand-made vectors: "x..." texts point one way, "y..." another, anything else a third."""

    backend_name = "roles:v1"

    def encode(self, sentences: list[str], **_: object) -> np.ndarray:
        table = {"x": [1.0, 0.0, 0.0], "y": [0.0, 1.0, 0.0]}
        return np.array([table.get(s[:1], [0.0, 0.0, 1.0]) for s in sentences])


def test_semantic_compares_parts_apart_with_a_model_and_the_fallback() -> None:
    convs = [chat("x one", "x answer"), chat("x two", "y answer"), chat("x three", "x reply")]
    result = cluster_conversations(convs, "semantic", encoder=RoleEncoder())
    assert result.groups() == [[0, 2]]  # 1 has the same prompt vector, a different answer
    assert [c.members for c in result.same_prompt] == [[0, 1, 2]]
    # Concatenated, the three texts all start with "x": one cluster.
    joined = [f"{c['user']} {c['assistant']}" for c in convs]
    assert find_duplicate_clusters(joined, "semantic", encoder=RoleEncoder()) == [[0, 1, 2]]

    tfidf = SemanticDedupConfig(backend="tfidf")
    text = (
        "To bake sourdough bread, mix flour, water and starter, let the dough rest overnight, "
        "shape it in the morning and bake it in a very hot oven for about forty minutes. "
        "Is this the right order of the steps?"
    )
    pair = [chat(text, "Yes."), chat(text, "No.")]
    joined = [f"{c['user']}\n\n{c['assistant']}" for c in pair]
    assert cluster_duplicates(joined, "semantic", config=tfidf).groups() == [[0, 1]]
    fallback = cluster_conversations(pair, "semantic", config=tfidf)
    assert fallback.clusters == []
    assert [c.members for c in fallback.same_prompt] == [[0, 1]]


def test_semantic_parts_two_empty_parts_match_one_empty_does_not() -> None:
    convs = [chat("x a", "x b", system=""), chat("x c", "x d"), chat("x e", "x f", system="x s")]
    assert cluster_conversations(convs, "semantic", encoder=RoleEncoder()).groups() == [[0, 1]]


# ---------------------------------------------------------------- a stored project


ROWS = [
    # r0/r1: one premise, two hypotheses and labels (an SNLI shape); r2/r3: a real copy
    ("Premise: " + words(0, 30) + "\nHypothesis: " + words(30, 34), "neutral"),
    ("Premise: " + words(0, 30) + "\nHypothesis: " + words(34, 38), "contradiction"),
    ("How do I boil an egg? Give the steps.", "Put it in boiling water for nine minutes."),
    ("how do I boil an egg?  Give the steps", "Put it in boiling water for nine minutes!"),
]


@pytest.fixture()
def project(tmp_path: Path) -> Store:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    return store


def test_project_run_keeps_same_prompt_apart_and_policy_leaves_it(project: Store) -> None:
    run = run_dedup(project, "p", method="near", author="ada")
    assert [c.members for c in run.clusters] == [["r2", "r3"]]
    assert [c.members for c in run.same_prompt] == [["r0", "r1"]]
    again = load_run(project, "p", run.run_id)
    assert again is not None and [c.members for c in again.same_prompt] == [["r0", "r1"]]
    apply_policy(project, "p", run, "longest", author="ada")
    statuses = project.statuses("p", ["r0", "r1", "r2", "r3"])
    assert statuses["r0"] == statuses["r1"] == "active"
    assert sorted([statuses["r2"], statuses["r3"]]) == ["active", "duplicate"]


def test_cli_file_report_lists_same_prompt_apart(tmp_path: Path, capsys) -> None:
    from curation.cli import main

    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    out = tmp_path / "report.json"
    code = main(["dedup", str(path), "--method", "near", "--report", str(out), "--quiet"])
    assert code in (0, None)
    report = json.loads(out.read_text())
    assert [c["members"] for c in report["clusters"]] == [["r2", "r3"]]
    assert [c["members"] for c in report["same_prompt"]] == [["r0", "r1"]]
    assert "same prompt, different answers" in capsys.readouterr().out


# ---------------------------------------------------------------- scripts without spaces


def test_segment_spaceless_cuts_runs_into_bigrams() -> None:
    assert segment_spaceless("我爱北京 ok") == "我爱 爱北 北京 ok"
    assert segment_spaceless("东京に行く") == "东京 京に に行 行く"
    assert segment_spaceless("ภาษาไทย") == "ภา าษ ษา าไ ไท ทย"
    assert segment_spaceless("一 abc") == "一 abc"  # a lone character stays one token
    assert segment_spaceless("plain English text") == "plain English text"
    assert segment_spaceless("안녕하세요 여러분") == "안녕하세요 여러분"  # Korean uses spaces
    assert has_spaceless_script("abc 中") and not has_spaceless_script("abc déjà")


def _one_character_edit(text: str, rng: random.Random, pool: list[str]) -> str:
    positions = [i for i, ch in enumerate(text) if has_spaceless_script(ch)]
    pos = rng.choice(positions)
    new = rng.choice([ch for ch in pool if ch != text[pos]])
    return text[:pos] + new + text[pos + 1 :]


def test_chinese_one_character_edits_are_found_without_false_clusters() -> None:
    # Each text is two consecutive real sentences (about a prompt with its context, 30-110
    # characters); neighbours share one sentence, so they are hard negatives, not copies.
    rng = random.Random(7)
    pool = sorted({ch for s in CHINESE for ch in s if has_spaceless_script(ch)})
    n = len(CHINESE) - 1
    originals = [CHINESE[k] + CHINESE[k + 1] for k in range(n)]
    copies = [_one_character_edit(t, rng, pool) for t in originals]
    texts = originals + copies
    planted = {(i, i + n) for i in range(n)}

    def found(groups: list[list[int]]) -> set[tuple[int, int]]:
        return {(a, b) for g in groups for a in g for b in g if a < b}

    assert found(find_duplicate_clusters(texts, "near")) == planted
    # Split on spaces only, a Chinese "word" is a whole clause: most edits are lost.
    plain = found(find_duplicate_clusters(texts, "near", segment_spaceless=False))
    assert plain <= planted and len(plain) < n / 2


def test_short_chinese_texts_follow_the_short_text_margin() -> None:
    # "温故而知新，可以为师矣。" has 8 bigrams; one changed character replaces 2 of them:
    # 6 shared of 10, 6 / (10 + 2) = 0.5 < 0.7, as one swapped word in a six-word prompt.
    a = "温故而知新，可以为师矣。"
    b = "温故而知旧，可以为师矣。"
    assert find_duplicate_clusters([a, b], "near") == []
    assert find_duplicate_clusters([a, b], "near", short_text_margin=0, threshold=0.6) == [[0, 1]]


def test_char_shingles_and_segment_flag_validation() -> None:
    cfg = NearDedupConfig(shingle="char", ngram=3)
    texts = [CHINESE[0], _one_character_edit(CHINESE[0], random.Random(1), ["天"])]
    assert cluster_duplicates(texts, "near", config=cfg).groups() == [[0, 1]]
    stats = cluster_duplicates(texts, "near").stats
    assert stats["counts"]["spaceless_script_texts"] == 2


def test_semantic_parts_both_lack_do_not_lift_the_mean() -> None:
    # Prompt vectors at cosine 0.6: below 0.9 on their own. An answer part both lack must not
    # average in as a 1.0 and lift the pair to (0.6 + 1) / 2 = 0.8.
    class Angles:
        backend_name = "angles:v1"

        def encode(self, sentences: list[str], **_: object) -> np.ndarray:
            table = {"a": [1.0, 0.0], "b": [0.6, 0.8]}
            return np.array([table[s[:1]] for s in sentences])

    convs = [{"user": "a prompt"}, {"user": "b prompt"}, {"user": "a other", "assistant": "a x"}]
    result = cluster_conversations(convs, "semantic", 0.75, encoder=Angles())
    assert result.clusters == []
