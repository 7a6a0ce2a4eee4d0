"""The `curation` command end to end on real files: import, stats, dedup, with JSON reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main

JOKES = [
    {
        "instruction": "Tell me a joke about cats.",
        "output": "Why did the cat sit on the computer? To keep an eye on the mouse.",
    },
    {
        "instruction": "Tell me a joke about dogs.",
        "output": "What do you call a dog magician? A labracadabrador.",
    },
    {
        "instruction": "tell me a JOKE about cats",
        "output": "Why did the cat sit on the computer?  To keep an eye on the mouse!",
    },
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | str]:
    code = main(list(argv))
    out = capsys.readouterr()
    try:
        return code, json.loads(out.out)
    except json.JSONDecodeError:
        return code, out.out + out.err


def test_import_then_reimport_then_stats(tmp_path: Path, shared_data: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = shared_data / "self-instruct" / "seed_tasks.jsonl"
    n_instances = sum(
        len(json.loads(line)["instances"]) for line in path.read_text().splitlines() if line.strip()
    )
    code, report = run(
        capsys, "import", str(path), "--project", "p", "--db", db, "--json", "--quiet"
    )
    assert code == 0
    assert report["imported"] == n_instances
    assert report["files"][0]["detected_format"] == "self-instruct"

    code, again = run(
        capsys, "import", str(path), "--project", "p", "--db", db, "--json", "--quiet"
    )
    assert again["imported"] == 0 and again["files"][0]["already_imported"]

    code, stats = run(capsys, "stats", "--project", "p", "--db", db, "--json")
    assert stats["total"] == n_instances
    assert stats["by_status"] == {"active": n_instances}


def test_unmappable_table_asks_for_mapping(tmp_path: Path, capsys) -> None:
    path = tmp_path / "t.csv"
    path.write_text("alpha,beta\n1,2\n")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    code, out = run(capsys, "import", str(path), "--project", "p", "--db", db, "--quiet")
    assert code == 2
    assert "--map-user" in out
    code, report = run(
        capsys,
        "import",
        str(path),
        "--project",
        "p",
        "--db",
        db,
        "--quiet",
        "--json",
        "--map-user",
        "alpha",
        "--map-assistant",
        "beta",
    )
    assert code == 0 and report["imported"] == 1


def test_dedup_file_writes_report(tmp_path: Path, capsys) -> None:
    rows = JOKES
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out_file = tmp_path / "clusters.json"
    code, report = run(
        capsys,
        "dedup",
        str(path),
        "--method",
        "exact",
        "--report",
        str(out_file),
        "--json",
        "--quiet",
    )
    assert code == 0
    assert [c["rows"] for c in report["clusters"]] == [[0, 2]]
    assert json.loads(out_file.read_text())["n_duplicates"] == 1


def test_dedup_project_with_policy(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"id": f"j{i}", **r}) + "\n" for i, r in enumerate(JOKES)))
    run(capsys, "import", str(path), "--project", "p", "--db", db, "--quiet", "--json")
    code, report = run(
        capsys,
        "dedup",
        "p",
        "--db",
        db,
        "--method",
        "exact",
        "--apply",
        "first",
        "--json",
        "--quiet",
    )
    assert code == 0
    assert report["clusters"][0]["members"] == ["j0", "j2"]
    code, stats = run(capsys, "stats", "--project", "p", "--db", db, "--json")
    assert stats["by_status"] == {"active": 2, "duplicate": 1}


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_file_is_validated_and_reproducible(
    tmp_path: Path, shared_data: Path, capsys
) -> None:
    import hashlib

    source = shared_data / "llamafactory" / "alpaca_en_demo.json"
    n = len(json.loads(source.read_text()))
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        code, report = run(
            capsys,
            "export",
            str(source),
            "--preset",
            "openai",
            "--seed",
            "7",
            "--eval-fraction",
            "0.2",
            "--out",
            str(out),
            "--json",
            "--quiet",
        )
        assert code == 0, report
        outs.append(out)
    assert report["validation"]["ok"]
    train, valid = _read_jsonl(outs[0] / "train.jsonl"), _read_jsonl(outs[0] / "validation.jsonl")
    assert len(train) + len(valid) == n == report["train"] + report["eval"]
    for name in ("train.jsonl", "validation.jsonl", "README.md", "manifest.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    digest = hashlib.sha256((outs[0] / "train.jsonl").read_bytes()).hexdigest()
    assert digest in json.dumps(manifest)


def test_pipeline_removes_planted_duplicates(tmp_path: Path, shared_data: Path, capsys) -> None:
    demo = json.loads((shared_data / "llamafactory" / "alpaca_en_demo.json").read_text())
    base = [
        (r["instruction"], r["output"])
        for r in demo
        if not r["input"] and len(r["output"].split()) > 40 and " the " in r["output"]
    ][:40]
    assert len(base) == 40
    rows = [{"instruction": q, "output": a} for q, a in base]
    rows += [
        {"instruction": q.upper(), "output": a} for q, a in base[:5]
    ]  # exact after normalising
    # near: one word of a long answer changed
    rows += [{"instruction": q, "output": a.replace(" the ", " a ", 1)} for q, a in base[5:10]]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    code, report = run(capsys, "pipeline", str(path), "--out", str(out), "--json", "--quiet")
    assert code == 0, report
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["import"]["imported"] == 50
    assert steps["dedup-exact"]["removed"] == 5
    assert steps["dedup-near"]["removed"] == 5
    written = _read_jsonl(out / "train.jsonl") + _read_jsonl(out / "validation.jsonl")
    prompts = [r["messages"][0]["content"] for r in written]
    assert len(written) == 40 and len({p.casefold() for p in prompts}) == 40


def test_pipeline_runs_the_registered_steps_it_is_given(tmp_path: Path, capsys) -> None:
    rows = [{"instruction": f"Question {i}?", "output": f"Answer number {i}."} for i in range(12)]
    rows += [{"instruction": "Write a poem.", "output": "I'm sorry, but I cannot help with that."}]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, report = run(
        capsys,
        "pipeline",
        str(path),
        "--out",
        str(tmp_path / "bad"),
        "--step",
        "quality",
        "--step",
        "nope",
        "--json",
        "--quiet",
    )
    assert code == 2 and "nope" in str(report) and not (tmp_path / "bad").exists()
    out = tmp_path / "out"
    code, report = run(
        capsys,
        "pipeline",
        str(path),
        "--out",
        str(out),
        "--step",
        "quality",
        "--step",
        "audit",
        "--json",
        "--quiet",
    )
    assert code == 0, report
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["quality"]["ok"] and steps["audit"]["ok"]
    assert steps["quality"]["run_id"] and steps["audit"]["run_id"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| quality | examples_checked: 13, flagged: 1," in card  # the refusal
    assert "| audit |" in card


def test_export_can_leave_out_what_the_preset_cannot_carry(
    tmp_path: Path, shared_data: Path, capsys
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    glaive = shared_data / "llamafactory" / "glaive_toolcall_en_demo.json"
    identity = shared_data / "llamafactory" / "identity.json"
    run(
        capsys,
        "import",
        str(glaive),
        str(identity),
        "--project",
        "p",
        "--db",
        db,
        "--quiet",
        "--json",
    )
    code, out = run(
        capsys,
        "export",
        "p",
        "--db",
        db,
        "--preset",
        "alpaca",
        "--out",
        str(tmp_path / "a"),
        "--quiet",
    )
    assert code == 2 and "cannot represent" in out
    assert not (tmp_path / "a").exists()
    code, report = run(
        capsys,
        "export",
        "p",
        "--db",
        db,
        "--preset",
        "alpaca",
        "--out",
        str(tmp_path / "b"),
        "--skip-unrepresentable",
        "--json",
        "--quiet",
    )
    assert code == 0, report
    written = _read_jsonl(tmp_path / "b" / "train.jsonl") + _read_jsonl(
        tmp_path / "b" / "validation.jsonl"
    )
    single_turn_glaive = sum(
        1
        for r in json.loads(glaive.read_text())
        if len(r["conversations"]) == 2
        and {t["from"] for t in r["conversations"]} == {"human", "gpt"}
        and not r.get("system")
    )
    assert len(written) == 91 + single_turn_glaive
    assert report["validation"]["warnings"]["skipped_unrepresentable"] == 300 - single_turn_glaive


def test_import_a_table_with_a_template_and_drop_rules(tmp_path: Path, capsys) -> None:
    from tests.unit.test_formats_mapping import read_csv, write_snli

    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = write_snli(tmp_path / "snli.csv")
    rows = read_csv(path)
    code, report = run(
        capsys,
        "import",
        str(path),
        "--project",
        "p",
        "--db",
        db,
        "--map-template",
        r"Premise: {sentence1}\nHypothesis: {sentence2}",
        "--map-assistant",
        "gold_label",
        "--drop-where",
        "gold_label=-",
        "--drop-where",
        "label1 in [nothing, none]",
        "--json",
        "--quiet",
    )
    assert code == 0, report
    kept = [r for r in rows if r["gold_label"] != "-"]
    assert report["imported"] == len(kept)
    assert report["files"][0]["skipped_reasons"] == {
        "dropped: gold_label = '-'": len(rows) - len(kept)
    }
    assert report["files"][0]["warnings"] == [
        "The drop rule label1 in ['nothing', 'none'] matched no row; check its value."
    ]
    from curation.store import Store

    st = Store(db)
    prompts = [e.example.prompt for e in st.list_examples("p", limit=None)]
    st.dispose()
    assert prompts == [f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}" for r in kept]


def test_import_warns_about_placeholder_answers_and_names_the_fix(tmp_path: Path, capsys) -> None:
    from tests.unit.test_formats_mapping import write_snli

    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = write_snli(tmp_path / "snli.csv")
    args = ["import", str(path), "--project", "p", "--db", db, "--quiet"]
    code, out = run(
        capsys, *args, "--map-user", "sentence1,sentence2", "--map-assistant", "gold_label"
    )
    assert code == 0
    assert "warning: 3 of 24 examples have a placeholder as the answer column 'gold_label'" in out
    assert "--drop-where 'gold_label=-'" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--map-template", "{sentence1} {nope}", "--map-assistant", "gold_label"], "'nope'"),
        (["--drop-where", "gold_label=-"], "needs --map-assistant"),
        (
            ["--map-user", "sentence1", "--map-template", "{sentence2}", "--map-assistant", "x"],
            "not both",
        ),
        (
            ["--map-user", "sentence1", "--map-assistant", "gold_label", "--drop-where", "oops"],
            "Cannot read the drop rule 'oops'",
        ),
    ],
)
def test_bad_mapping_options_are_named(
    options: list[str], message: str, tmp_path: Path, capsys
) -> None:
    from tests.unit.test_formats_mapping import write_snli

    path = write_snli(tmp_path / "snli.csv")
    db = f"sqlite:///{tmp_path / 'c.db'}"
    code, out = run(capsys, "import", str(path), "--project", "p", "--db", db, "--quiet", *options)
    assert code == 2 and message in out


def test_export_file_leaves_out_before_the_split(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Real Dolly pairs as OpenAI chats, 20 of them ending on a user turn (openai cannot carry
    them): they are left out before the split, so the eval file has the 10 lines asked for."""
    dolly = json.loads((shared_data / "dolly" / "random_selection_20_top_100.json").read_text())
    chats = [
        {
            "messages": [
                {"role": "user", "content": r["instruction"]},
                {"role": "assistant", "content": r["response"]},
            ]
        }
        for r in dolly[:80]
    ]
    for chat in chats[60:]:
        chat["messages"].append({"role": "user", "content": "Thanks! And why is that?"})
    path = tmp_path / "chats.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in chats))
    out = tmp_path / "out"
    code, report = run(
        capsys,
        "export",
        str(path),
        "--preset",
        "openai",
        "--eval-count",
        "10",
        "--skip-unrepresentable",
        "--out",
        str(out),
        "--json",
        "--quiet",
    )
    assert code == 0, report
    assert len(_read_jsonl(out / "validation.jsonl")) == 10  # the eval size asked for
    assert len(_read_jsonl(out / "train.jsonl")) == 50 == report["train"]
    assert report["validation"]["warnings"]["skipped_unrepresentable"] == 20


def test_dedup_semantic_backend_option(tmp_path: Path, capsys) -> None:
    from curation.dedup import SEMANTIC_BACKENDS

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in JOKES))
    code, report = run(
        capsys,
        *("dedup", str(path), "--method", "semantic", "--semantic-backend", "tfidf"),
        *("--json", "--quiet"),
    )
    assert code == 0 and "fallback" in report["backend"]
    code, out = run(
        capsys, "dedup", str(path), "--method", "near", "--semantic-backend", "static", "--quiet"
    )
    assert code != 0 and "--method semantic" in str(out)
    assert main(["dedup", str(path), "--semantic-backend", "openai"]) == 2  # a usage error
    err = capsys.readouterr().err
    for backend in SEMANTIC_BACKENDS:  # the option offers every backend the core knows
        assert f"'{backend}'" in err


def test_building_the_command_line_loads_no_model_library() -> None:
    """`curation --help` (and every command's parsing) must not import presidio, spaCy or torch:
    they take seconds to load and only the commands that scan need them."""
    import subprocess
    import sys

    code = (
        "import sys; from curation.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('presidio_analyzer', 'presidio_anonymizer', 'spacy', 'torch') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stats_count_pairs_and_prompts_needing_an_answer(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = Path(__file__).resolve().parents[2] / "sample_data" / "preference_pairs_demo.json"
    records = json.loads(path.read_text())
    n_pairs = sum(1 for r in records if "chosen" in r)
    code, _ = run(capsys, "import", str(path), "--project", "p", "--db", db, "--json", "--quiet")
    assert code == 0
    code, stats = run(capsys, "stats", "--project", "p", "--db", db, "--json")
    assert stats["with_preference"] == n_pairs
    assert stats["by_status"] == {"active": n_pairs, "needs_answer": len(records) - n_pairs}
    assert main(["stats", "--project", "p", "--db", db]) == 0
    assert f"with candidate answers or a KTO label: {n_pairs}" in capsys.readouterr().out
