"""AppTest of the Import page: detection, preview, errors with line numbers, mapping, import."""

from __future__ import annotations

import json
from pathlib import Path

from curation.store import Store

PAGE = "pages/import_page.py"


def test_import_local_file(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    path = shared_data / "fastchat" / "dummy_conversation.json"
    n = len(json.loads(path.read_text()))
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Detected format"] == "sharegpt"
    assert metrics["Importable"] == str(n)
    at.button(key="import_button").click().run()
    assert not at.exception
    assert store.count_examples("p") == n
    assert any(f"imported {n} examples" in s.value for s in at.success)
    events = store.events("p", kinds=["import"])
    assert events[0]["author"] == "ada"


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
    errors = at.dataframe[0].value
    assert list(errors["line"]) == [2]
    at.button(key="import_button").click().run()
    assert store.count_examples("p") == 2


def test_mapping_for_unknown_table(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    path = tmp_path / "qa.csv"
    path.write_text("question,reply,topic\nWhat is 2+2?,4,math\nCapital of France?,Paris,geo\n")
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    raw = at.dataframe[0].value  # the file's first rows, to choose the mapping from
    assert list(raw.columns) == ["question", "reply", "topic"] and list(raw["reply"]) == [
        "4",
        "Paris",
    ]
    at.multiselect(key="map_user_0").set_value(["question"]).run()
    at.selectbox(key="map_assistant_0").set_value("reply").run()
    at.button(key="import_button").click().run()
    assert not at.exception
    rows = store.list_examples("p")
    assert [r.example.messages[0].content for r in rows] == ["What is 2+2?", "Capital of France?"]
    assert [r.example.messages[1].content for r in rows] == ["4", "Paris"]
    assert rows[0].example.metadata.get("topic") == "math"


def test_reimport_same_file_is_refused(open_page, store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    path = shared_data / "llamafactory" / "identity.json"
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(path)).run()
    at.button(key="import_button").click().run()
    at.button(key="import_button").click().run()
    assert store.count_examples("p") == 91
    assert any("already imported" in w.value for w in at.warning)


def test_missing_path_is_an_error(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    at = open_page(PAGE)
    at.text_input(key="import_path").input(str(tmp_path / "nope.jsonl")).run()
    assert any("No file or folder" in e.value for e in at.error)
