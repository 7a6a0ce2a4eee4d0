"""AppTest: the label queue filtered by a quality flag hands out only the flagged examples."""

from __future__ import annotations

from pathlib import Path

from curation.formats import read_examples
from curation.labeling import LabelSchema, VerdictField
from curation.labeling import project as lp
from curation.quality.project import run_project_quality
from curation.store import Store
from curation.store import labels as repo
from tests.app.test_label_page import PAGE, _click, _current
from tests.unit.quality_helpers import write_known_bad


def test_the_queue_filtered_by_a_quality_flag(open_page, store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(write_known_bad(tmp_path / "bad.jsonl")), "ada")
    lp.save_schema(store, "p", LabelSchema(fields=(VerdictField(),)), "ada")
    run_project_quality(store, "p", author="ada")
    flagged = {r.example_id for r in store.step_results("p", "quality") if r.code == "refusal"}
    assert flagged == {"q2", "q4"}  # the known-bad file's two refusals
    at = open_page(PAGE, user="bob")
    assert _current(at) == "q0"  # unfiltered: the queue starts at the first example
    at.selectbox(key="label_f_quality").set_value("refusal").run()
    seen = [_current(at)]
    _click(at, "label_verdict_verdict_reject")  # a verdict key saves and moves on
    seen.append(_current(at))
    assert set(seen) == flagged
    _click(at, "label_verdict_verdict_reject")
    assert not [h for h in at.subheader if h.value.startswith("Example ")]  # queue done
    given = {r.example_id for r in repo.list_labels(store, "p") if r.annotator == "bob"}
    assert given == flagged
