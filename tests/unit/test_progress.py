"""One progress protocol everywhere: the reader, dedup, quality, label issues and the export each
report `ProgressUpdate`s whose `done` climbs to `total` in every stage they name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.dedup.project import run_dedup
from curation.export import ExportOptions, plan_export
from curation.export.from_project import export_project
from curation.formats import read_examples
from curation.labeling import rank_label_quality
from curation.labeling.issues import LabelIssueConfig
from curation.progress import ProgressUpdate, no_progress, report
from curation.quality import run_quality
from curation.store import Store
from tests.unit.formats_helpers import write_jsonl


def records(n: int = 30) -> list[dict[str, str]]:
    """Alpaca records: distinct questions, every fifth one a near copy of the one before."""
    out = []
    for i in range(n):
        base = i - 1 if i % 5 == 4 else i
        words = " ".join(f"w{base}x{k}" for k in range(12))
        out.append(
            {
                "instruction": f"Question {base}: explain {words}.",
                "output": f"The answer to {base} covers {words} in order, step by step.",
                "category": "a" if i % 2 else "b",
            }
        )
    return out


class Recorder:
    """A `ProgressFn` that keeps every update it is sent."""

    def __init__(self) -> None:
        self.updates: list[ProgressUpdate] = []

    def __call__(self, update: ProgressUpdate) -> None:
        assert isinstance(update, ProgressUpdate)
        self.updates.append(update)

    def stages(self) -> list[str]:
        return list(dict.fromkeys(u.stage for u in self.updates))

    def of(self, stage: str) -> list[ProgressUpdate]:
        return [u for u in self.updates if u.stage == stage]

    def assert_each_stage_completes(self) -> None:
        """In every stage `done` never goes back, and the stage's last update has done == total."""
        assert self.updates, "no progress was reported"
        for stage in self.stages():
            done = [u.done for u in self.of(stage)]
            assert done == sorted(done), (stage, done)
            last = self.of(stage)[-1]
            assert last.total is not None and last.done == last.total, (stage, last)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "data.jsonl", records())


@pytest.fixture()
def store(tmp_path: Path, data: Path) -> Iterator[Store]:
    st = Store(f"sqlite:///{tmp_path / 's.db'}")
    st.create_project("p", "ada")
    st.add_import("p", read_examples(data), "ada")
    yield st
    st.dispose()


def test_report_sends_one_update_and_tolerates_no_sink() -> None:
    seen = Recorder()
    report(seen, "stage", 2, 5, "note")
    report(None, "stage", 3, 5)
    no_progress(ProgressUpdate("ignored", 0))
    assert seen.updates == [ProgressUpdate("stage", 2, 5, "note")]
    assert seen.updates[0].fraction == pytest.approx(0.4)
    assert ProgressUpdate("unknown", 7).fraction is None


def test_read_examples_reports_records_read_from_zero_to_all(data: Path) -> None:
    seen = Recorder()
    result = read_examples(data, progress=seen)
    assert seen.stages() == ["reading data.jsonl"]
    assert seen.updates[0].done == 0
    assert seen.updates[-1] == ProgressUpdate("reading data.jsonl", 30, 30)
    assert len(result.examples) == 30
    seen.assert_each_stage_completes()


def test_run_dedup_reports_every_stage_to_completion(store: Store) -> None:
    seen = Recorder()
    run = run_dedup(store, "p", method="near", author="ada", progress=seen)
    assert run.clusters  # the near copies were found
    stages = seen.stages()
    assert {"shingles", "signatures", "buckets", "verify", "cluster"} <= {
        s.rsplit(": ", 1)[-1] for s in stages
    }
    seen.assert_each_stage_completes()
    assert all(seen.of(s)[0].done == 0 for s in stages)


def test_run_quality_reports_each_batch_and_the_dataset_checks(data: Path) -> None:
    examples = read_examples(data).examples
    seen = Recorder()
    run_quality(examples, progress=seen, batch_size=8)
    assert seen.stages() == ["quality", "quality: whole-dataset checks"]
    assert [u.done for u in seen.of("quality")] == [0, 8, 16, 24, 30]
    assert {u.total for u in seen.of("quality")} == {30}
    seen.assert_each_stage_completes()


def test_rank_label_quality_reports_features_folds_and_ranking(data: Path) -> None:
    examples = read_examples(data).examples
    texts = [e.prompt for e in examples]
    labels = [str(e.metadata["category"]) for e in examples]
    seen = Recorder()
    rank_label_quality(
        texts, labels, config=LabelIssueConfig(features="tfidf", folds=3), progress=seen
    )
    assert seen.stages() == ["features", "cross-validation", "ranking"]
    folds = seen.of("cross-validation")
    assert [u.done for u in folds] == list(range(len(folds)))
    seen.assert_each_stage_completes()


def test_plan_export_reports_the_split_steps_out_of_their_number(data: Path) -> None:
    examples = read_examples(data).examples
    seen = Recorder()
    plan_export(examples, ExportOptions(preset="openai", eval_fraction=0.2), progress=seen)
    assert seen.stages() == [
        "finding near-duplicate clusters",
        "grouping shared prompts",
        "assigning groups",
        "split planned",
    ]
    assert [(u.done, u.total) for u in seen.updates] == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_plan_export_without_duplicate_grouping_has_one_step_less(data: Path) -> None:
    examples = read_examples(data).examples
    seen = Recorder()
    plan_export(examples, ExportOptions(preset="openai"), group_by_duplicates=False, progress=seen)
    assert [(u.stage, u.done, u.total) for u in seen.updates] == [
        ("grouping shared prompts", 0, 2),
        ("assigning groups", 1, 2),
        ("split planned", 2, 2),
    ]


def test_export_project_reports_the_split_to_its_end(store: Store, tmp_path: Path) -> None:
    seen = Recorder()
    result = export_project(
        store, "p", tmp_path / "out", "openai", author="ada", eval_fraction=0.2, progress=seen
    )
    assert result.train_count + result.eval_count == 30
    done = [u.done for u in seen.updates]
    assert done == sorted(done) and done[0] == 0
    assert seen.updates[-1] == ProgressUpdate("split planned", 3, 3)
