"""Unit tests of the dedup core: exact, near, clusters, contamination, keep policies.

Every expected value follows from how the inputs were built, never from running the code.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.dedup import (
    KEEP_POLICIES,
    Cluster,
    DedupResult,
    MemberInfo,
    NearDedupConfig,
    choose_keeper,
    cluster_duplicates,
    find_contamination,
    find_duplicate_clusters,
    normalise_for_dedup,
    texts_for,
)
from curation.dedup.components import clusters_from_pairs
from curation.dedup.minhash import (
    band_keys,
    candidate_pairs,
    jaccard,
    optimal_bands_rows,
    shingle_sets,
    signatures,
)
from curation.records import Example, Message

# 80 distinct made-up words: texts built from them have known word sets.
WORDS = [f"w{i}x{chr(97 + i % 26)}" for i in range(80)]


def words(lo: int, hi: int) -> str:
    return " ".join(WORDS[lo:hi])


def sixty_with_changes(changes: dict[int, str]) -> str:
    out = WORDS[:60]
    return " ".join(changes.get(i, w) for i, w in enumerate(out))


# ---------------------------------------------------------------- normalisation and exact


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ﬁne Ｆｕｌｌ width", "fine full width"),  # NFKC: ligature and full-width letters
        ("Hello WORLD", "hello world"),  # case
        ("Straße", "STRASSE"),  # casefold, not lower
        ("a  b\n\tc ", " a b c"),  # whitespace
        ("Hello, world!!!", "hello world"),  # punctuation
        ("“quoted” — text…", "quoted text"),  # Unicode punctuation
    ],
)
def test_exact_normalisation_equates(a: str, b: str) -> None:
    assert normalise_for_dedup(a) == normalise_for_dedup(b)
    assert find_duplicate_clusters([a, b], "exact") == [[0, 1]]


@pytest.mark.parametrize(("a", "b"), [("pi is 3.14", "pi is 314"), ("2*2", "22"), ("1/2", "12")])
def test_punctuation_inside_numbers_is_kept(a: str, b: str) -> None:
    assert find_duplicate_clusters([a, b], "exact") == []


def test_exact_known_clusters_and_order() -> None:
    texts = ["alpha beta", "gamma", "Alpha, beta!", "delta", "GAMMA", "gamma.", "alpha   beta"]
    # gamma x3 and alpha beta x3 tie on size; the tie goes to the smaller first member.
    assert find_duplicate_clusters(texts, "exact") == [[0, 2, 6], [1, 4, 5]]
    result = cluster_duplicates(texts, "exact")
    assert result.clusters[0].pairs == [(0, 2, 1.0), (0, 6, 1.0)]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]), min_size=1))
def test_case_and_trailing_punctuation_never_matter(text: str) -> None:
    variant = "  " + text.upper() + " !?"
    groups = find_duplicate_clusters([text, variant], "exact")
    assert groups == [[0, 1]]


# ---------------------------------------------------------------- near


def test_near_two_changed_words_of_sixty_cluster_unrelated_do_not() -> None:
    original = sixty_with_changes({})
    copy = sixty_with_changes({10: "zebra", 40: "yak"})
    unrelated = "completely different words about cooking pasta with garlic and olive oil"
    texts = [unrelated, original, "another unrelated note on trains and timetables", copy]
    for cfg in (
        NearDedupConfig(),
        NearDedupConfig(shingle="word", ngram=3),
        NearDedupConfig(shingle="char", ngram=5),
    ):
        assert cluster_duplicates(texts, "near", config=cfg).groups() == [[1, 3]]


def test_near_jaccard_score_is_exact() -> None:
    # word sets: 60 shared-or-not; 2 substitutions -> |A & B| = 58, |A | B| = 62.
    texts = [sixty_with_changes({}), sixty_with_changes({3: "zebra", 30: "yak"})]
    result = cluster_duplicates(texts, "near")
    assert result.clusters == [Cluster([0, 1], [(0, 1, pytest.approx(58 / 62))])]
    assert result.backend == "minhash-numpy"


def test_near_threshold_decides() -> None:
    # A = words 0..19, B = words 0..14 + 20..24: J = 15 / 25 = 0.6.
    texts = [words(0, 20), words(0, 15) + " " + words(20, 25)]
    # 64 bands of 2 rows: a pair at J = 0.6 escapes all bands with probability 0.64**64 ~ 4e-13,
    # so only verification against the threshold decides (the substantive-difference check,
    # which would refuse five replaced words in a 20-word text, is off to test the threshold).
    kw = {"bands": 64, "rows": 2, "diff_check": False}
    assert find_duplicate_clusters(texts, "near", 0.55, **kw) == [[0, 1]]
    assert find_duplicate_clusters(texts, "near", 0.65, **kw) == []


def test_connected_components_are_transitive() -> None:
    # J(A,B) = J(B,C) = 18/22 ~ 0.82 >= 0.7, J(A,C) = 16/24 ~ 0.67 < 0.7: still one cluster.
    texts = [words(0, 20), words(2, 22), words(4, 24), words(50, 70)]
    result = cluster_duplicates(texts, "near", 0.7, config=NearDedupConfig(bands=64, rows=2))
    assert result.groups() == [[0, 1, 2]]
    linked = {(i, j) for i, j, _ in result.clusters[0].pairs}
    assert linked == {(0, 1), (1, 2)}


def test_clusters_from_pairs_components_and_sorting() -> None:
    pairs = np.array([[6, 5], [0, 1], [1, 2], [8, 9], [9, 7]])
    clusters = clusters_from_pairs(10, pairs, np.array([0.9, 0.8, 0.7, 0.6, 0.5]))
    assert [c.members for c in clusters] == [[0, 1, 2], [7, 8, 9], [5, 6]]
    assert clusters[2].pairs == [(5, 6, 0.9)]


def test_verification_removes_false_candidates() -> None:
    # 128 bands of one row: any shared minimum makes a candidate. J = 5/15 = 1/3 < 0.7.
    texts = [words(0, 10), words(0, 5) + " " + words(10, 15)]
    loose = NearDedupConfig(bands=128, rows=1, threshold=0.7)
    result = cluster_duplicates(texts, "near", config=loose)
    assert result.stats["counts"]["candidate_pairs"] == 1
    assert result.stats["counts"]["verified_pairs"] == 0
    assert result.clusters == []


def test_jaccard_stage_alone() -> None:
    sets = shingle_sets([words(0, 10), words(0, 5) + " " + words(10, 15), ""], "word", 1)
    assert sets.sizes.tolist() == [10, 10, 0]
    got = jaccard(sets, np.array([[0, 1], [0, 2]]))
    assert got.tolist() == [pytest.approx(5 / 15), 0.0]


def test_lsh_params_match_datasketch() -> None:
    lsh = pytest.importorskip("datasketch.lsh")
    for threshold in (0.5, 0.7, 0.8, 0.9):
        for num_perm in (64, 128):
            expected = lsh._optimal_param(threshold, num_perm, 0.5, 0.5)
            assert optimal_bands_rows(threshold, num_perm) == expected


def test_lsh_params_respect_num_perm_and_config() -> None:
    for threshold in (0.3, 0.75, 0.95):
        b, r = optimal_bands_rows(threshold, 32)
        assert b * r <= 32
    assert NearDedupConfig(bands=4, rows=8).lsh_params() == (4, 8)
    with pytest.raises(ValueError, match="bands"):
        NearDedupConfig(bands=4)
    with pytest.raises(ValueError, match="num_perm"):
        NearDedupConfig(bands=20, rows=10, num_perm=128)


def test_buckets_stage_alone() -> None:
    # Identical signature columns share every band's bucket; a different column shares none.
    sig = np.array([[1, 1, 9], [2, 2, 8], [3, 3, 7], [4, 4, 6]], dtype=np.uint64)
    keys = band_keys(sig, bands=2, rows=2)
    assert keys[:, 0].tolist() == keys[:, 1].tolist()
    assert candidate_pairs(keys).tolist() == [[0, 1]]
    assert candidate_pairs(keys, active=np.array([1, 2])).tolist() == []


def test_large_bucket_window_still_links_everyone() -> None:
    keys = np.zeros((1, 10), dtype=np.uint64)  # one bucket of 10
    pairs = candidate_pairs(keys, window=2)
    assert len(pairs) == 9 + 8  # each member with its next two
    clusters = clusters_from_pairs(10, pairs, np.ones(len(pairs)))
    assert [c.members for c in clusters] == [list(range(10))]


def test_identical_texts_are_linked_without_lsh_flood() -> None:
    texts = ["same words here please"] * 200 + ["other text entirely new"]
    result = cluster_duplicates(texts, "near")
    assert result.groups() == [list(range(200))]
    assert result.stats["counts"]["identical_set_links"] == 199


def test_determinism_and_seed() -> None:
    texts = [sixty_with_changes({i: f"new{i}"}) for i in range(0, 60, 7)] + [words(0, 30)]
    one = cluster_duplicates(texts, "near", config=NearDedupConfig(seed=3))
    two = cluster_duplicates(texts, "near", config=NearDedupConfig(seed=3))
    assert one.clusters == two.clusters
    sets = shingle_sets([words(0, 30)], "word", 1)
    assert np.array_equal(signatures(sets, 16, seed=3), signatures(sets, 16, seed=3))
    assert not np.array_equal(signatures(sets, 16, seed=3), signatures(sets, 16, seed=4))


def test_signature_chunking_does_not_change_values() -> None:
    sets = shingle_sets([words(0, 30), "", words(5, 40), words(1, 2)], "word", 2)
    whole = signatures(sets, 8, seed=1, chunk_shingles=1 << 20)
    tiny = signatures(sets, 8, seed=1, chunk_shingles=3)
    assert np.array_equal(whole, tiny)
    assert (whole[:, 1] == np.iinfo(np.uint64).max).all()  # empty text: no shingles


@pytest.mark.parametrize("method", ["exact", "near", "semantic"])
def test_empty_and_single_inputs(method: str) -> None:
    assert find_duplicate_clusters([], method) == []
    assert find_duplicate_clusters(["only one text"], method) == []


def test_very_short_texts_work_with_large_ngrams() -> None:
    texts = ["hi there", "Hi there!", "bye", "", "hi"]
    cfg = NearDedupConfig(ngram=5)  # every text is shorter than 5 words
    assert cluster_duplicates(texts, "near", config=cfg).groups() == [[0, 1]]
    cfg = NearDedupConfig(shingle="char", ngram=9)
    assert cluster_duplicates(texts, "near", config=cfg).groups() == [[0, 1]]


def test_progress_reports_every_stage_to_completion() -> None:
    seen: dict[str, list[tuple[int, int]]] = {}
    cluster_duplicates(
        [words(0, 20), words(0, 19)],
        "near",
        progress=lambda u: seen.setdefault(u.stage, []).append((u.done, u.total)),
    )
    assert list(seen) == ["normalise", "shingles", "signatures", "buckets", "verify", "cluster"]
    for calls in seen.values():
        assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]


def test_result_round_trips_through_dict() -> None:
    result = cluster_duplicates([words(0, 20), words(0, 19), "x"], "near")
    again = DedupResult.from_dict(result.to_dict())
    assert again == result
    assert set(result.stats["seconds"]) >= {"signatures", "verify"}


def test_bad_arguments_name_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="exact.*near.*semantic"):
        find_duplicate_clusters(["a"], "fuzzy")
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        find_duplicate_clusters(["a"], "near", 1.5)
    with pytest.raises(ValueError, match="num_perm"):
        find_duplicate_clusters(["a"], "near", shingels="word")
    with pytest.raises(ValueError, match="word.*char"):
        find_duplicate_clusters(["a"], "near", shingle="sentence")


def test_near_options_pass_through() -> None:
    texts = [words(0, 20), words(0, 15) + " " + words(20, 25)]  # J = 0.6
    assert find_duplicate_clusters(texts, "near", 0.55, num_perm=64, seed=7, diff_check=False) == [
        [0, 1]
    ]


# ---------------------------------------------------------------- fields


def test_texts_for_picks_fields() -> None:
    ex = Example(
        id="1",
        messages=[
            Message("system", "Be brief."),
            Message("user", "Hi?"),
            Message("assistant", "Hello."),
        ],
    )
    assert texts_for([ex], "user") == ["Hi?"]
    assert texts_for([ex], "assistant") == ["Hello."]
    assert texts_for([ex], "all") == ["Be brief.\n\nHi?\n\nHello."]
    with pytest.raises(ValueError, match="assistant"):
        texts_for([ex], "answers")


def test_same_prompt_different_answers_depend_on_fields() -> None:
    a = Example(
        "a", [Message("user", "Name a colour."), Message("assistant", "Red, like a ripe tomato.")]
    )
    b = Example(
        "b", [Message("user", "Name a colour."), Message("assistant", "Blue as the open sea.")]
    )
    assert find_duplicate_clusters(texts_for([a, b], "user"), "exact") == [[0, 1]]
    assert find_duplicate_clusters(texts_for([a, b], "all"), "exact") == []


# ---------------------------------------------------------------- contamination


def test_contamination_exact_and_near() -> None:
    reference = [sixty_with_changes({}), "What is the capital of France?"]
    texts = [
        "what is the capital of FRANCE",  # exact hit on reference 1
        sixty_with_changes({5: "zebra"}),  # near hit on reference 0: J = 59/61
        words(60, 80),  # clean
        sixty_with_changes({5: "zebra"}),  # same as text 1
    ]
    exact = find_contamination(texts, reference, "exact")
    assert [(h.index, h.reference_index, h.similarity) for h in exact] == [(0, 1, 1.0)]
    near = find_contamination(texts, reference, "near")
    got = [(h.index, h.reference_index, h.method) for h in near]
    assert got == [(0, 1, "near"), (1, 0, "near"), (3, 0, "near")]
    assert near[1].similarity == pytest.approx(59 / 61)
    assert find_contamination([], reference, "near") == []
    with pytest.raises(ValueError, match="exact.*near"):
        find_contamination(texts, reference, "semantic")


# ---------------------------------------------------------------- keep policies


def info(
    index: int,
    *,
    length: int = 10,
    revs: int = 0,
    score: float | None = None,
    order: int | None = None,
) -> MemberInfo:
    return MemberInfo(index, f"ex{index}", length, revs, score, index if order is None else order)


def test_keep_policies() -> None:
    members = [
        info(0, length=5, revs=1, order=2),
        info(1, length=50, revs=0, order=1),
        info(2, length=20, revs=4, order=0),
    ]
    assert choose_keeper(members, "first") == 2
    assert choose_keeper(members, "longest") == 1
    assert choose_keeper(members, "most-edited") == 2
    assert choose_keeper(members, "best-labelled") == 1  # no labels: falls back to longest
    labelled = [info(0, score=0.2), info(1, score=None, length=99), info(2, score=0.9)]
    assert choose_keeper(labelled, "best-labelled") == 2
    with pytest.raises(ValueError, match="pick"):
        choose_keeper(members, "manual")
    with pytest.raises(ValueError, match="first"):
        choose_keeper(members, "random")
    assert set(KEEP_POLICIES) == {"first", "longest", "most-edited", "best-labelled", "manual"}


def test_keep_ties_go_to_earliest_index() -> None:
    tied = [
        info(3, length=7, revs=2, score=0.5, order=0),
        info(1, length=7, revs=2, score=0.5, order=0),
    ]
    for policy in ("first", "longest", "most-edited", "best-labelled"):
        assert choose_keeper(tied, policy) == 1


# ---------------------------------------------------------------- hard negatives and defaults


def test_templated_prompts_differing_in_one_word_do_not_cluster_by_default() -> None:
    # Each pair shares 5 of 7 distinct words (Jaccard 5/7 >= 0.7), but the default margin of 2
    # makes that 5 / (7 + 2) = 0.56 < 0.7: a different country or subject is a different prompt.
    texts = [
        "What is the capital of France?",
        "What is the capital of Peru?",
        "What is the capital of Japan?",
        "Write a poem about the sea.",
        "Write a poem about the moon.",
    ]
    assert find_duplicate_clusters(texts, "near") == []
    # With the margin off, plain Jaccard 5/7 links each family; the substantive-difference check
    # (one replaced word in a short prompt) keeps them apart unless it is off too.
    assert find_duplicate_clusters(texts, "near", short_text_margin=0) == []
    assert find_duplicate_clusters(texts, "near", short_text_margin=0, diff_check=False) == [
        [0, 1, 2],
        [3, 4],
    ]


def test_perturbed_copy_of_a_real_instruction_clusters_by_default() -> None:
    # A 30-word instruction (Alpaca style, 28 distinct words) with 2 words substituted:
    # 26 shared of 30 distinct, 26 / (30 + 2) = 0.81 >= 0.7.
    original = (
        "Write a short story of about two hundred words in which a young engineer repairs an "
        "old lighthouse on a remote island and learns why the light had gone dark."
    )
    copy = original.replace("young", "clever").replace("remote", "distant")
    assert len(original.split()) == 30
    assert find_duplicate_clusters([original, "Name three primary colours.", copy], "near") == [
        [0, 2]
    ]


def test_short_text_margin_rule_and_validation() -> None:
    # 10 shared words of 12 distinct: Jaccard 0.833; margin 2 -> 10/14 = 0.714; margin 3 -> 0.667.
    a, b = words(0, 11), words(0, 10) + " " + words(11, 12)
    assert find_duplicate_clusters([a, b], "near", short_text_margin=2, diff_check=False) == [
        [0, 1]
    ]
    assert find_duplicate_clusters([a, b], "near", short_text_margin=3) == []
    # Identical word sets always match, however short.
    assert find_duplicate_clusters(["Hi there", "there, hi!"], "near") == [[0, 1]]
    with pytest.raises(ValueError, match="short_text_margin"):
        NearDedupConfig(short_text_margin=-1)


def test_pooled_unigrams_and_bigrams() -> None:
    sets = shingle_sets([words(0, 4), words(0, 3)], "word", (1, 2))
    assert sets.sizes.tolist() == [4 + 3, 3 + 2]
    # Shared: 3 unigrams + 2 bigrams = 5 of 7 distinct.
    assert jaccard(sets, np.array([[0, 1]])).tolist() == [pytest.approx(5 / 7)]
    with pytest.raises(ValueError, match="ngram"):
        NearDedupConfig(ngram=(1, 0))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="aZ19 .,-_/*\t\n\x1c!$'éΣ٣２。\u3000\x00", max_size=12), max_size=6)
)
def test_batched_normalisation_equals_the_per_text_reference(texts: list[str]) -> None:
    from curation.dedup.normalise import _normalise_one, normalise_all

    assert normalise_all(texts) == [_normalise_one(t) for t in texts]
