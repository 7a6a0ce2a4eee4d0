"""Typed metadata filters and the per-project metadata field index, on SQLite and PostgreSQL.

Expected counts come from the raw files, never from the store; imports go through the readers.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text

from curation.errors import StoreError
from curation.formats import read_examples
from curation.store import ExampleFilter, Store
from curation.store import schema as s
from curation.store.metadata_index import MAX_VALUES, typed_value
from curation.store.migrations import head_revision

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# 40 records whose metadata mixes every JSON type; expected counts are computed from RECORDS.
RECORDS = [
    {
        "id": f"m{i}",
        "instruction": f"Question number {i}?",
        "output": f"Answer number {i}.",
        "label": i % 3 == 0,
        "score": [1, 1.0, 2.5, 3][i % 4],
        "lang": ["en", "de", "True"][i % 3],
        "tags": [["math"], ["math", "easy"], [], ["code", 7]][i % 4],
        'a.b "quoted"': "odd key" if i % 2 else "other",
    }
    for i in range(40)
]


@pytest.fixture()
def store(db_url: str) -> Store:
    st = Store(db_url)
    yield st
    st.dispose()


def _import_records(store: Store, tmp_path: Path, records: list[dict], name: str) -> None:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    store.add_import("p", read_examples(path), "ada")


def _count(store: Store, **metadata: object) -> int:
    return store.count_examples("p", ExampleFilter(metadata=metadata))  # type: ignore[arg-type]


def test_filters_compare_typed_json_values(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    _import_records(store, tmp_path, RECORDS, "typed.jsonl")
    n_true = sum(1 for r in RECORDS if r["label"] is True)
    assert 0 < n_true < len(RECORDS)
    assert _count(store, label=True) == n_true
    assert _count(store, label=False) == len(RECORDS) - n_true
    assert _count(store, label="True") == 0  # a string is not a boolean
    # numbers: 1 and 1.0 are the same JSON number; 2.5 is a float
    assert _count(store, score=1) == sum(1 for r in RECORDS if r["score"] == 1)
    assert _count(store, score=2.5) == sum(1 for r in RECORDS if r["score"] == 2.5)
    assert _count(store, score="1") == 0
    # strings, including one that spells a boolean
    assert _count(store, lang="de") == sum(1 for r in RECORDS if r["lang"] == "de")
    assert _count(store, lang="True") == sum(1 for r in RECORDS if r["lang"] == "True")
    assert _count(store, lang=True) == 0
    # lists match when they contain the value, with its type
    assert _count(store, tags="math") == sum(1 for r in RECORDS if "math" in r["tags"])
    assert _count(store, tags=7) == sum(1 for r in RECORDS if 7 in r["tags"])
    assert _count(store, tags="7") == 0
    # a key with a dot and quotes needs no path syntax
    assert _count(store, **{'a.b "quoted"': "odd key"}) == 20
    # several fields must all match, and the filter combines with status
    both = sum(1 for r in RECORDS if r["label"] and r["lang"] == "en")
    assert _count(store, label=True, lang="en") == both
    store.set_status("p", ["m0"], "rejected", "ada", "test")
    active_true = ExampleFilter(statuses=["active"], metadata={"label": True})
    assert store.count_examples("p", active_true) == n_true - 1
    assert _count(store, missing_field="x") == 0


def test_boolean_column_of_a_csv_filters_as_boolean(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "snli.csv"
    rows = [("A man plays.", "He sleeps.", "true"), ("A dog runs.", "An animal moves.", "false")]
    path.write_text("premise,hypothesis,label\n" + "".join(f"{p},{h},{x}\n" for p, h, x in rows))
    store.create_project("p", "ada")
    from curation.formats import ColumnMapping

    store.add_import(
        "p", read_examples(path, mapping=ColumnMapping(["premise"], "hypothesis")), "ada"
    )
    assert _count(store, label=True) == 1 and _count(store, label=False) == 1


def test_real_boolean_field_of_self_instruct(store: Store, shared_data: Path) -> None:
    path = shared_data / "self-instruct" / "seed_tasks.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    n_true = sum(1 for r in raw for _ in r["instances"] if r["is_classification"] is True)
    assert n_true > 0
    assert _count(store, is_classification=True) == n_true


def test_filter_values_of_other_types_are_refused(store: Store) -> None:
    store.create_project("p", "ada")
    with pytest.raises(StoreError, match="Cannot filter metadata field 'tags'"):
        _count(store, tags=["a"])
    with pytest.raises(StoreError, match="use a string, a number or true/false"):
        _count(store, x=None)


def test_index_lists_fields_that_appear_only_after_row_500(store: Store, shared_data: Path) -> None:
    store.create_project("p", "ada")
    store.add_import(
        "p", read_examples(shared_data / "llamafactory" / "alpaca_en_demo.json"), "ada"
    )  # 999 examples without metadata
    seed = shared_data / "self-instruct" / "seed_tasks.jsonl"
    store.add_import("p", read_examples(seed), "ada")
    store.add_import(
        "p", read_examples(FIXTURES / "benchmarks" / "alpaca_eval_outputs.json"), "ada"
    )
    store.add_import("p", read_examples(FIXTURES / "self_instruct_user_oriented.jsonl"), "ada")
    keys = store.metadata_keys("p")
    assert {"is_classification", "dataset", "generator", "motivation_app"} <= set(keys)

    raw = [json.loads(line) for line in seed.read_text().splitlines()]
    per_row = Counter(r["is_classification"] for r in raw for _ in r["instances"])
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert fields["is_classification"].types == {"boolean": sum(per_row.values())}
    assert dict(fields["is_classification"].values) == dict(per_row)
    assert keys["is_classification"] == [v for v, _ in per_row.most_common()]

    apps = Counter(
        json.loads(line)["motivation_app"]
        for line in (FIXTURES / "self_instruct_user_oriented.jsonl").read_text().splitlines()
    )
    assert dict(fields["motivation_app"].values) == dict(apps)
    eval_rows = json.loads((FIXTURES / "benchmarks" / "alpaca_eval_outputs.json").read_text())
    assert set(keys["dataset"]) == {r["dataset"] for r in eval_rows}
    assert fields["generator"].n_examples == len(eval_rows)
    assert fields["is_classification"].is_categorical


def test_undo_of_an_import_updates_the_index(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    _import_records(store, tmp_path, RECORDS[:10], "a.jsonl")
    extra = [{"id": "x1", "instruction": "Q?", "output": "A.", "only_here": 5, "label": True}]
    _import_records(store, tmp_path, extra, "b.jsonl")
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert fields["only_here"].types == {"integer": 1}
    assert fields["label"].n_examples == 11
    event = store.events("p", kinds=["import"])[0]
    store.undo("p", event["id"], "ada")
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert "only_here" not in fields
    assert fields["label"].n_examples == 10
    assert dict(fields["label"].values) == dict(Counter(r["label"] for r in RECORDS[:10]))


def test_distinct_values_are_bounded_and_long_text_is_not_listed(
    store: Store, tmp_path: Path
) -> None:
    n = MAX_VALUES + 50
    records = [
        {
            "id": f"u{i}",
            "instruction": f"Q {i}?",
            "output": "A.",
            "code": f"c{i:04d}",
            "note": "x" * 500,
            "kind": "common" if i % 2 else "rare",
        }
        for i in range(n)
    ]
    store.create_project("p", "ada")
    _import_records(store, tmp_path, records[:100], "a.jsonl")
    _import_records(store, tmp_path, records[100:], "b.jsonl")  # merged into the same rows
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert fields["code"].n_examples == n and fields["code"].more_values
    assert len(fields["code"].values) == MAX_VALUES
    assert fields["note"].values == [] and fields["note"].more_values
    assert fields["kind"].values == [("common", n // 2), ("rare", n // 2)]
    assert not fields["kind"].more_values
    assert not fields["code"].is_categorical


def test_concurrent_imports_keep_every_count(store: Store, db_url: str, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    files = []
    for k in range(4):
        batch = [
            {"id": f"t{k}-{i}", "instruction": f"Q {k} {i}?", "output": "A.", "batch": k}
            for i in range(30)
        ]
        path = tmp_path / f"batch{k}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in batch))
        files.append(read_examples(path))
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(files))

    def run(result: object) -> None:
        own = Store(db_url)
        try:
            barrier.wait()
            own.add_import("p", result, "ada")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert fields["batch"].n_examples == 120
    assert dict(fields["batch"].values) == {0: 30, 1: 30, 2: 30, 3: 30}


def test_version_2_database_is_upgraded_and_its_index_built(db_url: str) -> None:
    engine = create_engine(db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        s.MIGRATIONS[0](conn)
        s.MIGRATIONS[1](conn)
        conn.execute(insert(s.schema_version).values(version=2))
        conn.execute(
            text(
                "INSERT INTO projects (name, created_at, created_by, settings) "
                "VALUES ('old', CURRENT_TIMESTAMP, 'ada', '{}')"
            )
        )
        pid = conn.scalar(select(s.projects.c.id))
        metas = [{"label": True, "lang": "en"}, {"label": False}, {"lang": "fr", "n": 3}]
        for i, meta in enumerate(metas):
            conn.execute(
                insert(s.examples).values(
                    project_id=pid,
                    example_id=f"e{i}",
                    position=i,
                    source="old.jsonl",
                    raw={},
                    messages=[{"role": "user", "content": "q"}],
                    meta=meta,
                    status="active",
                    revision=0,
                    content_hash=f"{i:064d}",
                    search_text="q",
                    answer_chars=0,
                    updated_at=now,
                )
            )
    engine.dispose()
    st = Store(db_url)
    assert st.schema_version() == int(head_revision())  # the legacy s.SCHEMA_VERSION stays 3
    fields = {f.name: f for f in st.metadata_fields("old")}
    assert set(fields) == {"label", "lang", "n"}
    assert dict(fields["label"].values) == {True: 1, False: 1}
    assert fields["lang"].n_examples == 2 and fields["n"].types == {"integer": 1}
    assert st.count_examples("old", ExampleFilter(metadata={"label": True})) == 1
    st.dispose()


def test_typed_value_reads_text_as_the_field_type(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    _import_records(store, tmp_path, RECORDS, "typed.jsonl")
    fields = {f.name: f for f in store.metadata_fields("p")}
    assert typed_value("true", fields["label"]) is True
    assert typed_value("2.5", fields["score"]) == 2.5
    assert typed_value("3", fields["score"]) == 3
    assert typed_value("True", fields["lang"]) == "True"  # a string field stays text
    assert typed_value("7", fields["tags"]) == "7"  # tags hold strings, so text
