"""The readiness dry run counts exactly what the export writes, for every preset, on real data.

A project holds real files, real FastChat conversations cut to end on a user turn (they wait for
an answer and never go out) and real FastChat conversations with a system turn moved into the
middle (what the OpenAI preset cannot carry); line counts are read back from the written files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.errors import ExportError, ValidationFailed
from curation.export import ExportSettings, get_preset, preset_names
from curation.export.from_project import dry_run_project, export_project
from curation.formats import read_examples
from curation.store import ExampleFilter, Store

FILES = (
    "dolly/random_selection_20_top_100.json",
    "llamafactory/identity.json",
    "llamafactory/glaive_toolcall_en_demo.json",
    "openai-cookbook/drone_training.jsonl",
    "openai-cookbook/toy_chat_fine_tuning.jsonl",
)


def _cut_conversations(shared_data: Path, tmp_path: Path, n: int = 40) -> tuple[Path, int]:
    """Real multi-turn FastChat records whose last gpt turn is removed (end on a user turn)."""
    records = json.loads((shared_data / "fastchat" / "dummy_conversation.json").read_text())
    long = [r for r in records if len(r["conversations"]) >= 4][:n]
    rows = [{**r, "conversations": r["conversations"][:-1]} for r in long]
    ok = [r for r in records if len(r["conversations"]) >= 4][n : 2 * n]
    path = tmp_path / "fastchat_cut.json"
    path.write_text(json.dumps(rows + ok))
    return path, len(rows)


def _misplaced_system(shared_data: Path, tmp_path: Path, n: int = 25) -> tuple[Path, int]:
    """Real multi-turn FastChat records with a system turn after their first exchange."""
    records = json.loads((shared_data / "fastchat" / "dummy_conversation.json").read_text())
    long = [r for r in records if len(r["conversations"]) >= 4][-n:]
    system = {"from": "system", "value": "Answer briefly."}
    rows = [
        {**r, "conversations": r["conversations"][:2] + [system] + r["conversations"][2:]}
        for r in long
    ]
    path = tmp_path / "fastchat_system.json"
    path.write_text(json.dumps(rows))
    return path, len(rows)


def _project(store: Store, shared_data: Path, tmp_path: Path) -> int:
    """The project; returns how many conversations end on a user turn (status needs_answer)."""
    store.create_project("p", "ada")
    for rel in FILES:
        store.add_import("p", read_examples(shared_data / rel), "ada")
    path, n_cut = _cut_conversations(shared_data, tmp_path)
    store.add_import("p", read_examples(path), "ada")
    return n_cut


def _active(store: Store) -> int:
    return int(store.stats("p")["by_status"]["active"])


def _written(out: Path, preset: str) -> dict[str, list[str]]:
    """Per split: the ids on its lines, from the files (manifest ids checked against lines)."""
    chosen = get_preset(preset)
    manifest = json.loads((out / "manifest.json").read_text())
    out_ids: dict[str, list[str]] = {}
    for split in ("train", "validation"):
        name = chosen.file_name(split)
        path = out / name
        if not path.exists():
            continue
        if chosen.file_ext == "parquet":
            import pyarrow.parquet as pq

            n_lines = pq.read_table(path).num_rows
        else:
            n_lines = len(path.read_text(encoding="utf-8").splitlines())
        ids = manifest["example_ids"][name]
        assert len(ids) == n_lines
        out_ids[split] = ids
    return out_ids


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    st = Store(f"sqlite:///{tmp_path / 's.db'}")
    yield st
    st.dispose()


@pytest.mark.parametrize("preset", preset_names("sft"))
def test_dry_run_counts_equal_written_lines_for_every_preset(
    preset: str, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    n_cut = _project(store, shared_data, tmp_path)
    settings = ExportSettings(preset, eval_fraction=0.1, seed=3, skip_unrepresentable=True)
    dry = dry_run_project(store, "p", settings)
    assert dry.ok, dry.report.errors[:3]
    out = tmp_path / "out"
    result = export_project(store, "p", out, preset, author="ada", settings=settings)
    written = _written(out, preset)
    assert (dry.train_count, dry.eval_count) == (
        len(written["train"]),
        len(written.get("validation", [])),
    )
    assert [e.id for e in dry.plan.train] == written["train"]
    assert [e.id for e in dry.plan.eval] == written.get("validation", [])
    # What the readiness summary promised is what the files hold.
    promised = {i.name: i.value for i in dry.readiness}
    assert promised["examples"] == len(written["train"])
    assert promised["eval size"] == len(written.get("validation", []))
    assert [i.to_dict() for i in dry.readiness] == [i.to_dict() for i in result.readiness]
    left_out = {
        w.example_id for w in result.validation.warnings if w.code == "skipped_unrepresentable"
    }
    assert left_out == set(dry.plan.unrepresentable_ids)
    total = _active(store)  # the conversations waiting for an answer are never selected
    assert dry.plan.n_selected == total == store.count_examples("p") - n_cut
    assert len(written["train"]) + len(written.get("validation", [])) + len(left_out) == total


def test_conversations_ending_on_a_user_turn_wait_for_an_answer_and_are_counted(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    n_cut = _project(store, shared_data, tmp_path)
    waiting = [e.id for e in store.list_examples("p", ExampleFilter(statuses=["needs_answer"]))]
    assert len(waiting) == n_cut
    dry = dry_run_project(store, "p", ExportSettings("openai", seed=1))
    assert dry.ok, dry.report.errors[:3]
    item = {i.name: i for i in dry.readiness}["needs an answer"]
    assert (item.value, item.status) == (n_cut, "warn")
    result = export_project(store, "p", tmp_path / "out", "openai", author="ada", seed=1)
    written = _written(tmp_path / "out", "openai")
    assert not set(waiting) & {i for ids in written.values() for i in ids}
    assert sum(map(len, written.values())) == _active(store)
    assert result.manifest["parameters"]["excluded"] == {"needs_answer": n_cut}
    assert result.manifest["curation_stats"]["import"]["needs_answer"] == n_cut


def test_openai_leaves_out_conversations_with_a_system_turn_in_the_middle(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    """Blocked by what OpenAI cannot carry; left out with --skip-unrepresentable, same counts."""
    _project(store, shared_data, tmp_path)
    path, n_bad = _misplaced_system(shared_data, tmp_path)
    store.add_import("p", read_examples(path), "ada")
    blocked = dry_run_project(store, "p", ExportSettings("openai", seed=1))
    assert not blocked.ok
    assert blocked.report.codes() == {"system_not_first": n_bad}
    with pytest.raises(ValidationFailed, match=f"{n_bad} example"):
        export_project(store, "p", tmp_path / "blocked", "openai", author="ada", seed=1)
    assert not (tmp_path / "blocked").exists()

    skip = ExportSettings("openai", seed=1, skip_unrepresentable=True)
    dry = dry_run_project(store, "p", skip)
    assert dry.ok and dry.plan.unrepresentable_codes() == {"system_not_first": n_bad}
    summary = json.loads(json.dumps(dry.summary(), default=str))
    assert summary["unrepresentable"] == {"system_not_first": n_bad}
    assert (summary["train"], summary["eval"]) == (dry.train_count, dry.eval_count)
    assert summary["validation"]["warnings"]["skipped_unrepresentable"] == n_bad
    # The blocked dry run already said what leaving them out would write.
    assert (blocked.train_count, blocked.eval_count) == (dry.train_count, dry.eval_count)
    result = export_project(
        store, "p", tmp_path / "out", "openai", author="ada", seed=1, skip_unrepresentable=True
    )
    written = _written(tmp_path / "out", "openai")
    assert (result.train_count, result.eval_count) == (dry.train_count, dry.eval_count)
    assert sum(map(len, written.values())) == _active(store) - n_bad
    event = store.events("p", kinds=["export"])[0]
    assert event["payload"]["left_out"] == n_bad


def test_eval_count_is_exact_after_leaving_examples_out(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    n_cut = _project(store, shared_data, tmp_path)
    settings = ExportSettings("alpaca", eval_count=25, seed=0, skip_unrepresentable=True)
    dry = dry_run_project(store, "p", settings)
    assert dry.eval_count == 25
    assert len(dry.plan.unrepresentable_ids) > n_cut  # tool calls, multi-turn, system prompts
    export_project(store, "p", tmp_path / "out", "alpaca", author="ada", settings=settings)
    assert len(_written(tmp_path / "out", "alpaca")["validation"]) == 25


def test_a_preset_that_carries_nothing_says_so(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    call = {"name": "get_time", "arguments": {"tz": "UTC"}}
    path.write_text(
        json.dumps(
            {
                "conversations": [
                    {"from": "human", "value": "What time is it?"},
                    {"from": "function_call", "value": json.dumps(call)},
                    {"from": "observation", "value": '{"time": "12:00"}'},
                    {"from": "gpt", "value": "It is noon."},
                ]
            }
        )
        + "\n"
    )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    settings = ExportSettings("alpaca", skip_unrepresentable=True)
    dry = dry_run_project(store, "p", settings)
    assert not dry.ok and dry.train_count == 0
    assert dry.report.codes() == {"tool_calls_unsupported": 1}
    with pytest.raises(ExportError, match="none of the 1 selected examples"):
        export_project(store, "p", tmp_path / "out", "alpaca", author="ada", settings=settings)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "nope"}, "unknown export preset 'nope'"),
        ({"preset": "openai", "eval_fraction": 1.5}, "eval_fraction 1.5"),
        ({"preset": "openai", "eval_count": -1}, "eval_count -1"),
        ({"preset": "openai", "seed": "7"}, "seed must be an integer"),
        ({"preset": "openai", "max_tokens": 0}, "max_tokens must be a positive integer"),
        ({"preset": "openai", "holdout_sources": "a.json"}, "not the string 'a.json'"),
    ],
)
def test_export_settings_name_the_bad_value(kwargs: dict, match: str) -> None:
    with pytest.raises(ExportError, match=match):
        ExportSettings(**kwargs)


def test_dry_run_matches_export_on_both_backends(
    db_url: str, shared_data: Path, tmp_path: Path
) -> None:
    st = Store(db_url)
    try:
        _project(st, shared_data, tmp_path)
        settings = ExportSettings("llama-factory-sharegpt", seed=5, skip_unrepresentable=True)
        dry = dry_run_project(st, "p", settings)
        export_project(st, "p", tmp_path / "out", settings.preset, author="ada", settings=settings)
        written = _written(tmp_path / "out", "llama-factory-sharegpt")
        assert [e.id for e in dry.plan.train] == written["train"]
        assert [e.id for e in dry.plan.eval] == written["validation"]
    finally:
        st.dispose()
