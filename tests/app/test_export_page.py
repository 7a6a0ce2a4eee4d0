"""AppTest of the Export page: selection counts, steps not run, readiness, export, failures."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.store import Store
from tests.app.waiting import finish_jobs

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
    finish_jobs(at, store)
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
    finish_jobs(at, store)
    assert at.error, "tool-call conversations cannot be written as alpaca"
    assert not out.exists()

    at.checkbox(key="export_skip_unrepresentable").check().run()
    at.button(key="export_run").click().run()
    finish_jobs(at, store)
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
    finish_jobs(at, store)
    assert not at.exception, at.exception
    written = _lines(out / "train.jsonl") + _lines(out / "validation.jsonl")
    assert len(written) == n_true
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["metadata_filter"] == {"is_classification": True}


def _fastchat_with_problems(shared_data: Path, tmp_path: Path) -> tuple[Path, int, int]:
    """Real FastChat conversations: 30 cut to end on a user turn (they wait for an answer), 20
    with a system turn moved after the first exchange (OpenAI cannot carry them), 400 as they are.
    """
    records = json.loads((shared_data / "fastchat" / "dummy_conversation.json").read_text())
    long = [r for r in records if len(r["conversations"]) >= 4]
    system = {"from": "system", "value": "Answer briefly."}
    cut = [{**r, "conversations": r["conversations"][:-1]} for r in long[:30]]
    moved = [
        {**r, "conversations": r["conversations"][:2] + [system] + r["conversations"][2:]}
        for r in long[-20:]
    ]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(cut + moved + records[:400]))
    return path, 30, 20


def test_readiness_promises_what_the_export_writes(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    """The issue's case: readiness counted examples the export then left out."""
    path, n_cut, n_bad = _fastchat_with_problems(shared_data, tmp_path)
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    total = store.count_examples("p")
    at = open_page(PAGE)
    assert f"{n_cut} still need an answer" in at.markdown[0].value
    at.selectbox(key="export_preset").set_value("openai").run()
    at.button(key="export_check").click().run()
    assert any(f"{n_bad} example(s) cannot be written as openai" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    blocked = _table(at, *ERRORS)
    assert set(blocked["code"]) == {"system_not_first"} and len(blocked) == n_bad
    readiness = _table(at, *READINESS)
    waiting = readiness[readiness["check"] == "needs an answer"]
    assert list(waiting["value"]) == [n_cut]

    at.checkbox(key="export_skip_unrepresentable").check().run()
    assert any("settings changed" in i.value for i in at.info)
    at.button(key="export_check").click().run()
    promised = next(m.value for m in at.markdown if "The export writes" in m.value)
    left_out = _table(at, *LEFT_OUT)
    assert len(left_out) == n_bad and set(left_out["because"]) == {"system_not_first"}

    out = tmp_path / "out"
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    finish_jobs(at, store)
    assert not at.exception, at.exception
    train, valid = _lines(out / "train.jsonl"), _lines(out / "validation.jsonl")
    assert len(train) + len(valid) == total - n_cut - n_bad
    assert f"**{len(train):,}** train / **{len(valid):,}** eval" in promised


def test_preference_data_shows_what_goes_out_and_what_is_left_out(
    open_page, store: Store, tmp_path: Path
) -> None:
    from curation.formats.results import ImportResult
    from curation.records import Candidate, Example, Message, pair

    pairs = [
        Example(
            f"p{i}",
            [Message("user", f"What is {i} plus {i}?")],
            candidates=pair(
                [Message("assistant", f"{i} plus {i} is {2 * i}.")],
                [Message("assistant", f"It is {2 * i + 1}.")],
            ),
        )
        for i in range(12)
    ]
    tie = Example(
        "tie",
        [Message("user", "Pick a colour.")],
        candidates=[
            Candidate([Message("assistant", "Blue.")], rank=1),
            Candidate([Message("assistant", "Red.")], rank=1),
        ],
    )
    plain = Example("plain", [Message("user", "Say hi."), Message("assistant", "Hi!")])
    store.create_project("p", "ada")
    store.add_import(
        "p",
        ImportResult(examples=[*pairs, tie, plain], source="prefs.jsonl", sha256="b" * 64),
        "ada",
    )
    at = open_page(PAGE)
    at.selectbox(key="export_preset").set_value("trl-dpo").run()
    selected = next(m.value for m in at.markdown if m.value.startswith("Selected"))
    assert (
        "**13** preference examples" in selected
    )  # the tie included and "**1** plain conversations" in selected
    assert "they give **12** rows" in selected
    left = _table(at, "reason", "code", "examples")
    assert dict(zip(left["code"], left["examples"], strict=True)) == {"no_candidates": 1, "tie": 1}

    at.button(key="export_check").click().run()
    assert not at.exception, at.exception
    # the selection's counts, then the dry run's (what the Export button writes)
    tables = [
        f.value for f in at.dataframe if list(f.value.columns) == ["reason", "code", "examples"]
    ]
    assert len(tables) == 2
    assert dict(zip(tables[1]["code"], tables[1]["examples"], strict=True)) == {
        "no_candidates": 1,
        "tie": 1,
    }
    readiness = _table(at, *READINESS)
    assert "length bias" in set(readiness["check"])

    at.selectbox(key="export_preset").set_value("trl-messages").run()
    assert any(
        "12 preference examples go out as their prompt plus the chosen" in i.value for i in at.info
    )
    out = tmp_path / "out"
    at.text_input(key="export_folder").input(str(out)).run()
    at.button(key="export_run").click().run()
    finish_jobs(at, store)
    assert not at.exception, at.exception
    written = _lines(out / "train.jsonl") + _lines(out / "validation.jsonl")
    answers = sorted(r["messages"][-1]["content"] for r in written)
    assert answers == sorted(["Hi!", *(f"{i} plus {i} is {2 * i}." for i in range(12))])
