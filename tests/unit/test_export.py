"""Tests of the export core: splits, trainer presets, validation, leakage, card and manifest.

Built on the real public files in /work/shared/data; expected values come from the inputs.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.errors import ExportError, ValidationFailed
from curation.export import (
    CardInfo,
    export_dataset,
    leakage_check,
    make_zip,
    plan_split,
    preset_names,
    readiness_summary,
    split_examples,
    validate,
    write_split,
)
from curation.export.issues import TokenStats
from curation.records import Example, Message, normalize_text

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared test data not found at {DATA}")


# ---------------------------------------------------------------------------------------------
# Loading the real files
# ---------------------------------------------------------------------------------------------


def _local_loader(path: Path) -> list[Example]:
    """Minimal alpaca / sharegpt / openai reader, used only if curation.formats is missing."""
    text = path.read_text(encoding="utf-8")
    rows = (
        json.loads(text)
        if path.suffix == ".json"
        else [json.loads(x) for x in text.splitlines() if x.strip()]
    )
    out = []
    roles = {
        "human": "user",
        "gpt": "assistant",
        "system": "system",
        "function_call": "assistant",
        "observation": "tool",
    }
    for i, row in enumerate(rows):
        if "instruction" in row:
            user = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
            msgs = [Message("user", user), Message("assistant", row["output"])]
        elif "conversations" in row:
            msgs = []
            for m in row["conversations"]:
                role = roles[m["from"]]
                if m["from"] == "function_call":
                    msgs.append(Message("assistant", "", tool_calls=m["value"]))
                else:
                    msgs.append(Message(role, m["value"]))
        else:
            msgs = [
                Message(
                    m["role"],
                    m.get("content") or "",
                    tool_calls=json.dumps(m["tool_calls"]) if m.get("tool_calls") else None,
                )
                for m in row["messages"]
            ]
        meta = {k: v for k, v in row.items() if k in ("category", "parallel_tool_calls")}
        tools = row.get("tools")
        out.append(
            Example(
                id=f"{path.stem}-{i:06d}",
                messages=msgs,
                metadata=meta,
                source=path.name,
                tools=tools if isinstance(tools, str) or tools is None else json.dumps(tools),
                raw=row,
            )
        )
    return out


_CACHE: dict[str, list[Example]] = {}


def load(rel: str) -> list[Example]:
    """Examples of one shared data file (read once per session)."""
    if rel not in _CACHE:
        try:
            from curation.formats import read_examples
        except ImportError:
            _CACHE[rel] = _local_loader(DATA / rel)
        else:
            _CACHE[rel] = read_examples(DATA / rel).examples
    return _CACHE[rel]


ALPACA = "llamafactory/alpaca_en_demo.json"
IDENTITY = "llamafactory/identity.json"
GLAIVE = "llamafactory/glaive_toolcall_en_demo.json"
FASTCHAT = "fastchat/dummy_conversation.json"
TOY = "openai-cookbook/toy_chat_fine_tuning.jsonl"
DRONE = "openai-cookbook/drone_training.jsonl"
DOLLY = "dolly/random_selection_20_top_100.json"

# The sources each preset can carry in full (checked below against what the preset promises).
PRESET_SOURCES = {
    "openai": [DRONE, FASTCHAT, TOY, DOLLY],  # GLAIVE: see the varying-tools test
    "trl-messages": [GLAIVE, DRONE, FASTCHAT, TOY, DOLLY],
    "axolotl": [GLAIVE, DRONE, FASTCHAT, TOY, DOLLY],
    "hf-dataset": [GLAIVE, DRONE, FASTCHAT, TOY, DOLLY],
    "llama-factory-sharegpt": [GLAIVE, DRONE, FASTCHAT, TOY, DOLLY],
    "llama-factory-alpaca": [FASTCHAT, TOY, DOLLY, IDENTITY],
    "sharegpt": [FASTCHAT, TOY, DOLLY],
    "trl-prompt-completion": [FASTCHAT, TOY, DOLLY],
    "alpaca": [DOLLY, IDENTITY, ALPACA],
}


def mixed(sources: list[str], per_source: int = 120) -> list[Example]:
    out: list[Example] = []
    for rel in sources:
        out.extend(load(rel)[:per_source])
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def test_presets_under_test_are_all_registered() -> None:
    # the preference and KTO presets are tested in test_export_preference.py
    assert sorted(PRESET_SOURCES) == sorted(preset_names("sft"))


# ---------------------------------------------------------------------------------------------
# Every preset: export real data, load it with datasets, validate, compare shapes
# ---------------------------------------------------------------------------------------------


def _expected_roles(ex: Example) -> list[str]:
    return [m.role for m in ex.messages]


def _check_shape(preset: str, record: dict[str, Any], ex: Example) -> None:
    """Compare one written record with its source example (expectations from the example)."""
    roles = _expected_roles(ex)
    user_texts = [m.content for m in ex.messages if m.role == "user"]
    answers = [m.content for m in ex.messages if m.role == "assistant" and not m.tool_calls]
    if preset in ("openai", "trl-messages", "axolotl", "hf-dataset"):
        assert [m["role"] for m in record["messages"]] == roles
        assert [m["content"] for m in record["messages"] if m["role"] == "user"] == user_texts
        for m, src in zip(record["messages"], ex.messages, strict=True):
            if src.tool_calls:
                calls = m["tool_calls"]
                assert calls and all(isinstance(c["function"]["arguments"], str) for c in calls)
                names = [c.get("function", c)["name"] for c in _as_list(json.loads(src.tool_calls))]
                assert [c["function"]["name"] for c in calls] == names
            else:
                assert m["content"] == src.content
        if preset == "openai":
            assert isinstance(record.get("tools", []), list)
        elif "tools" in record:
            assert isinstance(record["tools"], str)
    elif preset in ("sharegpt", "llama-factory-sharegpt"):
        conv = record["conversations"]
        expected = []
        for m in ex.messages:
            tag = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}[
                m.role
            ]
            if m.tool_calls:
                tag = "function_call"
            if not (tag == "observation" and expected and expected[-1] == "observation"):
                expected.append(tag)
        assert [m["from"] for m in conv] == expected
        assert [m["value"] for m in conv if m["from"] == "human"] == user_texts
        if preset == "sharegpt":
            assert record["id"] == ex.id
    elif preset in ("alpaca", "llama-factory-alpaca"):
        assert record["output"] == answers[-1]
        last_user = user_texts[-1]
        joined = [record["instruction"] + j + record["input"] for j in ("\n\n", "\n", " ", "")]
        assert last_user in joined if record["input"] else record["instruction"] == last_user
        if "history" in record:
            assert record["history"] == [
                list(p) for p in zip(user_texts[:-1], answers[:-1], strict=True)
            ]
        if "system" in record:
            systems = [m.content for m in ex.messages if m.role == "system"]
            assert record["system"] == (systems[0] if systems else "")
    elif preset == "trl-prompt-completion":
        assert record["completion"] == [{"role": "assistant", "content": answers[-1]}]
        assert [m["role"] for m in record["prompt"]] == roles[:-1]
    else:  # pragma: no cover - a new preset must add its shape check here
        raise AssertionError(f"no shape check for {preset}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("preset", sorted(PRESET_SOURCES))
def test_preset_exports_real_data_that_loads_and_validates(preset: str, tmp_path: Path) -> None:
    import datasets

    examples = mixed(PRESET_SOURCES[preset])
    train, eval_ = split_examples(examples, 0.15, seed=7, group_by_duplicates=False)
    result = export_dataset(
        train,
        eval_,
        tmp_path / "out",
        preset,
        seed=7,
        parameters={"eval_fraction": 0.15},
        curation_stats={},
    )
    assert result.validation.ok, result.validation.errors[:5]
    assert result.train_count == len(train) and result.eval_count == len(eval_)
    files = result.manifest["example_ids"]
    assert list(files.values()) == [[e.id for e in train], [e.id for e in eval_]]
    # Loading both splits together with strict typing (on_mixed_types=None is how datasets < 4.7,
    # pinned by LLaMA-Factory and Unsloth, behaves).
    paths = {
        split: str(tmp_path / "out" / name)
        for split, name in zip(("train", "validation"), files, strict=True)
    }
    if preset == "hf-dataset":
        ds = datasets.load_dataset("parquet", data_files=paths, cache_dir=str(tmp_path / "hf"))
    else:
        ds = datasets.load_dataset(
            "json", data_files=paths, cache_dir=str(tmp_path / "hf"), on_mixed_types=None
        )
    assert ds["train"].num_rows == len(train) and ds["validation"].num_rows == len(eval_)
    by_id = {e.id: e for e in examples}
    for name, ids in files.items():
        path = tmp_path / "out" / name
        records = (
            (ds["train"].to_list() if name == next(iter(files)) else ds["validation"].to_list())
            if preset == "hf-dataset"
            else read_jsonl(path)
        )
        assert len(records) == len(ids)
        keysets = {tuple(r) for r in records}
        assert len(keysets) == 1, f"{name}: top-level keys vary: {keysets}"
        for record, ex_id in zip(records, ids, strict=True):
            _check_shape(preset, record, by_id[ex_id])


def test_openai_varying_tool_schemas_warn_and_really_break_strict_loading(tmp_path: Path) -> None:
    import datasets

    glaive = load(GLAIVE)[:150]
    train, eval_ = split_examples(glaive, 0.3, seed=1, group_by_duplicates=False)
    result = export_dataset(
        train, eval_, tmp_path / "out", "openai", seed=1, parameters={}, curation_stats={}
    )
    assert result.validation.ok
    assert result.validation.codes(level="warnings").get("schema_varies", 0) > 0
    by_id = {e.id: e for e in glaive}
    for name, ids in result.manifest["example_ids"].items():
        for record, ex_id in zip(read_jsonl(tmp_path / "out" / name), ids, strict=True):
            _check_shape("openai", record, by_id[ex_id])
    paths = {
        "train": str(tmp_path / "out/train.jsonl"),
        "validation": str(tmp_path / "out/validation.jsonl"),
    }
    with pytest.raises(Exception):  # noqa: B017 - any datasets cast error proves the warning
        datasets.load_dataset(
            "json", data_files=paths, cache_dir=str(tmp_path / "hf"), on_mixed_types=None
        )


def test_unrepresentable_examples_are_errors_with_their_ids(tmp_path: Path) -> None:
    glaive = load(GLAIVE)[:60]
    expected = {
        e.id
        for e in glaive
        if sum(m.role == "user" for m in e.messages) > 1
        or any(m.tool_calls or m.role == "tool" for m in e.messages)
    }
    assert expected
    with pytest.raises(ValidationFailed) as info:
        export_dataset(
            glaive, [], tmp_path / "out", "alpaca", seed=1, parameters={}, curation_stats={}
        )
    report = info.value.report
    assert {i.example_id for i in report.errors if i.example_id} == expected
    assert not (tmp_path / "out").exists(), "a failed export must leave no folder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], (
        "temp folder left behind"
    )
    # With skip, the same examples become warnings and the rest is written.
    result = export_dataset(
        glaive,
        [],
        tmp_path / "out",
        "alpaca",
        seed=1,
        parameters={},
        curation_stats={},
        on_unrepresentable="skip",
    )
    assert result.train_count == len(glaive) - len(expected)
    assert {
        i.example_id for i in result.validation.warnings if i.code == "skipped_unrepresentable"
    } == expected


def test_prompt_completion_strings_for_single_turn_data(tmp_path: Path) -> None:
    dolly = load(DOLLY)[:40]
    result = write_split(dolly, tmp_path / "train.jsonl", "trl-prompt-completion")
    rows = read_jsonl(result.path)
    for row, ex in zip(rows, dolly, strict=True):
        prompt, answer = ex.messages[0].content, ex.messages[1].content
        assert row["prompt"] == prompt
        boundary = prompt[-1:].isspace() or answer[:1].isspace()
        assert row["completion"] == (answer if boundary else " " + answer)
    assert validate(result.path, "trl-prompt-completion").ok


def test_write_split_keeps_schema_uniform_across_files(tmp_path: Path) -> None:
    plain = load(DOLLY)[:5]
    tooled = load(DRONE)[:5]
    everything = plain + tooled
    a = write_split(plain, tmp_path / "train.jsonl", "openai", layout_examples=everything)
    b = write_split(tooled, tmp_path / "validation.jsonl", "openai", layout_examples=everything)
    assert a.count == 5 and b.count == 5
    rows = read_jsonl(a.path) + read_jsonl(b.path)
    assert {tuple(r) for r in rows} == {("messages", "tools", "parallel_tool_calls")}
    assert [r["parallel_tool_calls"] for r in rows[5:]] == [
        e.metadata["parallel_tool_calls"] for e in tooled
    ]
    assert validate([a.path, b.path], "openai").ok


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


def _toy(
    n_groups: list[int], prompts: list[str] | None = None
) -> tuple[list[Example], list[list[int]]]:
    examples, groups, k = [], [], 0
    for g, size in enumerate(n_groups):
        members = []
        for _ in range(size):
            prompt = prompts[k] if prompts else f"question {k} about topic {g}"
            examples.append(
                Example(
                    id=f"ex{k:04d}",
                    messages=[Message("user", prompt), Message("assistant", f"answer {k}")],
                    metadata={"cat": "ab"[g % 2]} if k % 5 else {},
                    source=f"s{g % 3}",
                )
            )
            members.append(k)
            k += 1
        groups.append(members)
    return examples, groups


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=40),
    fraction=st.floats(0.05, 0.6),
    seed=st.integers(0, 10_000),
    stratify=st.booleans(),
)
def test_groups_never_straddle_splits(
    sizes: list[int], fraction: float, seed: int, stratify: bool
) -> None:
    examples, groups = _toy(sizes)
    train, eval_ = split_examples(
        examples, fraction, seed, stratify_by="cat" if stratify else None, groups=groups
    )
    side = {e.id: "train" for e in train} | {e.id: "eval" for e in eval_}
    assert len(side) == len(examples)
    for g in groups:
        assert len({side[examples[i].id] for i in g}) == 1
    assert len(eval_) <= round(fraction * len(examples))


def test_shared_prompts_stay_together() -> None:
    prompts = [f"Prompt number {i % 7}" if i % 2 else f"Unique {i}" for i in range(60)]
    examples, _ = _toy([1] * 60, prompts)
    # Same prompt up to case and spacing is the same prompt.
    examples[3].messages[0] = Message("user", "  PROMPT   number 3 ")
    train, eval_ = split_examples(examples, 0.3, seed=3, group_by_duplicates=False)
    side = {e.id: 0 for e in train} | {e.id: 1 for e in eval_}
    by_prompt: dict[str, set[int]] = {}
    for e in examples:
        by_prompt.setdefault(normalize_text(e.prompt), set()).add(side[e.id])
    assert all(len(s) == 1 for s in by_prompt.values())
    assert eval_, "some eval examples expected"


def test_near_duplicates_found_by_dedup_stay_together() -> None:
    base = load(ALPACA)[:200]
    twin = Example(
        id="zz-twin",
        messages=[
            Message("user", base[10].prompt + " Please."),
            Message("assistant", base[10].response),
        ],
        source="planted",
    )
    for seed in range(4):
        train, eval_ = split_examples([*base, twin], 0.5, seed=seed)
        sides = {e.id for e in eval_}
        assert (base[10].id in sides) == (twin.id in sides)


def test_stratified_proportions_and_exact_count() -> None:
    dolly = load(DOLLY)
    counts = Counter(e.metadata.get("category") for e in dolly)
    train, eval_ = split_examples(
        dolly, 0.3, seed=11, stratify_by="category", group_by_duplicates=False
    )
    got = Counter(e.metadata.get("category") for e in eval_)
    assert len(eval_) == round(0.3 * len(dolly))
    for cat, n in counts.items():
        assert abs(got[cat] - 0.3 * n) <= 1.5, (cat, got[cat], n)
    alpaca = load(ALPACA)
    _, eval_ = split_examples(alpaca, 0.0, seed=2, eval_count=123, group_by_duplicates=False)
    assert len(eval_) == 123


def test_missing_stratum_is_its_own_stratum() -> None:
    examples, _ = _toy([1] * 100)
    plan = plan_split(examples, 0.2, 5, stratify_by="cat", group_by_duplicates=False)
    missing = sum(1 for e in examples if "cat" not in e.metadata)
    assert plan.strata["(missing)"]["total"] == missing


def test_holdout_sources_go_to_eval() -> None:
    dolly, identity = load(DOLLY), load(IDENTITY)
    source = identity[0].source
    train, eval_ = split_examples(
        [*dolly, *identity], 0.1, seed=4, holdout_sources=[source], group_by_duplicates=False
    )
    assert all(e.source != source for e in train)
    assert {e.id for e in identity} <= {e.id for e in eval_}
    assert len(eval_) == len(identity) + round(0.1 * len(dolly))
    with pytest.raises(ExportError, match="match no example"):
        split_examples(dolly, 0.1, seed=4, holdout_sources=["nope.json"])


def test_split_is_deterministic_and_independent_of_input_order() -> None:
    dolly = load(DOLLY)
    shuffled = dolly[:]
    random.Random(0).shuffle(shuffled)
    a = split_examples(dolly, 0.2, seed=9, group_by_duplicates=False)
    b = split_examples(shuffled, 0.2, seed=9, group_by_duplicates=False)
    assert [e.id for e in a[0]] == [e.id for e in b[0]]
    assert [e.id for e in a[1]] == [e.id for e in b[1]]
    c = split_examples(dolly, 0.2, seed=10, group_by_duplicates=False)
    assert {e.id for e in c[1]} != {e.id for e in a[1]}


@pytest.mark.parametrize(
    "kwargs",
    [{"eval_fraction": 1.0}, {"eval_fraction": -0.1}, {"eval_fraction": 0.1, "eval_count": 10_000}],
)
def test_split_rejects_bad_sizes(kwargs: dict[str, Any]) -> None:
    examples, _ = _toy([1] * 10)
    fraction = kwargs.pop("eval_fraction")
    with pytest.raises(ExportError):
        split_examples(examples, fraction, 1, **kwargs)


# ---------------------------------------------------------------------------------------------
# Reproducibility, card, manifest, zip
# ---------------------------------------------------------------------------------------------


def test_exports_are_byte_identical(tmp_path: Path) -> None:
    examples = mixed([DOLLY, GLAIVE], 80)
    stats = {
        "import": {"files": 2, "examples": len(examples)},
        "dedup": {"removed": 3, "notes": "near"},
    }
    results = []
    for k, order in enumerate((examples, list(reversed(examples)))):
        train, eval_ = split_examples(order, 0.2, seed=5, group_by_duplicates=False)
        results.append(
            export_dataset(
                train,
                eval_,
                tmp_path / f"run{k}",
                "llama-factory-sharegpt",
                seed=5,
                parameters={"eval_fraction": 0.2},
                curation_stats=stats,
                card_info=CardInfo(pretty_name="Demo", label_field="category"),
                zip=True,
            )
        )
    a, b = (tmp_path / "run0", tmp_path / "run1")
    assert results[0].files == results[1].files
    for name in results[0].files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert results[0].manifest["files"] == results[1].manifest["files"]
    assert results[0].zip_bytes is not None and results[1].zip_bytes is not None
    # Zip entries carry the folder name, so compare the contents, and the zip against itself.
    assert make_zip(a) == results[0].zip_bytes
    names = zipfile.ZipFile(io.BytesIO(results[0].zip_bytes)).namelist()
    assert names == sorted(names) and all(n.startswith("run0/") for n in names)
    import hashlib

    for name, entry in results[0].manifest["files"].items():
        assert hashlib.sha256((a / name).read_bytes()).hexdigest() == entry["sha256"]


def test_card_front_matter_and_steps(tmp_path: Path) -> None:
    dolly = load(DOLLY)
    train, eval_ = split_examples(dolly, 0.2, seed=1, group_by_duplicates=False)
    stats = {
        "import": {"examples": 100},
        "pii": {"findings": 4, "residual": 0, "notes": ["emails masked"]},
    }
    result = export_dataset(
        train,
        eval_,
        tmp_path / "hf",
        "hf-dataset",
        seed=1,
        parameters={},
        curation_stats=stats,
        card_info=CardInfo(
            pretty_name="Dolly sample", license="cc-by-sa-3.0", label_field="category"
        ),
    )
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "cc-by-sa-3.0" and front["size_categories"] == ["n<1K"]
    files = {d["split"]: d["path"] for d in front["configs"][0]["data_files"]}
    assert files == {"train": "data/train.parquet", "validation": "data/validation.parquet"}
    assert all((tmp_path / "hf" / p).is_file() for p in files.values())
    assert "| dedup | not run |" in card and "| labels | not run |" in card
    assert "findings: 4" in card and "emails masked" in card
    for cat, n in Counter(e.metadata["category"] for e in train).items():
        assert f"| {cat} | {n} |" in card
    assert result.manifest["seed"] == 1 and result.manifest["preset"] == "hf-dataset"
    import datasets

    ds = datasets.load_dataset(str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))
    assert ds["train"].num_rows == len(train) and ds["validation"].num_rows == len(eval_)


def test_extra_files_match_written_names(tmp_path: Path) -> None:
    examples = mixed([GLAIVE, FASTCHAT], 40)
    train, eval_ = split_examples(examples, 0.2, seed=2, group_by_duplicates=False)
    export_dataset(
        train,
        eval_,
        tmp_path / "lf",
        "llama-factory-sharegpt",
        seed=2,
        parameters={},
        curation_stats={},
        card_info=CardInfo(pretty_name="My Set!"),
    )
    info = json.loads((tmp_path / "lf" / "dataset_info.json").read_text())
    assert sorted(info) == ["my_set_train", "my_set_validation"]
    assert info["my_set_train"]["file_name"] == "train.jsonl"
    assert info["my_set_train"]["columns"] == {"messages": "conversations", "tools": "tools"}
    export_dataset(
        train, eval_, tmp_path / "ax", "axolotl", seed=2, parameters={}, curation_stats={}
    )
    config = yaml.safe_load((tmp_path / "ax" / "axolotl.yaml").read_text())
    assert config["datasets"][0]["path"] == "train.jsonl"
    assert config["test_datasets"][0]["path"] == "validation.jsonl"


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    dolly = load(DOLLY)[:30]
    export_dataset(dolly, [], tmp_path / "o", "alpaca", seed=1, parameters={}, curation_stats={})
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(
            dolly, [], tmp_path / "o", "alpaca", seed=1, parameters={}, curation_stats={}
        )
    result = export_dataset(
        dolly[:10],
        [],
        tmp_path / "o",
        "alpaca",
        seed=1,
        parameters={},
        curation_stats={},
        overwrite=True,
    )
    assert len(read_jsonl(tmp_path / "o" / "train.jsonl")) == 10 == result.train_count
    with pytest.raises(ExportError, match="unknown export preset 'nope'"):
        export_dataset(dolly, [], tmp_path / "p", "nope", seed=1, parameters={}, curation_stats={})


# ---------------------------------------------------------------------------------------------
# Validation: the cookbook's broken cases (reference §3.5) and file-level rules
# ---------------------------------------------------------------------------------------------

COOKBOOK_CASES = [
    ("[]", {"data_type": 1}),
    ("{}", {"missing_messages_list": 1}),
    ('{"messages":[]}', {"missing_messages_list": 1}),
    (
        '{"messages":[{"role":"user"}]}',
        {"message_missing_key": 1, "missing_content": 1, "example_missing_assistant_message": 1},
    ),
    (
        '{"messages":[{"role":"user","content":"hi","foo":1},{"role":"assistant","content":"x"}]}',
        {"message_unrecognized_key": 1},
    ),
    (
        '{"messages":[{"role":"tool","content":"x"},{"role":"assistant","content":"y"}]}',
        {"unrecognized_role": 1},
    ),
    (
        '{"messages":[{"role":"user","content":""},{"role":"assistant","content":"y"}]}',
        {"missing_content": 1},
    ),
    (
        '{"messages":[{"role":"user","content":["a"]},{"role":"assistant","content":"y"}]}',
        {"missing_content": 1},
    ),
    (
        '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}',
        {"example_missing_assistant_message": 1},
    ),
    (
        '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a","weight":0}]}',
        {},
    ),
]


@pytest.mark.parametrize(("line", "expected"), COOKBOOK_CASES)
def test_cookbook_broken_cases(line: str, expected: dict[str, int], tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    report = validate(path, "openai")
    codes = report.codes()
    for code, count in expected.items():
        assert codes.get(code) == count, codes
    if not expected:
        assert report.ok, report.errors
    assert all(i.line == 1 for i in report.errors)


def test_toy_chat_file_from_the_cookbook_passes_and_its_broken_twin_fails(tmp_path: Path) -> None:
    toy = DATA / TOY
    # Line 4 is system -> assistant with no user turn: the cookbook passes it, strict
    # alternation (reference §2 item 16) does not.
    report = validate(toy, "openai", max_tokens=4096)
    assert [(i.line, i.code) for i in report.errors] == [(4, "role_order")]
    lines = toy.read_text(encoding="utf-8").splitlines()
    broken = [json.loads(x) for x in lines]
    del broken[0]["messages"][-1]  # no assistant left
    broken[1]["messages"][0]["role"] = "narrator"
    broken[2]["messages"][1]["content"] = None
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(b) for b in broken) + "\n", encoding="utf-8")
    report = validate(path, "openai")
    by_line = {(i.line, i.code) for i in report.errors}
    assert (1, "example_missing_assistant_message") in by_line
    assert (2, "unrecognized_role") in by_line
    assert (3, "missing_content") in by_line and (3, "null_value") in by_line


def test_file_level_rules(tmp_path: Path) -> None:
    good = '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a"}]}'
    path = tmp_path / "train.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + good.encode() + b"\n\n" + b'{"messages": NaN}\n' + b"not json\n"
    )
    codes = validate(path, "openai").codes()
    assert codes["bom"] == 1 and codes["blank_line"] == 1 and codes["invalid_json"] == 2


def test_schema_mismatch_across_train_and_validation(tmp_path: Path) -> None:
    row = {"instruction": "q", "input": "", "output": "a"}
    (tmp_path / "train.jsonl").write_text(json.dumps({**row, "history": []}) + "\n")
    (tmp_path / "validation.jsonl").write_text(json.dumps({**row, "history": "x"}) + "\n")
    report = validate(tmp_path, "llama-factory-alpaca")
    assert any(i.code == "schema_mismatch" and i.file == "validation.jsonl" for i in report.errors)
    (tmp_path / "validation.jsonl").write_text(json.dumps(row) + "\n")
    report = validate(tmp_path, "llama-factory-alpaca")
    assert [i.code for i in report.errors] == ["schema_mismatch"]


def test_role_order_rules(tmp_path: Path) -> None:
    cases = {
        '{"messages":[{"role":"user","content":"u"},{"role":"user","content":"v"},'
        '{"role":"assistant","content":"a"}]}': "role_order",
        '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a"},'
        '{"role":"system","content":"s"},{"role":"user","content":"v"},'
        '{"role":"assistant","content":"b"}]}': "system_not_first",
        '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a"},'
        '{"role":"user","content":"v"}]}': "last_not_assistant",
        '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a",'
        '"weight":2}]}': "weight_invalid",
        '{"messages":[{"role":"user","content":"u"},{"role":"assistant","tool_calls":'
        '[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}': "tool_call_invalid",
    }
    for line, code in cases.items():
        path = tmp_path / "train.jsonl"
        path.write_text(line + "\n")
        assert (
            code in validate(path, "trl-messages" if code != "weight_invalid" else "openai").codes()
        ), line


def test_token_counts_with_a_real_tokenizer_and_the_estimate(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "hi": 1, "user": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"messages":[{"role":"user","content":"hi there you"},'
        '{"role":"assistant","content":"ok"}]}\n'
    )
    # Words: "user" 1 + "hi there you" 3 + "assistant" 1 + "ok" 1, plus 3 per message and 3.
    report = validate(path, "openai", tokenizer=tmp_path)
    assert not report.token_counts_are_estimates
    assert report.tokens.max == 1 + 3 + 1 + 1 + 3 * 2 + 3
    report = validate(path, "openai", tokenizer=tmp_path / "tokenizer.json", max_tokens=10)
    assert report.codes(level="warnings")["over_token_limit"] == 1
    assert validate(path, "openai").token_counts_are_estimates
    with pytest.raises(ExportError, match="tokenizer"):
        validate(path, "openai", tokenizer=tmp_path / "missing")


# ---------------------------------------------------------------------------------------------
# Leakage and readiness
# ---------------------------------------------------------------------------------------------


def _jaccard5(a: str, b: str) -> float:
    """Reference Jaccard of word 5-gram sets, written independently of the code under test."""

    def grams(text: str) -> set[tuple[str, ...]]:
        w = normalize_text(text).split()
        return {tuple(w[i : i + 5]) for i in range(len(w) - 4)}

    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def test_leakage_check_finds_a_planted_near_duplicate() -> None:
    alpaca = load(ALPACA)[:300]
    train, eval_ = split_examples(alpaca, 0.2, seed=3)
    victim = next(e for e in eval_ if len(e.response.split()) > 150)
    words = victim.response.split()
    words[len(words) // 2] = "CHANGED"
    planted = Example(
        id="planted",
        messages=[Message("user", victim.prompt), Message("assistant", " ".join(words))],
    )
    expected = _jaccard5(
        f"{victim.prompt}\n\n{victim.response}", f"{planted.prompt}\n\n{planted.response}"
    )
    assert expected >= 0.8
    report = leakage_check([*train, planted], eval_)
    found = {(p.train_id, p.eval_id): p.similarity for p in report.pairs}
    assert found[("planted", victim.id)] == pytest.approx(expected, abs=1e-4)
    assert report.max_similarity >= expected - 1e-4
    strict = leakage_check([*train, planted], eval_, threshold=min(1.0, expected + 0.01))
    assert ("planted", victim.id) not in {(p.train_id, p.eval_id) for p in strict.pairs}


def test_readiness_items() -> None:
    examples, _ = _toy([1] * 120)
    stats = {
        "dedup": {"duplicate_rate": 0.1},
        "labels": {"agreement": 0.3, "open_issues": 0},
        "pii": {"residual": 2},
    }
    items = {
        i.name: i
        for i in readiness_summary(
            examples[:110],
            examples[110:],
            stats=stats,
            tokens=TokenStats.from_counts([10] * 99 + [5000], 1024),
        )
    }
    assert items["examples"].status == "warn" and items["examples"].value == 110
    assert items["eval size"].status == "warn"
    assert items["duplicate rate"].status == "warn"
    assert items["agreement"].status == "fail"
    assert items["label issues"].status == "ok"
    assert items["PII residual"].status == "fail"
    assert (
        items["token budget"].status == "warn"
        and "1 examples over" in items["token budget"].message
    )
    assert items["leakage"].status == "not-run"
    empty = {i.name: i.status for i in readiness_summary(examples[:50], [], stats={})}
    assert empty["examples"] == "fail" and empty["duplicate rate"] == "not-run"
    assert empty["PII residual"] == "not-run" and empty["token budget"] == "not-run"


def test_readiness_reads_the_latest_bias_audit() -> None:
    examples, _ = _toy([1] * 40)

    def item(audit: dict | None):  # type: ignore[type-arg]
        stats = {} if audit is None else {"audit": audit}
        found = {i.name: i for i in readiness_summary(examples[:30], examples[30:], stats=stats)}
        return found["bias audit"]

    assert item(None).status == "not-run"
    fresh = {"critical": 0, "warning": 2, "examples_audited": 40, "active_now": 40}
    assert (item(fresh).status, item(fresh).value) == ("ok", 0)
    assert "2 warnings" in item(fresh).message
    critical = {**fresh, "critical": 3}
    assert (item(critical).status, item(critical).value) == ("warn", 3)
    assert "3 critical bias findings" in item(critical).message
    stale = {**fresh, "active_now": 35}
    assert (
        item(stale).status == "warn" and "covered 40 examples, 35 are active" in item(stale).message
    )
