"""Frozen options objects: `SplitOptions` and `ExportOptions` checked when made, the same
values through the job parameters' JSON, and the manifest records exactly what was used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.errors import ExportError
from curation.export import (
    ExportOptions,
    ExportSettings,
    SplitOptions,
    plan_export,
    split_examples,
    write_plan,
)
from curation.formats import read_examples

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": 1.5}, "seed must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"eval_fraction": 1.0}, "eval_fraction"),
        ({"eval_count": -1}, "eval_count"),
        ({"holdout_sources": "a.json"}, "list of source names"),
    ],
)
def test_split_options_refuse_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        SplitOptions(**kwargs)
    with pytest.raises(ExportError, match=message):
        ExportOptions("openai", **kwargs)


def test_options_are_frozen_and_normalised() -> None:
    split = SplitOptions(holdout_sources=("b", "a", "b"), stratify_by="  ")
    assert split.holdout_sources == ("a", "b") and split.stratify_by is None
    with pytest.raises(AttributeError):
        split.seed = 3  # type: ignore[misc]
    assert ExportSettings is ExportOptions
    with pytest.raises(ExportError, match="nope"):
        ExportOptions("nope")


def test_export_options_survive_json_and_give_their_split() -> None:
    options = ExportOptions(
        "trl-messages",
        eval_count=7,
        seed=4,
        stratify_by="category",
        holdout_sources=("x.json",),
        max_tokens=512,
        tokenizer="tok.json",
    )
    again = ExportOptions.from_dict(json.loads(json.dumps(options.to_dict())))
    assert again == options
    assert options.split == SplitOptions(0.1, 7, 4, "category", ("x.json",))
    with pytest.raises(ExportError, match="unknown export option"):
        ExportOptions.from_dict({"preset": "openai", "folds": 3})
    with pytest.raises(ExportError, match="need a 'preset'"):
        ExportOptions.from_dict({"seed": 1})


def test_the_split_options_split_as_split_examples_does() -> None:
    examples = read_examples(SAMPLE / "identity.json").examples
    options = SplitOptions(eval_fraction=0.25, seed=9)
    plan = options.plan(examples)
    train, eval_ = split_examples(examples, 0.25, 9)
    assert plan.train_ids == [e.id for e in train] and plan.eval_ids == [e.id for e in eval_]
    other = SplitOptions(eval_fraction=0.25, seed=10).plan(examples)
    assert other.eval_ids != plan.eval_ids  # the seed is used


def test_the_manifest_records_the_options_used(tmp_path: Path) -> None:
    examples = read_examples(SAMPLE / "identity.json").examples
    options = ExportOptions("openai", eval_count=5, seed=2)
    result = write_plan(
        plan_export(examples, options), tmp_path / "out", parameters={}, curation_stats={}
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    recorded = {k: manifest["parameters"][k] for k in options.parameters()}
    assert recorded == options.parameters()
    assert result.eval_count == 5
