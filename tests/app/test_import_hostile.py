"""AppTest of the Import page with hostile uploads: the preview shows the problems, never crashes.

Lone surrogates, NUL, deep nesting, huge numbers, a latin-1 line and long ids in one upload.
"""

from __future__ import annotations

import json
from typing import Any

from curation.store import Store
from tests.app.waiting import finish_jobs
from ui.safe import esc

PAGE = "pages/import_page.py"
GOOD = {"instruction": "Nommez une couleur.", "input": "", "output": "Bleu ☕."}


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


HOSTILE_LINES: list[tuple[bytes, str | None]] = [
    (_line(GOOD), None),
    (b'{"instruction": "Say \\ud800 hi", "input": "", "output": "Hi"}', "lone surrogate"),
    (
        b'{"instruction": "Say hi", "input": "", "output": "Hi", "n\\udc80ote": "x"}',
        "lone surrogate",
    ),
    (b'{"instruction": "Say\\u0000hi", "input": "", "output": "Hi"}', "nul character"),
    (b"[" * 100_000 + b"]" * 100_000, "too deeply nested"),
    (
        b'{"instruction": "Big", "input": "", "output": "N", "n": ' + str(10**30).encode() + b"}",
        None,
    ),
    ('{"instruction": "Déjà?", "input": "", "output": "Oui"}'.encode("latin-1"), "not utf-8"),
    (_line({**GOOD, "id": "x" * 250, "output": "Long id."}), None),
    (b'{"instruction": "Score", "input": "", "output": "S", "score": NaN}', "number out of range"),
    (b'{"instruction": "a\x00b", "input": "", "output": "c"}', "nul character"),
    (_line({**GOOD, "output": "Rouge 😀.", "extra": json.loads("[" * 300 + "]" * 300)}), None),
    # The deepest record admitted (400 levels) survives the page's cache (pickle) and preview.
    (_line({**GOOD, "output": "Vert.", "extra": json.loads("[" * 399 + "]" * 399)}), None),
]


def _problems(at: Any) -> Any:
    """The problems table (a dataframe without selection carries no key to find it by)."""
    (table,) = [d.value for d in at.dataframe if "problem" in d.value.columns]
    return table


def _upload(at: Any, name: str, data: bytes) -> Any:
    at.file_uploader(key="import_files_0").upload(name, data, "application/octet-stream")
    return at.run()


def test_hostile_upload_shows_every_problem_and_imports_the_rest(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    data = b"\n".join(line for line, _ in HOSTILE_LINES) + b"\n"
    at = _upload(open_page(PAGE), "hostile.jsonl", data)

    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    kept = sum(1 for _, reason in HOSTILE_LINES if reason is None)
    assert metrics["Importable"] == str(kept)
    assert metrics["Skipped"] == str(len(HOSTILE_LINES) - kept)
    problems = _problems(at)
    skipped = problems[problems["outcome"] == "skipped"]
    expected = [(n, r) for n, (_, r) in enumerate(HOSTILE_LINES, 1) if r is not None]
    assert list(zip(skipped["line"], skipped["reason"], strict=True)) == expected
    long_id = problems[problems["outcome"] == "kept"]
    assert list(long_id["line"]) == [8] and list(long_id["reason"]) == ["id too long"]
    assert all("\ud800" not in p and "\udc80" not in p for p in problems["problem"])
    # Alerts render markdown: the message arrives escaped (character by character).
    assert any(esc("UTF-8 except 1 line(s) (7)") in w.value for w in at.warning)

    at.button(key="import_button").click().run()
    finish_jobs(at, store)

    assert not at.exception
    rows = store.list_examples("p", limit=None)
    assert [r.example.raw.get("output") for r in rows] == [
        "Bleu ☕.",
        "N",
        "Long id.",
        "Rouge 😀.",
        "Vert.",
    ]
    assert rows[1].example.raw["n"] == 10**30


def test_preview_of_a_huge_answer_is_cut_for_the_page(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    answer = "long answer " * 100_000  # 1.2 MB of text
    notes = {"notes": ["note"] * 100_000}  # and 0.8 MB of metadata
    data = _line({**GOOD, "output": answer, **notes}) + b"\n" + _line(GOOD) + b"\n"
    at = _upload(open_page(PAGE), "big.jsonl", data)

    assert not at.exception
    shown = [t.value for t in at.text if t.value.startswith("long answer")]
    assert len(shown) == 1 and len(shown[0]) < 20_000
    assert "more characters, shown in full after import" in shown[0]
    (metadata,) = [c.value for c in at.code if "metadata (cut for the preview)" in c.value]
    assert len(metadata) < 20_000
    at.button(key="import_button").click().run()
    finish_jobs(at, store)
    first = store.list_examples("p")[0].example
    assert first.messages[1].content == answer and first.metadata == notes


def test_json_document_with_a_lone_surrogate_key_previews(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    data = (
        b'[{"instruction": "Q1", "output": "A1"},'
        b' {"instruction": "Q2", "output": "A2", "\\ud800": 1},'
        b' {"instruction": "Q3", "output": "A3"}]'
    )
    at = _upload(open_page(PAGE), "doc.json", data)

    assert not at.exception
    problems = _problems(at)
    assert list(problems["line"]) == [2] and list(problems["reason"]) == ["lone surrogate"]
    assert {m.label: m.value for m in at.metric}["Importable"] == "2"


def test_kept_hostile_records_browse_without_error(open_page, store: Store) -> None:
    store.create_project("p", "ada")
    data = b"\n".join(line for line, _ in HOSTILE_LINES) + b"\n"
    at = _upload(open_page(PAGE), "hostile.jsonl", data)
    at.button(key="import_button").click().run()
    finish_jobs(at, store)

    at.switch_page("pages/browse_page.py").run()

    assert not at.exception
    table = next(d.value for d in at.dataframe if "answer" in d.value.columns)
    assert list(table["answer"]) == ["Bleu ☕.", "N", "Long id.", "Rouge 😀.", "Vert."]
    for row in store.list_examples("p"):  # each one opened: big numbers, deep metadata
        at.text_input(key="browse_goto").input(row.id).run()
        assert not at.exception
        assert any(row.example.response == t.value for t in at.text)
