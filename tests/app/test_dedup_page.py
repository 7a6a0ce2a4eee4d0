"""AppTest of the Deduplicate page: run, review a cluster, resolve, apply to all, undo, contamination."""

from __future__ import annotations

import json
from pathlib import Path

from curation.dedup.project import load_run
from curation.formats import read_examples
from curation.store import ExampleFilter, Store

PAGE = "pages/dedup_page.py"
# q0/q2/q4 are one example written three ways (case, spacing, punctuation); q1/q3 another.
ROWS = [
    ("How do I boil an egg?", "Put it in boiling water for nine minutes."),
    ("Name three primary colours.", "Red, yellow and blue."),
    ("how do I  boil an EGG?", "Put it in boiling water for nine minutes!"),
    ("Name three primary colours", "red, yellow and blue"),
    ("How do I boil an egg", "put it in boiling water, for nine minutes"),
    ("What is the capital of Peru?", "Lima."),
]


def _project(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")


def _run_exact(at) -> None:
    at.radio(key="dedup_method").set_value("exact")
    at.button[[b.label for b in at.button].index("Find duplicates")].click().run()
    assert not at.exception, at.exception


def test_run_resolve_apply_undo(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert any("has not run" in i.value for i in at.info)
    _run_exact(at)
    clusters = at.dataframe[0].value
    assert list(clusters["size"]) == [3, 2]

    # first cluster: keep q2 by hand
    at.selectbox(
        key=next(s.key for s in at.selectbox if s.key.startswith("dedup_keep_"))
    ).set_value("q2").run()
    at.button(key="dedup_resolve").click().run()
    members = store.get_examples("p", ["q0", "q2", "q4"])
    assert members["q2"].status == "active"
    assert members["q0"].duplicate_of == members["q4"].duplicate_of == "q2"

    # the other cluster through "apply to all" with policy first
    at.selectbox(key="dedup_policy").set_value("first").run()
    at.button(key="dedup_apply_all").click().run()
    assert store.get_example("p", "q3").duplicate_of == "q1"
    assert store.get_example("p", "q2").status == "active"  # resolved clusters are kept as decided

    at.button(key="dedup_undo").click().run()
    assert store.get_example("p", "q3").status == "active"
    assert store.get_example("p", "q0").status == "duplicate"
    assert store.events("p", kinds=["undo"])[0]["author"] == "ada"


def test_contamination_upload_flags_examples(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    at.file_uploader[0].set_value(
        ("bench.txt", b"What is the capital of Peru?\nWho wrote Hamlet?\n", "text/plain")
    ).run()
    at.radio(key="contam_method").set_value("exact")
    at.checkbox(key="contam_flag").check()
    at.button(key="contam_run").click().run()
    assert not at.exception, at.exception
    assert store.count_examples("p", ExampleFilter(statuses=["filtered"])) == 1
    assert store.get_example("p", "q5").status == "filtered"


def test_semantic_run_uses_the_local_model(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    at.radio(key="dedup_method").set_value("semantic")
    # The first run loads torch and the model: give it longer than a page's usual 60 s.
    at.button[[b.label for b in at.button].index("Find duplicates")].click().run(timeout=600)
    assert not at.exception, at.exception
    summary = next(m.value for m in at.markdown if m.value.startswith("**Run"))
    assert "sentence-transformers:all-MiniLM-L6-v2" in summary
    run = load_run(store, "p")
    assert run is not None
    groups = [set(c.members) for c in run.clusters]
    assert {"q0", "q2", "q4"} <= set().union(*groups)
    assert not any("q5" in g for g in groups)


# An SNLI shape: one premise, different hypotheses and labels. Each pair shares 30 of 34 prompt
# words (a near duplicate as one text) but never its answer.
PREMISE = (
    "A man in a blue coat is walking his two dogs along a quiet beach at sunrise while gulls "
    "circle over the grey water and a fishing boat heads out past the old stone pier"
)
SNLI_ROWS = [
    (f"Premise: {PREMISE}\nHypothesis: The man is outdoors with animals.", "entailment"),
    (f"Premise: {PREMISE}\nHypothesis: The man is asleep in his bed.", "contradiction"),
    (f"Premise: {PREMISE}\nHypothesis: The man is training the dogs.", "neutral"),
]


def _rows_project(store: Store, tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "instruction": q, "output": a}, ensure_ascii=False) + "\n"
            for i, (q, a) in enumerate(rows)
        ),
        encoding="utf-8",
    )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")


def test_same_prompt_different_answers_listed_apart_and_left_by_apply_all(
    open_page, store: Store, tmp_path: Path
) -> None:
    _rows_project(store, tmp_path, SNLI_ROWS)
    at = open_page(PAGE)
    at.button[[b.label for b in at.button].index("Find duplicates")].click().run()
    assert not at.exception, at.exception
    assert any("No duplicates found" in s.value for s in at.success)
    assert any(s.value.startswith("Same prompt, different answers · 1") for s in at.subheader)
    group = at.dataframe(key="dedup_same_prompt").value
    assert list(group["size"]) == [3]
    assert {t.value for t in at.text} >= {"entailment", "contradiction", "neutral"}
    run = load_run(store, "p")
    assert run is not None and [sorted(g.members) for g in run.same_prompt] == [["s0", "s1", "s2"]]
    at.button(key="dedup_apply_all").click().run()
    assert set(store.statuses("p", ["s0", "s1", "s2"]).values()) == {"active"}


def _plain(markdown: str) -> str:
    """A message that went through ui.safe.esc, read back without its escapes."""
    return markdown.replace("\\", "").replace("\u2060", "")


CHINESE_ROWS = [
    (
        "用三句话介绍一下长城的历史。",
        "长城始建于春秋战国时期，秦朝统一后连接成万里长城，明朝又大规模重修。",
    ),
    ("请把下面这句话翻译成英文：今天天气很好。", "The weather is very nice today."),
    (
        "推荐三本适合初学者的编程书。",
        "可以从《Python编程：从入门到实践》、《笨办法学Python》和《代码大全》开始。",
    ),
    (
        "解释一下什么是光合作用。",
        "光合作用是植物利用光能，把二氧化碳和水转化为有机物并释放氧气的过程。",
    ),
]


def test_chinese_project_warns_that_the_english_model_is_unreliable(
    open_page, store: Store, tmp_path: Path
) -> None:
    _rows_project(store, tmp_path, CHINESE_ROWS)
    at = open_page(PAGE)
    assert not at.exception, at.exception
    warnings = [_plain(w.value) for w in at.warning]
    assert any("English-only" in w and "zh 100%" in w for w in warnings), warnings
    method = at.radio(key="dedup_method")
    assert method.value == "near"
    assert "semantic (unreliable here)" in method.options


def test_english_project_has_no_language_warning(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert not any("English-only" in _plain(w.value) for w in at.warning)
    assert "semantic" in at.radio(key="dedup_method").options
