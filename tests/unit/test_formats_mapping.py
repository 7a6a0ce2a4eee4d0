"""Column mapping of plain tables: user-turn templates, drop rules and placeholder answers.

On an SNLI-shaped CSV written here (SNLI's columns; "-" where annotators did not agree) and
the real MRPC TSV; expected values are read from the tables with the csv module.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from curation.errors import MappingError
from curation.formats import ColumnMapping, read_examples
from curation.formats.mapping import (
    DropRule,
    is_placeholder,
    parse_template,
    placeholder_warning,
    template_columns,
)
from tests.unit.formats_helpers import data_file

SNLI_COLUMNS = ["gold_label", "sentence1", "sentence2", "captionID", "pairID", "label1", "label2"]
PREMISES = [
    "A person on a horse jumps over a broken down airplane.",
    "Children smiling and waving at camera.",
    "A boy is jumping on skateboard in the middle of a red bridge.",
    "Two blond women are hugging one another.",
    "A man in a blue shirt is standing on a ladder cleaning windows.",
    "An older man sits with his orange juice at a small table in a coffee shop.",
    "A woman with a green headscarf, blue shirt and a very big grin.",
    "Two women who just had lunch hugging and saying goodbye.",
]
# (hypothesis suffix, gold label, label1, label2): one of each per premise, as in SNLI.
HYPOTHESES = [
    ("is outdoors.", "entailment", "entailment", "entailment"),
    ("is waiting for a friend.", "neutral", "neutral", "neutral"),
    ("is asleep at home.", "contradiction", "contradiction", "contradiction"),
]
NO_GOLD = {(1, 1), (4, 0), (6, 2)}  # (premise, hypothesis) rows whose annotators disagree


def snli_rows() -> list[dict[str, str]]:
    rows = []
    for p, premise in enumerate(PREMISES):
        for h, (suffix, gold, l1, l2) in enumerate(HYPOTHESES):
            subject = premise.split(" ")[1]
            label2 = "neutral" if (p, h) in NO_GOLD and l2 != "neutral" else l2
            if (p, h) in NO_GOLD and label2 == l1:
                label2 = "contradiction"
            rows.append(
                {
                    "gold_label": "-" if (p, h) in NO_GOLD else gold,
                    "sentence1": premise,
                    "sentence2": f"The {subject} {suffix}",
                    "captionID": f"{3416050480 + p}.jpg#{h}",
                    "pairID": f"{3416050480 + p}.jpg#{h}r1{gold[0]}",
                    "label1": l1,
                    "label2": label2,
                }
            )
    return rows


def write_snli(path: Path, rows: list[dict[str, str]] | None = None) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SNLI_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows or snli_rows())
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


TEMPLATE = "Premise: {sentence1}\nHypothesis: {sentence2}"


def test_template_builds_the_user_turn(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    rows = read_csv(path)
    mapping = ColumnMapping(user_template=TEMPLATE, assistant="gold_label")
    result = read_examples(path, mapping=mapping)
    assert [e.prompt for e in result.examples] == [
        f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}" for r in rows
    ]
    assert [e.response for e in result.examples] == [r["gold_label"] for r in rows]
    # Template columns are conversation text; the other columns stay as metadata.
    assert set(result.examples[0].metadata) == {"captionID", "pairID", "label1", "label2"}


def test_placeholder_answers_are_named_with_the_rule_that_drops_them(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    n_dash = sum(r["gold_label"] == "-" for r in read_csv(path))
    assert n_dash == len(NO_GOLD)
    result = read_examples(
        path, mapping=ColumnMapping(user_template=TEMPLATE, assistant="gold_label")
    )
    assert len(result.examples) == len(read_csv(path))  # nothing dropped unless asked
    warnings = [w.message for w in result.warnings if w.reason == "placeholder answers"]
    assert len(warnings) == 1
    assert f"{n_dash} of {len(result.examples)} examples" in warnings[0]
    assert f"'-' x{n_dash}" in warnings[0]
    assert "--drop-where 'gold_label=-'" in warnings[0]


def test_drop_rule_leaves_out_the_rows_and_counts_them(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    rows = read_csv(path)
    mapping = ColumnMapping(
        user_template=TEMPLATE,
        assistant="gold_label",
        drop_where=(DropRule.parse("gold_label=-"),),
    )
    result = read_examples(path, mapping=mapping)
    kept = [r for r in rows if r["gold_label"] != "-"]
    assert [e.raw["pairID"] for e in result.examples] == [r["pairID"] for r in kept]
    assert result.skipped_reasons() == {"dropped: gold_label = '-'": len(rows) - len(kept)}
    assert result.errors == []  # a row the user chose to drop is not a problem to list
    assert not [w for w in result.warnings if w.reason == "placeholder answers"]


def test_drop_rules_on_several_values_and_empty_cells(tmp_path: Path) -> None:
    rows = snli_rows()
    rows[0]["label2"] = ""
    rows[5]["gold_label"] = "N/A"
    path = write_snli(tmp_path / "snli.csv", rows)
    mapping = ColumnMapping(
        user=["sentence1", "sentence2"],
        assistant="gold_label",
        drop_where=(
            DropRule.parse('gold_label in ["-", "N/A"]'),
            DropRule.parse("label2 is empty"),
        ),
    )
    result = read_examples(path, mapping=mapping)
    dropped_by_gold = sum(r["gold_label"] in ("-", "N/A") for r in rows)
    assert result.skipped_reasons() == {
        "dropped: gold_label in ['-', 'N/A']": dropped_by_gold,
        "dropped: label2 is empty": 1,
    }
    assert len(result.examples) == len(rows) - dropped_by_gold - 1


@pytest.mark.parametrize(
    ("text", "column", "values"),
    [
        ("gold_label=-", "gold_label", ("-",)),
        ("gold_label == -", "gold_label", ("-",)),
        ("label in [-, N/A, ?]", "label", ("-", "N/A", "?")),
        ('label in ["a, b", "c"]', "label", ("a, b", "c")),
        ("note is empty", "note", ("",)),
        ("note=", "note", ("",)),
        ("#1 String = x", "#1 String", ("x",)),
    ],
)
def test_drop_rule_forms(text: str, column: str, values: tuple[str, ...]) -> None:
    rule = DropRule.parse(text)
    assert (rule.column, rule.values) == (column, values)


@pytest.mark.parametrize("text", ["gold_label", "=-", "label in []", "   "])
def test_unreadable_drop_rules_name_the_text(text: str) -> None:
    with pytest.raises(MappingError) as info:
        DropRule.parse(text)
    assert "drop rule" in str(info.value)


def test_drop_rule_matches_typed_cells() -> None:
    rule = DropRule("score", ("0", ""))
    assert rule.matches({"score": 0}) and rule.matches({"score": None})
    assert rule.matches({}) and rule.matches({"score": "  0 "})
    assert not rule.matches({"score": 1}) and not rule.matches({"score": [0]})


def test_unknown_template_column_is_named_with_the_available_ones(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    mapping = ColumnMapping(
        user_template="Premise: {sentence1}\nHypothesis: {sentence3} {pair}", assistant="gold_label"
    )
    with pytest.raises(MappingError) as info:
        read_examples(path, mapping=mapping)
    message = str(info.value)
    assert "'sentence3', 'pair'" in message
    assert "Available columns: gold_label, sentence1, sentence2" in message


def test_unknown_drop_rule_column_is_named(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    mapping = ColumnMapping(
        user=["sentence1"], assistant="gold_label", drop_where=(DropRule("gold", ("-",)),)
    )
    with pytest.raises(MappingError, match="names column 'gold'"):
        read_examples(path, mapping=mapping)


def test_template_and_user_columns_together_are_refused(tmp_path: Path) -> None:
    path = write_snli(tmp_path / "snli.csv")
    mapping = ColumnMapping(user=["sentence1"], user_template=TEMPLATE, assistant="gold_label")
    with pytest.raises(MappingError, match="not both"):
        read_examples(path, mapping=mapping)


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("Premise: {sentence1", "unclosed '{' at character 10"),
        ("Premise: sentence1}", "'}' without its '{' at character 19"),
        ("Premise: {} and {sentence2}", "empty {} at character 10"),
        ("Premise and hypothesis", "names no column"),
        ("{{literal}} only", "names no column"),
    ],
)
def test_template_syntax_errors(template: str, match: str) -> None:
    with pytest.raises(MappingError, match=match):
        parse_template(template)


def test_template_braces_and_spaced_column_names() -> None:
    assert template_columns("{{json}}: { a b }, {#1 String}, {a b}") == ["a b", "#1 String"]


def test_rows_whose_template_columns_are_all_empty_are_skipped_with_their_row(
    tmp_path: Path,
) -> None:
    rows = snli_rows()
    rows[2]["sentence1"] = rows[2]["sentence2"] = ""
    path = write_snli(tmp_path / "snli.csv", rows)
    result = read_examples(
        path, mapping=ColumnMapping(user_template=TEMPLATE, assistant="gold_label")
    )
    assert len(result.examples) == len(rows) - 1
    assert [e.line for e in result.errors] == [3]
    assert (
        "every column of the template is empty (sentence1, sentence2)" in result.errors[0].message
    )


def test_mrpc_with_a_template_and_a_drop_rule() -> None:
    path = data_file("mrpc/msr_paraphrase_train.txt")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header, body = lines[0].split("\t"), lines[1:]
    good = [line.split("\t") for line in body if len(line.split("\t")) == len(header)]
    template = "Sentence 1: {#1 String}\nSentence 2: {#2 String}\nAre they paraphrases?"
    mapping = ColumnMapping(
        user_template=template, assistant="Quality", drop_where=(DropRule.parse("Quality=0"),)
    )
    result = read_examples(path, mapping=mapping)
    positives = [f for f in good if f[0] == "1"]
    assert len(result.examples) == len(positives)
    assert result.skipped_reasons()["dropped: Quality = '0'"] == sum(f[0] == "0" for f in good)
    first = result.examples[0]
    assert first.prompt == (
        f"Sentence 1: {positives[0][3]}\nSentence 2: {positives[0][4]}\nAre they paraphrases?"
    )
    assert first.response == "1" and set(first.metadata) == {"#1 ID", "#2 ID"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-", True),
        (" -- ", True),
        ("?", True),
        ("...", True),
        ("***", True),
        ("N/A", True),
        ("n/a", True),
        ("TBD", True),
        ("neutral", False),
        ("0", False),
        ("1", False),
        ("-1", False),
        ("?!", False),
        ("", False),
        ("None of the above", False),
    ],
)
def test_what_counts_as_a_placeholder(text: str, expected: bool) -> None:
    assert is_placeholder(text) is expected


def test_placeholder_warning_threshold() -> None:
    many = ["entailment"] * 297
    assert placeholder_warning(many + ["-", "-"]) is None  # 2 of 299: under 3 and under 1 %
    assert placeholder_warning(many + ["-", "-", "?"]) is not None  # 3 rows
    assert placeholder_warning(["yes"] * 49 + ["N/A"]) is not None  # 1 of 50 = 2 %


def test_placeholders_in_a_detected_shape_point_to_browse(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [{"instruction": f"Question {i}?", "input": "", "output": "-"} for i in range(3)]
    rows += [{"instruction": "Say hi", "input": "", "output": "Hi"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = read_examples(path)
    assert result.detected_format == "alpaca"
    (warning,) = [w.message for w in result.warnings if w.reason == "placeholder answers"]
    assert "3 of 4 examples have a placeholder as their answer ('-' x3)" in warning
    assert "Browse" in warning
