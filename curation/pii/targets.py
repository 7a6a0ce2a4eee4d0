"""What of an example is scanned, and how scrubbed texts go back into it.

`scan_targets` lists every turn (roles selectable), tool calls, every candidate answer of
preference data (``candidates[k].messages[j].content``) and text fields of metadata, each with
a location; `apply_scrubbed` rebuilds the example.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from curation.errors import PiiConfigError
from curation.pii.findings import Finding
from curation.pii.operators import ScrubResult
from curation.pii.scanner import PiiScanner
from curation.records import ROLES, Example

__all__ = ["ScanTarget", "apply_scrubbed", "scan_examples", "scan_targets"]

# Metadata strings shorter than this are labels and ids ("en", "qa"), not free text.
_MIN_METADATA_TEXT = 3


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """One text of one example.

    Attributes
    ----------
    example_id:
        The example's id.
    location:
        Where the text is: ``messages[2].content``, ``messages[1].tool_calls``,
        ``metadata.notes``, ``metadata.candidates[0].content``. What the store keeps.
    role:
        The turn's role for message texts, None for metadata.
    text:
        The text itself (kept in memory only; persist `location` and findings instead).
    """

    example_id: str
    location: str
    role: str | None
    text: str

    @property
    def is_json(self) -> bool:
        """Tool calls are JSON text: scrub them with ``Scrubber.apply(..., json_string=True)``."""
        return self.location.endswith(".tool_calls")


def _metadata_texts(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        if len(value.strip()) >= _MIN_METADATA_TEXT:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _metadata_texts(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _metadata_texts(item, f"{path}[{i}]")


def scan_targets(
    examples: Iterable[Example],
    *,
    roles: Sequence[str] | None = None,
    include_tool_calls: bool = True,
    include_metadata: bool = True,
) -> list[ScanTarget]:
    """Every text of `examples` a PII scan should read, in a stable order.

    Parameters
    ----------
    roles:
        Turn roles to scan (``system``, ``user``, ``assistant``, ``tool``); None = all.
    include_tool_calls:
        Also scan the JSON text of assistant tool calls.
    include_metadata:
        Also scan string values anywhere in metadata (3+ characters).
    """
    if roles is not None:
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise PiiConfigError(f"unknown roles {bad}; choose from {list(ROLES)}")
    wanted = set(ROLES if roles is None else roles)
    out: list[ScanTarget] = []
    for ex in examples:
        for i, m in enumerate(ex.messages):
            if m.role not in wanted:
                continue
            if m.content:
                out.append(ScanTarget(ex.id, f"messages[{i}].content", m.role, m.content))
            if include_tool_calls and m.tool_calls:
                out.append(ScanTarget(ex.id, f"messages[{i}].tool_calls", m.role, m.tool_calls))
        for k, cand in enumerate(ex.candidates):
            for j, m in enumerate(cand.messages):
                if m.role not in wanted:
                    continue
                where = f"candidates[{k}].messages[{j}]"
                if m.content:
                    out.append(ScanTarget(ex.id, f"{where}.content", m.role, m.content))
                if include_tool_calls and m.tool_calls:
                    out.append(ScanTarget(ex.id, f"{where}.tool_calls", m.role, m.tool_calls))
        if include_metadata:
            for path, text in _metadata_texts(ex.metadata, "metadata"):
                out.append(ScanTarget(ex.id, path, None, text))
    return out


def scan_examples(
    scanner: PiiScanner, examples: Iterable[Example], **options: Any
) -> list[tuple[ScanTarget, list[Finding]]]:
    """`scan_targets` then one batched `scanner.scan` over all their texts."""
    progress = options.pop("progress", None)
    targets = scan_targets(examples, **options)
    found = scanner.scan([t.text for t in targets], progress=progress)
    return list(zip(targets, found, strict=True))


def _set_metadata(metadata: dict[str, Any], location: str, value: str) -> None:
    parts: list[str | int] = []
    for token in location.removeprefix("metadata.").replace("]", "").split("."):
        name, *indices = token.split("[")
        parts.append(name)
        parts.extend(int(i) for i in indices)
    target: Any = metadata
    for key in parts[:-1]:
        target = target[key]
    target[parts[-1]] = value


def apply_scrubbed(example: Example, scrubbed: dict[str, ScrubResult]) -> Example:
    """A copy of `example` with each location's text replaced by its scrubbed text.

    Raises
    ------
    PiiConfigError
        A location does not exist in the example, or its text changed since the scan.
    """
    from curation.pii.findings import text_sha256

    new = copy.deepcopy(example)
    current = {t.location: t.text for t in scan_targets([example], include_metadata=True)}
    for location, result in scrubbed.items():
        if location not in current:
            raise PiiConfigError(f"example {example.id!r} has no text at {location!r}")
        if text_sha256(current[location]) != result.original_sha256:
            raise PiiConfigError(
                f"example {example.id!r} changed at {location!r} since it was scanned; scan again"
            )
        if location.startswith(("messages[", "candidates[")):
            indices = [int(part.split("]")[0]) for part in location.split("[")[1:]]
            field_name = location.rsplit(".", 1)[1]
            turns = new.messages if len(indices) == 1 else new.candidates[indices[0]].messages
            setattr(turns[indices[-1]], field_name, result.text)
        else:
            _set_metadata(new.metadata, location, result.text)
    return new
