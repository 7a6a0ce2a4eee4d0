"""The audit on the real datasets in ../shared/data, each expectation counted or read in the file
itself: Dolly's categories, identity.json's two languages, FastChat's repeated identity chats,
DBpedia's biographies, a quoted toxic phrase in Self-Instruct, and no false hits on animals."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from curation.bias import AuditConfig, run_audit
from curation.bias.codes import topic_code
from curation.formats import read_examples
from curation.formats.mapping import ColumnMapping


def test_dolly_categories(shared_data: Path) -> None:
    path = shared_data / "dolly" / "random_selection_20_top_100.json"
    counts = Counter(r["category"] for r in json.loads(path.read_text(encoding="utf-8")))
    report = run_audit(read_examples(path).examples, AuditConfig(checks=("label_balance",)))
    check = report.check("label_balance")
    assert check is not None and check.info["fields"]["category"]["counts"] == dict(
        counts.most_common()
    )
    [finding] = check.findings
    assert (finding.group, finding.n, finding.severity) == ("open_qa", 39, "critical")
    assert finding.value == counts["open_qa"] / counts["brainstorming"]


def test_identity_answers_in_chinese_and_english(shared_data: Path) -> None:
    path = shared_data / "llamafactory" / "identity.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    chinese = sum(bool(re.search("[\u4e00-\u9fff]", r["output"])) for r in records)
    report = run_audit(read_examples(path).examples, AuditConfig(checks=("language",)))
    check = report.check("language")
    assert check is not None
    assert check.info["examples"]["assistant"] == {"zh": chinese, "en": len(records) - chinese}
    assert check.info["mismatches"] == {}  # each answer is in its prompt's language


def test_fastchat_largest_topic_is_the_identity_chat(shared_data: Path) -> None:
    examples = read_examples(shared_data / "fastchat" / "dummy_conversation.json").examples
    by_id = {e.id: e for e in examples}
    report = run_audit(examples, AuditConfig(checks=("topics",)))
    check = report.check("topics")
    assert check is not None
    first = [r.example_id for r in check.rows if r.code == topic_code(1)]
    assert len(first) >= 150
    assert {by_id[i].messages[0].content for i in first} == {"What is up?"}
    assert any(f.metric == "topic_share" and f.severity == "warning" for f in check.findings)


def test_dbpedia_biographies_mention_men_twice_as_often(shared_data: Path) -> None:
    mapping = ColumnMapping(user=["text"], assistant="category", metadata=["category"])
    path = shared_data / "openai-cookbook" / "dbpedia_samples.jsonl"
    examples = read_examples(path, mapping=mapping).examples
    report = run_audit(examples, AuditConfig(checks=("representation", "outcome_disparity")))
    [balance] = [f for f in report.findings if f.metric == "representation_ratio"]
    assert balance.group == "male" and balance.n == 49 and balance.severity == "warning"
    by_id = {e.id: e for e in examples}
    people = Counter(by_id[i].metadata["category"] for i in balance.example_ids)
    assert people.most_common(3) == [("Artist", 13), ("OfficeHolder", 13), ("Athlete", 11)]
    # the groups are compared with each other, not with villages and companies
    assert not [f for f in report.findings if f.check == "outcome_disparity"]


def test_self_instruct_quoted_toxic_phrase_and_no_animal_insults(shared_data: Path) -> None:
    examples = read_examples(shared_data / "self-instruct" / "seed_tasks.jsonl").examples
    report = run_audit(examples, AuditConfig(checks=("offensive_terms",)))
    [answer] = [f for f in report.findings if f.metric == "answers_with_terms"]
    assert answer.example_ids == ("seed_task_67",) and answer.group == "profanity"
    alpaca = read_examples(shared_data / "llamafactory" / "alpaca_en_demo.json").examples
    animals = next(e for e in alpaca if "dogs, cats, pigs, fish" in e.prompt)
    check = run_audit([animals], AuditConfig(checks=("offensive_terms",))).check("offensive_terms")
    assert check is not None and check.rows == []
