"""Export reads the final labels: keep only some verdicts, and the card and readiness report
agreement."""

from __future__ import annotations

import json
from pathlib import Path

from curation.export.from_project import curation_stats, export_project, select_examples
from curation.labeling import LabelSchema, VerdictField
from curation.labeling import project as lp
from curation.store import Store
from curation.store import labels as repo
from tests.unit.test_label_project import _project


def test_export_keeps_only_the_chosen_final_verdicts(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    ids = _project(store, tmp_path, n=6, schema=LabelSchema(fields=(VerdictField(),)))
    lp.save_schema(store, "p", LabelSchema(fields=(VerdictField(),)), "ada")
    for eid, verdict in zip(ids[:4], ("accept", "accept", "reject", "needs_fix"), strict=True):
        repo.annotate(store, "p", eid, {"verdict": verdict}, "bob")
    selection = select_examples(store, "p", verdicts=["accept"])
    assert [ex.id for ex in selection.examples] == ids[:2]
    assert selection.excluded["verdict reject"] == 1
    assert selection.excluded["verdict needs_fix"] == 1
    assert selection.excluded["no final verdict"] == len(ids) - 4
    out = tmp_path / "out"
    export_project(
        store, "p", out, "openai", author="ada", verdicts=["accept"], eval_count=1, seed=0
    )
    lines = [
        json.loads(line)
        for name in ("train.jsonl", "validation.jsonl")
        for line in (out / name).read_text().splitlines()
    ]
    assert len(lines) == 2
    stats = curation_stats(store, "p", None)
    assert stats["labels"]["annotators"] == 1 and "agreement" not in stats["labels"]
    store.dispose()


def test_the_split_can_be_stratified_by_a_final_label(tmp_path: Path) -> None:
    from curation.export.from_project import plan_project_export
    from curation.export.plan import ExportSettings

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    schema = LabelSchema(fields=(VerdictField(),))
    ids = _project(store, tmp_path, n=12, schema=schema)
    verdicts = dict(zip(ids, ["accept"] * 8 + ["reject"] * 4, strict=True))
    for eid, verdict in verdicts.items():
        repo.annotate(store, "p", eid, {"verdict": verdict}, "bob")
    settings = ExportSettings(preset="openai", eval_fraction=0.5, stratify_by="label.verdict")
    selection, plan, _ = plan_project_export(store, "p", settings)
    assert {ex.metadata["label.verdict"] for ex in selection.examples} == set(verdicts.values())
    held = [verdicts[ex.id] for ex in plan.eval]
    # each stratum is halved: 4 of the 8 accepted, 2 of the 4 rejected go to eval
    assert (held.count("accept"), held.count("reject")) == (4, 2)
    assert {k: v["total"] for k, v in plan.split.strata.items()} == {"accept": 8, "reject": 4}
    store.dispose()
