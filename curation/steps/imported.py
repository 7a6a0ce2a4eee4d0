"""The import step as the card and readiness see it: files read, examples imported, edited,
set aside, and those still waiting for an answer (importing itself lives in `curation.formats`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from curation.export.readiness import ReadinessItem, number
from curation.steps.base import DATA, Step

if TYPE_CHECKING:
    from curation.store import Store


class ImportStep(Step):
    """Numbers of the project's imports; its readiness item is about data that cannot go out."""

    name = "import"
    title = "Import"
    readiness_group = DATA

    def stats(self, store: Store, project: str) -> dict[str, Any] | None:
        stats = store.stats(project)
        by_status = stats["by_status"]
        imports = store.list_imports(project)
        return {
            "files": len(imports),
            "records_read": sum(i["n_records"] for i in imports),
            "examples_imported": stats["total"],
            "records_skipped": sum(i["n_skipped"] for i in imports),
            "examples_edited": stats["edited"],
            "rejected": by_status.get("rejected", 0),
            "filtered": by_status.get("filtered", 0),
            "needs_answer": by_status.get("needs_answer", 0),
        }

    def readiness_items(
        self, stats: Mapping[str, Any] | None, *, n_examples: int
    ) -> list[ReadinessItem]:
        """ "needs an answer" (warn) while prompts wait for an answer; nothing otherwise."""
        waiting = number(stats, "needs_answer")
        if not waiting:
            return []
        return [
            ReadinessItem(
                "needs an answer",
                int(waiting),
                "warn",
                f"{int(waiting)} examples still need an answer and never go out; write their "
                "answers (or candidate answers) to export them",
            )
        ]
