"""AppTest of the Deduplicate page: run, review a cluster, resolve, apply to all, undo, contamination."""

from __future__ import annotations

import json
from pathlib import Path

from curation.dedup.project import load_run
from curation.formats import read_examples
from curation.store import ExampleFilter, Store
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from ui.safe import esc

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


def _run_exact(at, store: Store) -> None:
    at.radio(key="dedup_method").set_value("exact")
    at.button[[b.label for b in at.button].index("Find duplicates")].click().run()
    finish_jobs(at, store)
    assert not at.exception, at.exception


def test_run_resolve_apply_undo(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert any("has not run" in i.value for i in at.info)
    _run_exact(at, store)
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
    finish_jobs(at, store, timeout=600)
    assert not at.exception, at.exception
    summary = next(shown(m.value) for m in at.markdown if m.value.startswith("**Run"))
    assert "sentence-transformers:all-MiniLM-L6-v2" in summary
    run = load_run(store, "p")
    assert run is not None
    groups = [set(c.members) for c in run.clusters]
    assert {"q0", "q2", "q4"} <= set().union(*groups)
    assert not any("q5" in g for g in groups)


def test_static_model_choice_shows_its_own_threshold(
    open_page, store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert not any(r.key == "dedup_semantic_backend" for r in at.radio)  # near: no model choice
    at.radio(key="dedup_method").set_value("semantic").run()
    assert at.radio(key="dedup_semantic_backend").value == "auto"
    assert at.slider(key="dedup_threshold_semantic").value == 0.9
    at.radio(key="dedup_semantic_backend").set_value("static").run()
    assert not at.exception, at.exception
    assert at.slider(key="dedup_threshold_semantic_static").value == 0.95
    assert any("cosine **0.95**" in c.value for c in at.caption)


BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"


def test_threshold_shown_is_the_one_a_run_uses(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    slider = at.slider(key="dedup_threshold_near")
    assert slider.value == 0.7 and slider.disabled  # near's default, not 0.80
    assert any("Jaccard **0.70** (the near default)" in c.value for c in at.caption)
    at.button(key="dedup_find").click().run()
    finish_jobs(at, store)
    assert load_run(store, "p").threshold == 0.7

    at.radio(key="dedup_method").set_value("semantic").run()
    assert at.slider(key="dedup_threshold_semantic").value == 0.9
    assert any("cosine **0.90** (the semantic default)" in c.value for c in at.caption)
    at.radio(key="dedup_method").set_value("exact").run()
    assert any("Exact matching has no threshold" in c.value for c in at.caption)

    at.radio(key="dedup_method").set_value("near").run()
    at.checkbox(key="dedup_custom_threshold").check().run()
    assert not at.slider(key="dedup_threshold_near").disabled
    at.slider(key="dedup_threshold_near").set_value(0.85).run()
    assert any("Jaccard **0.85** (set here)" in c.value for c in at.caption)
    at.button(key="dedup_find").click().run()
    finish_jobs(at, store)
    assert load_run(store, "p").threshold == 0.85
    # unticked again, the slider shows the default that a run then uses
    at.checkbox(key="dedup_custom_threshold").uncheck().run()
    assert at.slider(key="dedup_threshold_near").value == 0.7
    assert any("Jaccard **0.70** (the near default)" in c.value for c in at.caption)
    at.button(key="dedup_find").click().run()
    finish_jobs(at, store)
    assert load_run(store, "p").threshold == 0.7
    assert not at.warning  # no "default value and Session State" clash warning


def test_every_saved_run_can_be_opened(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    _run_exact(at, store)
    first = load_run(store, "p")
    at.radio(key="dedup_method").set_value("near").run()
    at.button(key="dedup_find").click().run()
    finish_jobs(at, store)
    second = load_run(store, "p")
    assert first is not None and second is not None and second.run_id > first.run_id
    picker = at.selectbox(key="dedup_run_picker")
    assert picker.value == second.run_id
    labels = picker.options
    assert len(labels) == 2
    assert labels[0].startswith(f"Run {second.run_id} · near · all · threshold 0.7")
    assert labels[1].startswith(f"Run {first.run_id} · exact · all · ")
    assert labels[1].endswith("ada · 2 cluster(s)")
    picker.set_value(first.run_id).run()
    summary = next(m.value for m in at.markdown if m.value.startswith("**Run"))
    assert summary.startswith(f"**Run {first.run_id}**: exact")


def _alpaca_eval_project(store: Store) -> dict[str, str]:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(BENCH / "alpaca_eval_outputs.json"), "ada")
    return {e.id: e.example.prompt for e in store.list_examples("p", limit=None)}


def test_mt_bench_reference_shows_both_texts_side_by_side(open_page, store: Store) -> None:
    prompts = _alpaca_eval_project(store)
    at = open_page(PAGE)
    data = (BENCH / "mt_bench_question.jsonl").read_bytes()
    at.file_uploader(key="contam_file").set_value(("question.jsonl", data, "application/json"))
    at.run()
    described = esc("14 reference item(s) from question.jsonl (field 'turns')")
    assert any(described in c.value for c in at.caption)
    at.button(key="contam_run").click().run()
    assert not at.exception, at.exception
    assert any("2 of 6 active example(s) match" in w.value for w in at.warning)
    table = next(d.value for d in at.dataframe if "reference text" in d.value.columns)
    assert list(table.columns[:4]) == ["example", "similarity", "example text", "reference text"]
    assert set(table["reference text"]) == {
        json.loads(line)["turns"][0]
        for line in data.decode().splitlines()
        if json.loads(line)["question_id"] in (81, 130)
    }
    for _, row in table.iterrows():
        assert row["example text"] == prompts[row["example"]] == row["reference text"]
        assert row["similarity"] == 1.0


def test_reference_field_is_picked_when_it_cannot_be_told(open_page, store: Store) -> None:
    _alpaca_eval_project(store)
    at = open_page(PAGE)
    odd = b'{"task": "Write a haiku about the first snow of winter.", "note": "n1"}\n'
    odd += b'{"task": "Name a prime number.", "note": "n2"}\n'
    at.file_uploader(key="contam_file").set_value(("odd.jsonl", odd, "application/json")).run()
    assert any("cannot tell which field" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "contam_run"]  # no check against nothing
    picker = next(s for s in at.selectbox if s.key.startswith("contam_field_"))
    assert picker.options == ["(auto)", "task", "note"]
    picker.set_value("task").run()
    assert not at.error
    at.radio(key="contam_method").set_value("exact")
    at.button(key="contam_run").click().run()
    assert any("1 of 6 active example(s) match one of the 2" in w.value for w in at.warning)


def test_zero_reference_items_is_an_error_not_a_pass(open_page, store: Store) -> None:
    _alpaca_eval_project(store)
    at = open_page(PAGE)
    empty = b'{"question_id": 1, "category": "x", "turns": ["", " "]}\n'
    at.file_uploader(key="contam_file").set_value(("mt.jsonl", empty, "application/json")).run()
    assert any("0 reference items read from field" in e.value for e in at.error)
    assert not at.success
    assert not [b for b in at.button if b.key == "contam_run"]


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
    finish_jobs(at, store)
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
    warnings = [shown(w.value) for w in at.warning]
    assert any("English-only" in w and "zh 100%" in w for w in warnings), warnings
    method = at.radio(key="dedup_method")
    assert method.value == "near"
    assert "semantic (unreliable here)" in method.options


def test_english_project_has_no_language_warning(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert not any("English-only" in shown(w.value) for w in at.warning)
    assert "semantic" in at.radio(key="dedup_method").options
