"""The step contract end to end with a plug-in step (tests/unit/steps_fixture.py) and ONE
registration line: run by the jobs worker, its rows stored and filterable, its numbers in the
card and the readiness summary; failures isolated, unknown names and bad configs refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.errors import InputError, JobError
from curation.export.card import build_card, render_steps
from curation.export.from_project import curation_stats
from curation.export.readiness import readiness_summary
from curation.formats import read_examples
from curation.jobs import Worker, get_job, submit
from curation.jobs import registry as job_registry
from curation.quality.project import run_project_quality
from curation.records import Example, Message
from curation.steps import (
    StepRegistry,
    resolve_steps,
    run_project_steps,
    run_steps,
    steps,
    steps_with_results,
)
from curation.steps.dedup import DedupStepConfig
from curation.store import ExampleFilter, Store
from tests.unit.steps_fixture import SHORT, BrokenStep, ShortAnswersConfig, ShortAnswersStep

ANSWERS = [
    "Yes.",  # 1 word: short
    "Paris is the capital of France.",
    "42",  # short
    "It depends on the soil and the amount of sun.",
    "No idea",  # 2 words: short
    "Water boils at one hundred degrees Celsius at sea level.",
]
SHORT_ROWS = (0, 2, 4)


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.dispose()


@pytest.fixture()
def short_answers() -> Iterator[ShortAnswersStep]:
    with steps.registered(ShortAnswersStep()) as step:  # the one registration line
        yield step


def _seed(store: Store, tmp_path: Path) -> list[str]:
    rows = [{"instruction": f"Question {i}?", "output": a} for i, a in enumerate(ANSWERS)]
    path = tmp_path / "short.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.ensure_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    return [row.id for row in store.list_examples("p")]


def _example(i: int, answer: str) -> Example:
    return Example(
        id=f"e{i}",
        messages=[Message("user", f"Question {i}?"), Message("assistant", answer)],
        metadata={},
        source="test",
    )


def test_a_registered_step_is_listed_after_the_built_in_ones(short_answers) -> None:
    from curation.export import CURATION_STEPS

    assert steps.names() == (
        "import",
        "dedup",
        "quality",
        "labels",
        "audit",
        "pii",
        "short_answers",
    )
    assert steps.names() == CURATION_STEPS
    assert steps.get("short_answers") is short_answers
    assert short_answers in steps.with_results()
    with pytest.raises(ValueError, match="registered already"):
        steps.register(ShortAnswersStep())


def test_run_by_the_jobs_worker_stored_filtered_and_reported(
    store: Store, tmp_path: Path, short_answers
) -> None:
    ids = _seed(store, tmp_path)
    expected = [ids[i] for i in SHORT_ROWS]
    job = submit(
        store,
        "p",
        "steps",
        {"steps": ["short_answers"], "configs": {"short_answers": {"min_words": 3}}},
        author="ada",
    )
    assert Worker(store, steps=job_registry).run_once() is not None
    done = get_job(store, job.id)
    assert done.state == "done", done.error
    assert done.result is not None and done.result["failed"] == []
    assert done.result["steps"][0]["step"] == "short_answers"

    rows = store.step_results("p", "short_answers")
    assert [r.example_id for r in rows] == expected
    assert {r.code for r in rows} == {SHORT}
    assert [r.detail["words"] for r in rows] == [1, 1, 2]
    assert rows[0].score == pytest.approx(1 / 3, abs=1e-4)

    # the rows are filterable through ExampleFilter.step_flag, alone or with other filters
    flt = ExampleFilter(step_flag=("short_answers", SHORT))
    assert [r.id for r in store.list_examples("p", flt)] == expected
    assert store.count_examples("p", ExampleFilter(step_flag=("short_answers", "*"))) == 3
    assert store.count_examples("p", ExampleFilter(step_flag=("short_answers", "other"))) == 0
    store.set_status("p", [expected[0]], "rejected", "ada", "too short")
    active_short = ExampleFilter(step_flag=("short_answers", SHORT), statuses=["active"])
    assert [r.id for r in store.list_examples("p", active_short)] == expected[1:]
    # ...and Browse offers the step, with its code
    offered = {f.name: f for f in steps_with_results(store, "p")}
    assert offered["short_answers"].counts == {SHORT: 3}
    assert offered["short_answers"].flag(SHORT) == ("short_answers", SHORT)

    # its numbers reach curation_stats, the card and readiness without touching them
    stats = curation_stats(store, "p")
    block = stats["short_answers"]
    assert list(stats)[-1] == "short_answers"
    assert block["examples_checked"] == 6 and block["flagged"] == 3
    assert block["flagged_active"] == 2  # one flagged example was rejected since
    row = next(line for line in render_steps(stats) if line.startswith("| short_answers |"))
    assert "flagged: 3" in row and "flagged_active: 2" in row and SHORT in row
    examples = [r.example for r in store.iter_examples("p", ExampleFilter(statuses=["active"]))]
    items = {i.name: i for i in readiness_summary(examples, [], stats=stats)}
    assert items["short answers"].status == "warn" and items["short answers"].value == 2
    ready = readiness_summary(examples, [], stats=stats)
    names = [i.name for i in ready]
    assert names.index("PII residual") < names.index("short answers") < names.index("token budget")
    card = build_card(
        examples,
        [],
        preset="openai",
        data_files={"train": "train.jsonl"},
        curation_stats=stats,
        readiness=ready,
    )
    assert row in card and "| short answers | 2 | warn |" in card

    store.set_status("p", expected[1:], "rejected", "ada", "too short")
    later = curation_stats(store, "p")["short_answers"]
    assert later["flagged_active"] == 0
    item = next(
        i
        for i in readiness_summary(examples, [], stats={"short_answers": later})
        if i.name == "short answers"
    )
    assert item.status == "ok"


def test_a_step_that_never_ran_reads_not_run(store: Store, tmp_path: Path, short_answers) -> None:
    _seed(store, tmp_path)
    stats = curation_stats(store, "p")
    assert "short_answers" not in stats
    assert "| short_answers | not run | |" in render_steps(stats)
    items = {i.name: i for i in readiness_summary([], [], stats=stats)}
    assert items["short answers"].status == "not-run"
    assert store.count_examples("p", ExampleFilter(step_flag=("short_answers", "*"))) == 0


def test_a_failing_step_is_reported_and_the_others_still_run() -> None:
    registry = StepRegistry()
    registry.register(BrokenStep())
    registry.register(ShortAnswersStep())
    examples = [_example(i, a) for i, a in enumerate(ANSWERS)]
    done = run_steps(["broken", "short_answers"], examples, registry=registry, batch_size=2)
    assert [o.name for o in done.failed] == ["broken"]
    assert done["broken"].error == "RuntimeError: the broken step failed on purpose"
    assert done["broken"].result is None
    short = done["short_answers"].result
    assert short is not None and done["short_answers"].ok
    assert [r.example_id for r in short.rows] == [f"e{i}" for i in SHORT_ROWS]
    assert short.summary.severity == "warning" and short.summary.n_examples == 6
    assert short.summary.counts == {SHORT: 3}
    assert done.to_dict()["failed"] == ["broken"]


def test_a_failing_step_on_a_project_saves_nothing_and_the_next_is_saved(
    store: Store, tmp_path: Path
) -> None:
    ids = _seed(store, tmp_path)
    registry = StepRegistry()
    registry.register(BrokenStep())
    registry.register(ShortAnswersStep())
    done = run_project_steps(
        store, "p", ["broken", "short_answers"], author="ada", registry=registry
    )
    assert [o.name for o in done.failed] == ["broken"]
    assert "failed on purpose" in (done["broken"].error or "")
    assert store.latest_step_run("p", "broken") is None
    run_id = done["short_answers"].run_id
    assert run_id is not None and store.latest_step_run("p", "short_answers")["id"] == run_id
    assert store.step_result_ids("p", "short_answers", "*") == [ids[i] for i in SHORT_ROWS]


def test_a_job_whose_every_step_fails_fails_with_their_errors(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    with steps.registered(BrokenStep()):
        job = submit(store, "p", "steps", {"steps": ["broken"]}, author="ada")
        Worker(store, steps=job_registry).run_once()
    failed = get_job(store, job.id)
    assert failed.state == "failed"
    assert failed.error is not None and "broken: RuntimeError" in failed.error


def test_unknown_step_names_are_refused_naming_the_known_ones(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    with pytest.raises(InputError, match=r"unknown step 'nope'; known steps: import, dedup"):
        steps.get("nope")
    with pytest.raises(InputError, match="unknown step 'nope'"):
        run_steps(["quality", "nope"], [_example(0, "Yes.")])
    with pytest.raises(JobError, match="unknown step 'nope'"):
        submit(store, "p", "steps", {"steps": ["nope"]}, author="ada")
    with pytest.raises(InputError, match="config given for step.s. not run: dedup"):
        resolve_steps(["quality"], {"dedup": {}})
    assert store.latest_step_run("p", "quality") is None  # nothing ran


def test_config_validation_refuses_bad_values(
    store: Store, tmp_path: Path, short_answers: ShortAnswersStep
) -> None:
    step = short_answers
    assert step.config(None) == ShortAnswersConfig()
    assert step.config({"min_words": 5}).to_dict() == {"min_words": 5}
    assert ShortAnswersConfig.from_dict(ShortAnswersConfig(7).to_dict()) == ShortAnswersConfig(7)
    with pytest.raises(InputError, match="between 1 and 1000, not 0"):
        ShortAnswersConfig(min_words=0)
    with pytest.raises(InputError, match="whole number, not '3'"):
        step.config({"min_words": "3"})
    with pytest.raises(
        InputError, match="unknown ShortAnswersConfig key.s. 'max'; allowed: min_words"
    ):
        step.config({"max": 3})
    with pytest.raises(InputError, match="must be an object"):
        step.config(["min_words"])
    with pytest.raises(
        InputError, match="method must be one of exact, near, semantic, not 'fuzzy'"
    ):
        DedupStepConfig(method="fuzzy")
    with pytest.raises(InputError, match="threshold must be in"):
        steps.get("dedup").config({"threshold": 1.5})
    with pytest.raises(InputError, match="unknown QualityConfig key"):
        steps.get("quality").config({"flag": ["refusal"]})
    _seed(store, tmp_path)
    bad = {"steps": ["short_answers"], "configs": {"short_answers": {"min_words": -1}}}
    with pytest.raises(JobError, match="between 1 and 1000"):
        submit(store, "p", "steps", bad, author="ada")


def test_the_quality_filter_is_a_case_of_the_step_flag(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    refusal = tmp_path / "refusal.jsonl"
    refusal.write_text(
        json.dumps({"instruction": "Help", "output": "I'm sorry, but as an AI I cannot do that."})
        + "\n",
        encoding="utf-8",
    )
    store.add_import("p", read_examples(refusal), "ada")
    run_project_quality(store, "p", author="ada")
    by_quality = [r.id for r in store.list_examples("p", ExampleFilter(quality_flag="refusal"))]
    by_step = [
        r.id for r in store.list_examples("p", ExampleFilter(step_flag=("quality", "refusal")))
    ]
    assert by_quality == by_step and len(by_step) == 1
    both = ExampleFilter(quality_flag="refusal", step_flag=("quality", "empty_answer"))
    assert store.count_examples("p", both) == 0  # both must match
    with pytest.raises(Exception, match="step_flag is a .step, code. pair"):
        ExampleFilter(step_flag=("quality",))  # type: ignore[arg-type]
    offered = {f.name: f for f in steps_with_results(store, "p")}
    assert offered["quality"].code_titles["refusal"] == "Refusal"


def test_the_built_in_dedup_step_runs_on_batches_and_on_a_project(
    store: Store, tmp_path: Path
) -> None:
    examples = [_example(i, a) for i, a in enumerate(["Same answer here.", "Other", "x"])]
    examples.append(Example(id="copy", messages=examples[0].messages, metadata={}, source="t"))
    done = run_steps(["dedup"], examples, configs={"dedup": {"method": "exact"}})
    result = done["dedup"].result
    assert result is not None
    assert [(r.example_id, r.code, r.suggestion) for r in result.rows] == [
        ("copy", "duplicate", "keep e0")
    ]
    assert result.summary.n_flagged == 1 and result.info["clusters"] == 1

    _seed(store, tmp_path)
    report = run_project_steps(
        store, "p", ["dedup"], author="ada", configs={"dedup": {"method": "exact"}}
    )
    assert report["dedup"].ok
    run = store.latest_step_run("p", "dedup")
    assert run is not None and report["dedup"].run_id == run["id"]
    assert curation_stats(store, "p")["dedup"]["method"] == "exact"


def test_the_built_in_quality_and_labels_steps_run_on_batches() -> None:
    from curation.quality.runner import run_quality

    examples = [_example(i, a) for i, a in enumerate(ANSWERS)]
    examples.append(_example(99, "I'm sorry, but as an AI language model I cannot help."))
    labelled = [
        Example(
            id=f"l{i}",
            messages=[
                Message("user", f"What is {i} plus {i}?" if i % 2 else f"Where is town {i}?"),
                Message("assistant", f"{2 * i}" if i % 2 else f"Town {i} is by the river."),
            ],
            metadata={"topic": ("math" if i % 2 else "geo") if i != 6 else "math"},
            source="t",
        )
        for i in range(40)
    ]
    done = run_steps(
        ["quality", "labels"],
        examples + labelled,
        configs={"labels": {"field": "topic", "features": "tfidf"}},
        batch_size=5,
    )
    assert not done.failed, done.to_dict()
    quality = done["quality"].result
    oracle = run_quality(examples + labelled)  # the quality package itself, in one batch
    assert quality is not None
    assert [(r.example_id, r.code) for r in quality.rows] == [
        (r.example_id, r.code) for r in oracle.rows
    ]
    assert ("e99", "refusal") in {(r.example_id, r.code) for r in quality.rows}
    labels = done["labels"].result
    assert labels is not None
    assert ("l6", "geo") in {(r.example_id, r.suggestion) for r in labels.rows}
    assert all(r.code == "label_issue" for r in labels.rows)
