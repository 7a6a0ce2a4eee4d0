"""Agreement: Krippendorff's alpha and Cohen's kappa against published and hand-computed answers,
against the `krippendorff` package and scikit-learn as oracles, and the per-field report.

Hand computations are written out next to each expected value (coincidence matrices for alpha).
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, timedelta

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from curation.errors import LabelError
from curation.labeling import (
    Label,
    LabelSchema,
    MultiChoiceField,
    RatingField,
    SingleChoiceField,
    TextField,
    VerdictField,
    agreement_report,
    cohen_kappa,
    krippendorff_alpha,
)

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, missing values. Published: nominal 0.743, ordinal 0.815, interval 0.849.
RELIABILITY_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def units_of(matrix: list[list[int | None]]) -> list[list[int]]:
    return [[row[u] for row in matrix if row[u] is not None] for u in range(len(matrix[0]))]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_reproduces_krippendorffs_worked_example(level: str, published: float) -> None:
    value, items, ratings = krippendorff_alpha(units_of(RELIABILITY_DATA), level=level)
    assert value == pytest.approx(published, abs=5e-4)
    # Unit 12 has one value only, so 11 units and 40 pairable values count.
    assert (items, ratings) == (11, 40)


def test_alpha_with_missing_ratings_by_hand() -> None:
    # u1: a a a  -> 6 ordered pairs of (a, a), each weighing 1/(3-1): o_aa += 3
    # u2: a b    -> o_ab += 1, o_ba += 1
    # u3: b b    -> o_bb += 2      (third coder missing)
    # u4: a      -> one value: not pairable
    # n_a = 4, n_b = 3, n = 7; alpha = 1 - (n-1) * sum(o off-diagonal) / sum(n_c n_k, c != k)
    #                               = 1 - 6 * 2 / (2 * 4 * 3) = 0.5
    value, items, ratings = krippendorff_alpha(
        [["a", "a", "a"], ["a", "b"], ["b", "b"], ["a"]], level="nominal"
    )
    assert value == pytest.approx(0.5)
    assert (items, ratings) == (3, 7)


def test_alpha_perfect_agreement_is_one_and_undefined_cases_are_none() -> None:
    assert krippendorff_alpha([[1, 1], [2, 2, 2], [3, 3]])[0] == pytest.approx(1.0)
    assert krippendorff_alpha([[1, 1], [1, 1, 1]]) == (None, 2, 5)  # one value: no variation
    assert krippendorff_alpha([[1], [2], []]) == (None, 0, 0)  # nothing rated twice
    assert krippendorff_alpha([]) == (None, 0, 0)


def test_alpha_ordinal_order_counts_values_absent_from_the_data() -> None:
    # With the scale given, unused points between 1 and 5 carry no weight, so the result equals
    # the one on the values alone (order only has to contain them).
    units = [[1, 1], [1, 5], [5, 5], [1, 5, 5]]
    with_scale = krippendorff_alpha(units, level="ordinal", order=[1, 2, 3, 4, 5])[0]
    plain = krippendorff_alpha(units, level="ordinal")[0]
    assert with_scale == pytest.approx(plain)
    with pytest.raises(LabelError, match=r"value\(s\) \['7'\] are not in the given order"):
        krippendorff_alpha([[7, 1]], level="ordinal", order=[1, 2, 3])
    with pytest.raises(LabelError, match="level must be one of nominal, ordinal, interval"):
        krippendorff_alpha([[1, 1]], level="ratio")


matrices = st.integers(min_value=2, max_value=5).flatmap(
    lambda coders: st.integers(min_value=2, max_value=25).flatmap(
        lambda n_units: st.lists(
            st.lists(
                st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
                min_size=n_units,
                max_size=n_units,
            ),
            min_size=coders,
            max_size=coders,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(matrices, st.sampled_from(["nominal", "ordinal", "interval"]))
def test_alpha_equals_the_krippendorff_package(matrix: list[list[int | None]], level: str) -> None:
    units = units_of(matrix)
    pairable = [u for u in units if len(u) >= 2]
    assume(pairable and len({v for u in pairable for v in u}) >= 2)
    ours, _, _ = krippendorff_alpha(units, level=level, order=[1, 2, 3, 4, 5])
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    theirs = krippendorff.alpha(
        reliability_data=data, level_of_measurement=level, value_domain=[1, 2, 3, 4, 5]
    )
    assert ours == pytest.approx(theirs, abs=1e-9)


# ---------------------------------------------------------------- Cohen's kappa


def test_kappa_by_hand() -> None:
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50; p_e = 0.5*0.6 + 0.5*0.4 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_quadratic_weighted_kappa_by_hand() -> None:
    # a = 1 2 3, b = 1 3 3 on the scale 1-3. Observed (index) cells (0,0) (1,2) (2,2): weighted
    # disagreement sum w*O = 1/3. Margins a = (1/3, 1/3, 1/3), b = (1/3, 0, 2/3):
    # sum w*E = 1/3 * [(0 + 0 + 8/3) + (1/3 + 0 + 2/3) + (4/3 + 0 + 0)] = 5/3.
    # kappa_w = 1 - (1/3) / (5/3) = 0.8
    assert cohen_kappa([1, 2, 3], [1, 3, 3], weights="quadratic", order=[1, 2, 3]) == (
        pytest.approx(0.8)
    )


def test_kappa_undefined_and_bad_input() -> None:
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # chance agreement is already perfect
    assert cohen_kappa([], []) is None
    with pytest.raises(LabelError, match="differ in length"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(LabelError, match="weights must be None"):
        cohen_kappa([1], [1], weights="cubic")


pairs_of_lists = st.integers(min_value=2, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 4), min_size=n, max_size=n),
        st.lists(st.integers(1, 4), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, deadline=None)
@given(pairs_of_lists, st.sampled_from([None, "linear", "quadratic"]))
def test_kappa_equals_scikit_learn(pair: tuple[list[int], list[int]], weights: str | None) -> None:
    a, b = pair
    ours = cohen_kappa(a, b, weights=weights, order=[1, 2, 3, 4])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # scikit-learn warns when kappa is undefined
        theirs = cohen_kappa_score(a, b, labels=[1, 2, 3, 4], weights=weights)
    if ours is None:
        assert not math.isfinite(theirs) or len(set(a) | set(b)) == 1
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


# ---------------------------------------------------------------- the report

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def lab(
    ex: str, who: str, field: str, value: object, minutes: int = 0, role: str = "annotator"
) -> Label:
    return Label(ex, who, field, value, T0 + timedelta(minutes=minutes), role)  # type: ignore[arg-type]


SCHEMA = LabelSchema(
    fields=(
        SingleChoiceField("topic", ("A", "B")),
        VerdictField(),
        RatingField(),
        MultiChoiceField("tags", ("x", "y")),
        TextField(),
    )
)


def report_labels() -> list[Label]:
    return [
        # topic: e1 [A, A], e2 [A, B], e3 [B, B, B]; e4 has one label only.
        lab("e1", "bob", "topic", "B", 0),  # replaced by bob's later label
        lab("e1", "ann", "topic", "A", 1),
        lab("e1", "bob", "topic", "A", 5),
        lab("e2", "ann", "topic", "A", 1),
        lab("e2", "bob", "topic", "B", 1),
        lab("e3", "ann", "topic", "B", 1),
        lab("e3", "bob", "topic", "B", 1),
        lab("e3", "cy", "topic", "B", 1),
        lab("e4", "ann", "topic", "A", 1),
        lab("e2", "rev", "topic", "B", 9, role="reviewer"),  # never counted
        lab("e4", "category", "topic", "B", 0, role="imported"),  # never counted
        # verdict: e1 [accept, accept], e2 [reject, accept]
        lab("e1", "ann", "verdict", "accept"),
        lab("e1", "bob", "verdict", "accept"),
        lab("e2", "ann", "verdict", "reject"),
        lab("e2", "bob", "verdict", "accept"),
        # rating: e1 [4, 5], e2 [2, 2], e3 [1, 2, 1]
        lab("e1", "ann", "rating", 4),
        lab("e1", "bob", "rating", 5),
        lab("e2", "ann", "rating", 2),
        lab("e2", "bob", "rating", 2),
        lab("e3", "ann", "rating", 1),
        lab("e3", "bob", "rating", 2),
        lab("e3", "cy", "rating", 1),
        # tags: e1 ann {x}, bob {x, y}; e2 both none
        lab("e1", "ann", "tags", ("x",)),
        lab("e1", "bob", "tags", ("x", "y")),
        lab("e2", "ann", "tags", ()),
        lab("e2", "bob", "tags", ()),
        lab("e1", "ann", "note", "fine"),
        lab("e1", "bob", "note", "ok"),
    ]


def test_report_per_field_by_hand() -> None:
    report = agreement_report(report_labels(), SCHEMA)
    assert report.annotators == ("ann", "bob", "cy")
    topic = report.fields["topic"]
    # o = [[2, 1], [1, 3]] (e1: o_AA 2; e2: o_AB = o_BA = 1; e3: 6 pairs x 1/2 = o_BB 3);
    # n_A = 3, n_B = 4, n = 7: alpha = 1 - 6 * 2 / (2 * 3 * 4) = 0.5
    assert topic.alpha.value == pytest.approx(0.5)
    assert (topic.alpha.items, topic.alpha.ratings) == (3, 7)
    assert topic.alpha.annotators == ("ann", "bob", "cy")
    kappas = {p.annotators: p for p in topic.pairs}
    # ann A A B vs bob A B B: p_o = 2/3, p_e = 2/3*1/3 + 1/3*2/3 = 4/9, kappa = 0.4
    assert kappas[("ann", "bob")].value == pytest.approx(0.4)
    assert kappas[("ann", "bob")].items == 3
    assert kappas[("ann", "cy")].value is None  # one shared item with one value
    assert kappas[("ann", "cy")].items == 1
    # Two categories: "A or not" is the same split as the field itself.
    assert topic.per_value["A"].value == pytest.approx(0.5)
    assert "note" not in report.fields


def test_report_tags_are_present_or_absent_per_tag_by_hand() -> None:
    tags = agreement_report(report_labels(), SCHEMA).fields["tags"]
    # Units (e1,x) [T,T], (e1,y) [F,T], (e2,x) [F,F], (e2,y) [F,F]: o_TT 2, o_TF = o_FT 1, o_FF 4;
    # n_T 3, n_F 5, n 8: alpha = 1 - 7 * 2 / (2 * 3 * 5) = 8/15
    assert tags.alpha.value == pytest.approx(8 / 15)
    assert (tags.alpha.items, tags.alpha.ratings) == (4, 8)
    assert tags.per_value["x"].value == pytest.approx(1.0)  # e1 [T,T], e2 [F,F]
    # y: e1 [F,T], e2 [F,F]: n_F 3, n_T 1, n 4: alpha = 1 - 3 * 2 / (2 * 3 * 1) = 0
    assert tags.per_value["y"].value == pytest.approx(0.0)


def test_report_rating_is_ordinal_and_pairs_are_quadratic_weighted() -> None:
    rating = agreement_report(report_labels(), SCHEMA).fields["rating"]
    matrix = np.array(
        [[4, 2, 1], [5, 2, 2], [np.nan, np.nan, 1]], dtype=float
    )  # ann, bob, cy x e1, e2, e3
    expected = krippendorff.alpha(
        reliability_data=matrix, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5]
    )
    assert rating.alpha.level == "ordinal"
    assert rating.alpha.value == pytest.approx(expected)
    ann_bob = next(p for p in rating.pairs if p.annotators == ("ann", "bob"))
    assert ann_bob.level == "quadratic"
    assert ann_bob.value == pytest.approx(
        cohen_kappa_score([4, 2, 1], [5, 2, 2], labels=[1, 2, 3, 4, 5], weights="quadratic")
    )


def test_report_overall_pools_choice_fields_by_hand() -> None:
    overall = agreement_report(report_labels(), SCHEMA).overall
    # Units: (e1,topic) [A,A], (e2,topic) [A,B], (e3,topic) [B,B,B], (e1,verdict) [acc,acc],
    # (e2,verdict) [rej,acc]. Margins: topic A 3, topic B 4, accept 3, reject 1; n = 11;
    # off-diagonal o = 4; sum n_c n_k (c != k) = 11^2 - (9 + 16 + 9 + 1) = 86;
    # alpha = 1 - 10 * 4 / 86
    assert overall.value == pytest.approx(1 - 40 / 86)
    assert (overall.items, overall.ratings) == (5, 11)


def test_report_per_group_of_examples() -> None:
    topic = agreement_report(
        report_labels(), SCHEMA, groups={"e1": "news", "e2": "news", "e3": "blog"}
    ).fields["topic"]
    # news: e1 [A,A], e2 [A,B]: n_A 3, n_B 1, n 4: alpha = 1 - 3 * 2 / (2 * 3 * 1) = 0
    assert topic.per_group["news"].value == pytest.approx(0.0)
    assert topic.per_group["news"].items == 2
    # blog: e3 [B,B,B] has no variation
    assert topic.per_group["blog"].value is None
    assert "same value" in topic.per_group["blog"].note


def test_report_with_no_overlap_says_why() -> None:
    report = agreement_report(
        [lab("e1", "ann", "topic", "A"), lab("e2", "bob", "topic", "B")], SCHEMA
    )
    assert report.fields["topic"].alpha.value is None
    assert report.fields["topic"].alpha.items == 0
    assert report.fields["topic"].alpha.note == "no item was labelled by two annotators"
    assert report.fields["topic"].pairs == ()
    as_dict = report.to_dict()
    assert as_dict["fields"]["topic"]["alpha"]["value"] is None
    only_rating = LabelSchema(fields=(RatingField(),))
    assert agreement_report([], only_rating).overall.note == "the schema has no choice field"
