"""AppTest of the Import page: detection, what each file adds before the click, mapping, import.

Files are real ones from the shared data folder (and tables written here); counts expected from
the files themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curation.formats import read_examples
from curation.store import Store
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from tests.unit.test_formats_mapping import read_csv, write_snli

PAGE = "pages/import_page.py"
PLAN = "new examples"


def _table(at: Any, column: str) -> Any:
    """The first table on the page that has this column."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def _in_order(node: Any) -> list[Any]:
    """Every element of the page in the order it is drawn."""
    out = []
    for child in getattr(node, "children", {}).values():
        out.append(child)
        out.extend(_in_order(child))
    return out


def _button(at: Any) -> Any:
    return at.button(key="import_button")


def _import(at: Any, store: Store) -> None:
    """Click Import and wait for its background job, as the page's refresh would."""
    _button(at).click().run()
    assert not at.exception, at.exception
    finish_jobs(at, store)


def test_import_local_file(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    path = shared_data / "fastchat" / "dummy_conversation.json"
    n = len(json.loads(path.read_text()))
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Detected format"] == "sharegpt"
    assert metrics["Importable"] == str(n)
    plan = _table(at, PLAN)
    assert list(plan[PLAN]) == [n] and list(plan["ids already in project"]) == [0]
    assert shown(_button(at).label) == f"Import {n:,} new examples into p"
    _import(at, store)
    assert not at.exception
    assert store.count_examples("p") == n
    assert any(f"imported {n} examples" in s.value for s in at.success)
    events = store.events("p", kinds=["import"])
    assert events[0]["author"] == "ada"
    # The inputs are empty again and the summary is the first thing on the page.
    assert at.text_input(key="import_path").value == ""
    assert not at.tabs and not [b for b in at.button if b.key == "import_button"]
    order = _in_order(at.main)
    first_success = next(i for i, e in enumerate(order) if getattr(e, "type", "") == "success")
    uploader = next(i for i, e in enumerate(order) if getattr(e, "type", "") == "file_uploader")
    assert first_success < uploader


def test_button_counts_only_what_is_new(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    """The issue's case: "Import 2461" counted a file imported before; 2,161 were added."""
    store.create_project("p", "ada")
    identity = shared_data / "llamafactory" / "identity.json"
    store.add_import("p", read_examples(identity), "ada")
    fastchat = shared_data / "fastchat" / "dummy_conversation.json"
    records = json.loads(fastchat.read_text())
    part = records[:100] + [{**r, "id": f"copy_{r['id']}"} for r in records[100:150]]
    at = open_page(PAGE)
    at.file_uploader[0].set_value(
        [
            ("identity.json", identity.read_bytes(), "application/json"),
            ("dummy_conversation.json", fastchat.read_bytes(), "application/json"),
            ("part.json", json.dumps(part).encode(), "application/json"),
        ]
    ).run()
    assert not at.exception, at.exception
    plan = _table(at, PLAN)
    assert list(plan["file"]) == ["identity.json", "dummy_conversation.json", "part.json"]
    assert list(plan[PLAN]) == [0, len(records), 50]
    assert list(plan["ids in an earlier file"]) == [0, 0, 100]
    assert "imported before (identity.json" in plan["note"][0]
    expected = len(records) + 50
    assert shown(_button(at).label) == f"Import {expected:,} new examples from 2 files into p"
    assert [t.label for t in at.tabs] == [
        "identity\\.json",
        "dummy\\_conversation\\.json",
        "part\\.json",
    ]

    _import(at, store)
    assert store.count_examples("p") == 91 + expected
    assert any(f"Added {expected:,} examples from 3 files" in s.value for s in at.success)
    assert any("identity\\.json was already imported" in w.value for w in at.warning)
    uploader = at.file_uploader[0]
    assert uploader.key == "import_files_1" and not uploader.value  # a fresh, empty uploader


def test_a_file_imported_before_adds_nothing(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    path = shared_data / "llamafactory" / "identity.json"
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    _import(at, store)
    assert store.count_examples("p") == 91
    at.text_input(key="import_path").input(str(path)).run()
    assert _button(at).disabled and shown(_button(at).label) == "Import 0 new examples into p"
    assert "imported before" in _table(at, PLAN)["note"][0]
    at.checkbox(key="import_allow_reimport").check().run()
    plan = _table(at, PLAN)
    assert list(plan["ids already in project"]) == [91] and _button(at).disabled
    assert any("Nothing new to import" in c.value for c in at.caption)


def test_malformed_lines_are_listed_and_rest_imports(
    open_page, store: Store, tmp_path: Path
) -> None:
    store.create_project("p", "ada")
    path = tmp_path / "broken.jsonl"
    good = {"instruction": "Say hi", "input": "", "output": "Hi"}
    path.write_text(
        json.dumps(good) + "\n{not json\n" + json.dumps({**good, "output": "Hello"}) + "\n"
    )
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    errors = _table(at, "problem")
    assert list(errors["line"]) == [2]
    assert list(_table(at, PLAN)["records skipped"]) == [1]
    _import(at, store)
    assert store.count_examples("p") == 2


def test_mapping_for_unknown_table(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    path = tmp_path / "qa.csv"
    path.write_text("question,reply,topic\nWhat is 2+2?,4,math\nCapital of France?,Paris,geo\n")
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    raw = _table(at, "reply")  # the file's first rows, to choose the mapping from
    assert list(raw.columns) == ["question", "reply", "topic"] and list(raw["reply"]) == [
        "4",
        "Paris",
    ]
    assert "map its columns" in _table(at, PLAN)["note"][0] and _button(at).disabled
    at.multiselect(key="map_user_0").set_value(["question"]).run()
    at.selectbox(key="map_assistant_0").set_value("reply").run()
    _import(at, store)
    assert not at.exception
    rows = store.list_examples("p")
    assert [r.example.messages[0].content for r in rows] == ["What is 2+2?", "Capital of France?"]
    assert [r.example.messages[1].content for r in rows] == ["4", "Paris"]
    assert rows[0].example.metadata.get("topic") == "math"


def test_template_and_drop_rule_from_the_page(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    path = write_snli(tmp_path / "snli.csv")
    rows = read_csv(path)
    kept = [r for r in rows if r["gold_label"] != "-"]
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    at.text_area(key="map_template_0").input("Premise: {sentence1}\nHypothesis: {sentence2}").run()
    assert at.multiselect(key="map_user_0").disabled
    at.selectbox(key="map_assistant_0").set_value("gold_label").run()
    assert any("placeholder as the answer column" in w.value for w in at.warning)
    assert list(_table(at, PLAN)[PLAN]) == [len(rows)]

    at.selectbox(key="map_drop_column_0").set_value("gold_label").run()
    assert "-" in at.multiselect(key="map_drop_values_0").options
    at.multiselect(key="map_drop_values_0").set_value(["-"]).run()
    assert not any("placeholder" in w.value for w in at.warning)
    plan = _table(at, PLAN)
    assert list(plan[PLAN]) == [len(kept)]
    assert f"dropped: gold_label = '-': {len(rows) - len(kept)}" in plan["note"][0]
    _import(at, store)
    prompts = [e.example.prompt for e in store.list_examples("p", limit=None)]
    assert prompts == [f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}" for r in kept]


def test_unknown_template_column_is_named(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    path = write_snli(tmp_path / "snli.csv")
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    at.selectbox(key="map_assistant_0").set_value("gold_label").run()
    at.text_area(key="map_template_0").input("{sentence1} / {sentence_2}").run()
    assert any("sentence\\_2" in e.value and "Available columns" in e.value for e in at.error)
    assert _button(at).disabled


def test_missing_path_is_an_error(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(tmp_path / "nope.jsonl")).run()
    assert any("No file or folder" in e.value for e in at.error)
    assert "no file or folder" in _table(at, PLAN)["note"][0]


PREFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "preference"


def test_ratings_file_offers_the_rule_and_margin_and_imports_with_them(
    open_page, store: Store
) -> None:
    store.create_project("p", "ada")
    path = PREFERENCE / "ultrafeedback.jsonl"
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Detected format"] == "ultrafeedback"
    assert at.selectbox(key="ratings_rule_0").value == "best-vs-worst"
    assert any(shown(c.value) == "Of the importable examples: 3 pairs" for c in at.caption)

    at.selectbox(key="ratings_rule_0").set_value("best-vs-second").run()
    at.number_input(key="min_margin_0").set_value(1.0).run()
    assert any(shown(c.value) == "Of the importable examples: 1 pair, 2 ties" for c in at.caption)
    _import(at, store)
    assert not at.exception
    by_prompt = {e.example.prompt: e.example for e in store.list_examples("p")}
    fruit = by_prompt["Name three fruits that are red."]
    assert [c.rank for c in fruit.candidates] == [1, None, None, 2]
    assert fruit.metadata["ratings_rule"] == "best-vs-second"
    assert any("In the file: 1 pair, 2 ties." in shown(s.value) for s in at.success)


def test_pair_file_shows_no_ratings_widgets(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    at = open_page(PAGE)
    path = PREFERENCE / "llama_factory_ranking_sharegpt.json"
    at.text_input(key="import_path").input(str(path)).run()
    assert not [s for s in at.selectbox if s.key == "ratings_rule_0"]
    _import(at, store)
    assert store.count_examples("p") == 3
    assert any("In the file: 3 pairs." in shown(s.value) for s in at.success)
