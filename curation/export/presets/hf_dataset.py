"""A Hugging Face dataset folder: ``data/train.parquet``, ``data/validation.parquet`` + card.

Rows keep the chat-template ``messages`` shape plus ``id``, ``source`` and ``metadata`` (JSON text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from curation.export.checks import check_strings
from curation.export.conversation import Layout
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset, ReadRecord
from curation.export.presets.chat_template import chat_template_record, check_chat_template_record
from curation.records import Example


class HfDatasetPreset(Preset):
    """Parquet splits under ``data/`` for ``load_dataset(<folder>)`` or a Hub upload.

    Columns: ``id`` (str), ``messages`` (list of ``{role, content[, tool_calls]}`` as in
    ``trl-messages``), ``tools`` (JSON text, only when any example has tools), ``source``
    (str), ``metadata`` (the example's metadata as sorted-key JSON text, so heterogeneous
    fields never clash in the Arrow schema). The README card's ``configs`` names both files.
    """

    name: ClassVar[str] = "hf-dataset"
    description: ClassVar[str] = "Hugging Face dataset folder (data/*.parquet + README card)"
    file_ext: ClassVar[str] = "parquet"
    data_dir: ClassVar[str] = "data"
    default_max_tokens: ClassVar[int | None] = 1024
    trainer_hint: ClassVar[str] = 'load_dataset("<export folder>") or push the folder to the Hub'

    def build(self, example: Example, layout: Layout) -> Built:
        chat = chat_template_record(example, layout, weights=False)
        record: dict[str, Any] = {"id": example.id, "messages": chat.record["messages"]}
        if "tools" in chat.record:
            record["tools"] = chat.record["tools"]
        record["source"] = example.source
        record["metadata"] = json.dumps(
            example.metadata, ensure_ascii=False, allow_nan=False, sort_keys=True, default=str
        )
        return Built(record, chat.warnings)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = check_strings(record, ("id", "source", "metadata"), line, non_empty=("id",))
        try:
            json.loads(record.get("metadata") or "{}")
        except (TypeError, json.JSONDecodeError) as exc:
            issues.append(Issue(line, None, "data_type", f"metadata is not JSON text ({exc})"))
        issues.extend(check_chat_template_record(record, line, weights=False))
        return issues

    @staticmethod
    def arrow_schema(layout: Layout) -> Any:
        """The explicit Arrow schema, so train and validation share one schema exactly."""
        import pyarrow as pa

        fields = [pa.field("role", pa.string()), pa.field("content", pa.string())]
        if layout.has_tool_calls:
            call = pa.struct(
                [
                    pa.field("id", pa.string()),
                    pa.field("type", pa.string()),
                    pa.field(
                        "function",
                        pa.struct(
                            [pa.field("name", pa.string()), pa.field("arguments", pa.string())]
                        ),
                    ),
                ]
            )
            fields.append(pa.field("tool_calls", pa.list_(call)))
        columns = [pa.field("id", pa.string()), pa.field("messages", pa.list_(pa.struct(fields)))]
        if layout.has_tools:
            columns.append(pa.field("tools", pa.string()))
        columns += [pa.field("source", pa.string()), pa.field("metadata", pa.string())]
        return pa.schema(columns)

    def write_records(self, records: Sequence[dict[str, Any]], path: Path, layout: Layout) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(list(records), schema=self.arrow_schema(layout))
        pq.write_table(table, path, compression="snappy")

    def read_records(self, path: Path) -> Iterator[ReadRecord]:
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(path).to_pylist()
        except Exception as exc:  # any Arrow error means the file is unreadable
            yield ReadRecord(
                0,
                error=Issue(
                    None, None, "invalid_parquet", f"cannot read parquet: {exc}", path.name
                ),
            )
            return
        for n, row in enumerate(rows, start=1):
            yield ReadRecord(n, value=row)
