"""AppTest of the Export page: selection counts, steps not run, readiness, export, failures."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.store import Store

PAGE = "pages/export_page.py"


def _table(at, *columns: str):
    """The first table on the page with exactly these columns."""
    for frame in at.dataframe:
        if list(frame.value.columns) == list(columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


READINESS = ("status", "check", "value", "note")
ERRORS = ("line", "id", "code", "problem")
LEFT_OUT = ("left out", "because", "detail")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_writes_validated_split(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "llamafactory" / "alpaca_en_demo.json"
    n = len(json.loads(source.read_text()))
    store.create_project("p", "ada")
    store.add_import("p", read_examples(source), "ada")
    dropped = [e.id for e in store.list_examples("p", limit=3)]
    store.set_status("p", dropped, "rejected", "ada", "bad")

    at = open_page(PAGE)
    assert f"**{n - 3:,}** active examples selected" in at.markdown[0].value
    steps = at.dataframe[0].value
    assert dict(zip(steps["step"], steps["status"], strict=True))["dedup"] == "not run yet"

    at.button(key="export_check").click().run()
    readiness = _table(at, *READINESS)
    rows = dict(zip(readiness["check"], readiness["status"], strict=True))
    assert rows["examples"] == "ok"
    assert rows["token budget"] in ("ok", "warning")  # measured by the dry run
    assert rows["PII residual"] == "not run"

    out = tmp_path / "out"
    at.selectbox(key="export_preset").set_value("openai").run()
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    train, valid = _lines(out / "train.jsonl"), _lines(out / "validation.jsonl")
    assert len(train) + len(valid) == n - 3
    assert abs(len(valid) - round(0.1 * (n - 3))) <= 5
    assert all(set(r) >= {"messages"} for r in train + valid)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["train"] == len(train)
    assert any(e["kind"] == "export" and e["author"] == "ada" for e in store.events("p"))
    assert any("Wrote" in s.value for s in at.success)


def test_unrepresentable_examples_block_the_export(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    store.create_project("p", "ada")
    store.add_import(
        "p", read_examples(shared_data / "llamafactory" / "glaive_toolcall_en_demo.json"), "ada"
    )
    at = open_page(PAGE)
    out = tmp_path / "out"
    at.selectbox(key="export_preset").set_value("alpaca").run()
    at.button(key="export_check").click().run()
    assert any("cannot be written as alpaca" in e.value for e in at.error)
    assert "tool_calls_unsupported" in set(_table(at, *ERRORS)["code"])
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    assert at.error, "tool-call conversations cannot be written as alpaca"
    assert not out.exists()

    at.checkbox(key="export_skip_unrepresentable").check().run()
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    records = json.loads(
        (shared_data / "llamafactory" / "glaive_toolcall_en_demo.json").read_text()
    )
    plain = [r for r in records if [t["from"] for t in r["conversations"]] == ["human", "gpt"]]
    written = _lines(out / "train.jsonl") + _lines(out / "validation.jsonl")
    assert sorted(r["instruction"] for r in written) == sorted(
        r["conversations"][0]["value"] for r in plain
    )


def test_boolean_metadata_filter_selects_what_it_says(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    from ui.filters import value_key

    path = shared_data / "self-instruct" / "seed_tasks.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    n_true = sum(len(r["instances"]) for r in raw if r["is_classification"] is True)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    at = open_page(PAGE)
    assert "is_classification" in at.selectbox(key="export_stratify").options
    at.selectbox(key="export_meta_field").set_value("is_classification").run()
    at.selectbox(key=value_key("export_meta", "is_classification")).set_value(True).run()
    assert f"**{n_true:,}** active examples selected" in at.markdown[0].value

    out = tmp_path / "out"
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    written = _lines(out / "train.jsonl") + _lines(out / "validation.jsonl")
    assert len(written) == n_true
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["metadata_filter"] == {"is_classification": True}


def _cut_fastchat(shared_data: Path, tmp_path: Path) -> tuple[Path, int]:
    """Real FastChat conversations, 30 of them cut to end on a user turn."""
    records = json.loads((shared_data / "fastchat" / "dummy_conversation.json").read_text())
    long = [r for r in records if len(r["conversations"]) >= 4]
    rows = [{**r, "conversations": r["conversations"][:-1]} for r in long[:30]] + records[:400]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(rows))
    return path, 30


def test_readiness_promises_what_the_export_writes(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    """The issue's case: readiness counted examples the export then left out."""
    path, n_cut = _cut_fastchat(shared_data, tmp_path)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    total = store.count_examples("p")
    at = open_page(PAGE)
    at.selectbox(key="export_preset").set_value("openai").run()
    at.button(key="export_check").click().run()
    assert any(f"{n_cut} example(s) cannot be written as openai" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    blocked = _table(at, *ERRORS)
    assert set(blocked["code"]) == {"last_not_assistant"} and len(blocked) == n_cut

    at.checkbox(key="export_skip_unrepresentable").check().run()
    assert any("settings changed" in i.value for i in at.info)
    at.button(key="export_check").click().run()
    promised = next(m.value for m in at.markdown if "The export writes" in m.value)
    left_out = _table(at, *LEFT_OUT)
    assert len(left_out) == n_cut and set(left_out["because"]) == {"last_not_assistant"}

    out = tmp_path / "out"
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    assert not at.exception, at.exception
    train, valid = _lines(out / "train.jsonl"), _lines(out / "validation.jsonl")
    assert len(train) + len(valid) == total - n_cut
    assert f"**{len(train):,}** train / **{len(valid):,}** eval" in promised
