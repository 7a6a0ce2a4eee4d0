"""Dedup on a stored project: saved runs, keep policies, manual decisions, undo, contamination.

Projects are built from small files whose duplicate structure is known by construction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.dedup.project import (
    apply_policy,
    check_contamination,
    load_run,
    resolve_cluster,
    run_dedup,
)
from curation.formats import read_examples
from curation.store import ExampleFilter, Store

# rows 0, 3, 5: one prompt+answer written three ways; rows 1, 4: another; row 2 unique.
# rows 6, 7: same prompt, different answers; rows 8, 9: different prompts, same answer.
ROWS = [
    ("How do I boil an egg?", "Put it in boiling water for nine minutes, then cool it."),
    ("Name three primary colours.", "Red, yellow and blue."),
    ("What is the capital of Peru?", "Lima."),
    ("how do I  boil an EGG?", "Put it in boiling water for nine minutes, then cool it!"),
    ("Name three primary colours", "red, yellow and blue"),
    (
        "How do I boil an egg",
        "Put it in boiling water for nine minutes - then cool it, and longer text.",
    ),
    (
        "Write a haiku about rain.",
        "Soft rain on the roof / the garden drinks slowly / puddles hold the sky",
    ),
    (
        "Write a haiku about rain.",
        "Grey clouds gather low / a patter on the window / the street shines again",
    ),
    ("Summarise the plot of Hamlet.", "A prince avenges his father's murder and everyone dies."),
    ("Give a one-line Hamlet summary.", "A prince avenges his father's murder and everyone dies."),
]


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Store, list[str]]:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "instruction": q, "input": "", "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    return store, [f"r{i}" for i in range(len(ROWS))]


def _groups(run) -> list[set[str]]:
    return sorted((set(c.members) for c in run.clusters), key=lambda g: sorted(g))


def test_exact_run_is_saved_with_known_clusters(project) -> None:
    store, _ = project
    run = run_dedup(store, "p", method="exact", fields="all", author="ada")
    assert _groups(run) == [{"r0", "r3"}, {"r1", "r4"}]
    again = load_run(store, "p")
    assert again is not None and again.run_id == run.run_id
    assert _groups(again) == _groups(run)
    assert "dedup" in store.stats("p")["steps_run"]


def test_fields_choose_the_problem(project) -> None:
    store, _ = project
    by_prompt = run_dedup(store, "p", method="exact", fields="user", author="ada")
    assert {"r6", "r7"} in _groups(by_prompt)
    assert {"r0", "r3", "r5"} in _groups(by_prompt)
    by_answer = run_dedup(store, "p", method="exact", fields="assistant", author="ada")
    assert {"r8", "r9"} in _groups(by_answer)
    assert not any("r6" in g for g in _groups(by_answer))


def test_policy_on_all_clusters_and_one_undo(project) -> None:
    store, ids = project
    run = run_dedup(store, "p", method="exact", fields="user", author="ada")
    event = apply_policy(store, "p", run, "longest", author="bob")
    assert event is not None
    egg = store.get_examples("p", ["r0", "r3", "r5"])
    # r5 has the longest answer by construction
    assert egg["r5"].status == "active"
    assert egg["r0"].status == egg["r3"].status == "duplicate"
    assert egg["r0"].duplicate_of == "r5"
    haiku = store.get_examples("p", ["r6", "r7"])
    assert sorted(h.status for h in haiku.values()) == ["active", "duplicate"]
    assert store.events("p", kinds=["dedup"])[0]["author"] == "bob"

    store.undo("p", event, "bob")
    assert store.count_examples("p", ExampleFilter(statuses=["active"])) == len(ids)
    # nothing left to decide twice: a second pass after resolving changes nothing
    apply_policy(store, "p", run, "first", author="bob")
    assert apply_policy(store, "p", run, "longest", author="bob") is None


def test_manual_keeper_can_be_changed(project) -> None:
    store, _ = project
    run = run_dedup(store, "p", method="exact", fields="all", author="ada")
    index = next(i for i, c in enumerate(run.clusters) if "r1" in c.members)
    resolve_cluster(store, "p", run, index, "r4", author="ada")
    assert store.get_example("p", "r1").duplicate_of == "r4"
    resolve_cluster(store, "p", run, index, "r1", author="ada")
    now = store.get_examples("p", ["r1", "r4"])
    assert now["r1"].status == "active" and now["r4"].status == "duplicate"
    assert now["r4"].duplicate_of == "r1"
    with pytest.raises(Exception, match="not a member"):
        resolve_cluster(store, "p", run, index, "r2", author="ada")


def test_near_finds_light_edits(project) -> None:
    store, _ = project
    run = run_dedup(store, "p", method="near", fields="user", threshold=0.5, author="ada")
    assert any({"r0", "r3"} <= g for g in _groups(run))
    assert not any("r2" in g for g in _groups(run))


def test_contamination_flags_and_undo(project) -> None:
    store, _ = project
    refs = ["What is the capital of Peru?", "An unrelated benchmark question about chemistry."]
    report = check_contamination(store, "p", refs, method="exact", flag=True, author="ada")
    assert [h["example_id"] for h in report["hits"]] == ["r2"]
    assert store.get_example("p", "r2").status == "filtered"
    store.undo("p", report["event_id"], "ada")
    assert store.get_example("p", "r2").status == "active"


def test_kept_pairs_caps_big_clusters_but_keeps_them_connected() -> None:
    from itertools import combinations

    from curation.dedup.project import kept_pairs

    members = list(range(60))
    # similarity falls with the index distance, so the chain i -> i+1 is the strongest tree
    pairs = [(i, j, 1.0 - (j - i) / 100) for i, j in combinations(members, 2)]
    kept = kept_pairs(pairs, limit=100)
    assert len(kept) == 100
    assert set(kept) <= set(pairs)
    chain = {(i, i + 1, 0.99) for i in range(59)}
    assert chain <= set(kept)  # the maximum spanning tree connects all 60 members
    assert kept_pairs(pairs[:10], limit=100) == pairs[:10]


def test_runs_are_listed_newest_first_with_their_defaults(project) -> None:
    from curation.dedup.project import default_threshold, list_runs

    store, _ = project
    exact = run_dedup(store, "p", method="exact", fields="user", author="ada")
    near = run_dedup(store, "p", method="near", fields="all", author="bob")
    runs = list_runs(store, "p")
    assert [r.run_id for r in runs] == [near.run_id, exact.run_id]
    assert (runs[0].method, runs[0].fields, runs[0].threshold, runs[0].author) == (
        "near",
        "all",
        0.7,
        "bob",
    )
    assert runs[1].threshold is None and runs[1].n_clusters == len(exact.clusters)
    assert runs[1].label().startswith(f"Run {exact.run_id} · exact · user · ")
    assert default_threshold("exact") is None and default_threshold("near") == 0.7
    assert default_threshold("semantic") == 0.9  # the packaged model is installed here
    assert default_threshold("semantic", backend="static") == 0.95
    assert default_threshold("semantic", backend="tfidf") == 0.8
    with pytest.raises(Exception, match="Unknown dedup method 'fuzzy'"):
        default_threshold("fuzzy")
