"""The shipped term lists (demographic groups, pronouns, offensive terms) and a whole-word matcher.

Lists are JSON files under `curation/bias/data/` with a name, version, license and source each.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from curation.errors import InputError

__all__ = [
    "DATA_DIR",
    "Group",
    "TermList",
    "TermMatcher",
    "demographic_terms",
    "offensive_terms",
    "words",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMOGRAPHIC_FILE = "demographic_terms.json"
OFFENSIVE_FILE = "offensive_terms.json"

# Letters and digits; hyphens, apostrophes and every other mark separate words, in the texts
# and in the terms alike ("non-binary" matches "non binary", "women's" matches "women").
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The case-folded words of `text` (letters and digits; everything else separates)."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True, slots=True)
class Group:
    """One group of a list: a demographic group of an axis, or an offensive-term category.

    Attributes
    ----------
    axis, key:
        ``("gender", "female")``; for offensive terms ``("offensive", "slur")``.
    label:
        How people call it ("women", "slurs").
    terms:
        Lower-case word sequences, as written in the file.
    severity:
        For offensive-term categories: ``warning`` or ``critical``; None for demographic groups.
    """

    axis: str
    key: str
    label: str
    terms: tuple[str, ...]
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class TermList:
    """A loaded term list: its provenance and its groups in file order.

    Attributes
    ----------
    name, version, license, source:
        From the file (shown in the report, so a reader knows what was counted).
    path:
        The file it was read from.
    groups:
        Every group, in file order.
    axis_labels:
        Axis -> its label ("race and ethnicity").
    pronouns:
        Pronoun family (``she``, ``he``, ``they``) -> its words; empty for lists without.
    """

    name: str
    version: str
    license: str
    source: str
    path: str
    groups: tuple[Group, ...]
    axis_labels: Mapping[str, str] = field(default_factory=dict)
    pronouns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def axes(self) -> list[str]:
        return list(dict.fromkeys(g.axis for g in self.groups))

    def group(self, axis: str, key: str) -> Group:
        for g in self.groups:
            if g.axis == axis and g.key == key:
                return g
        raise InputError(f"term list {self.name!r} has no group {axis}/{key}")

    def provenance(self) -> dict[str, str]:
        """Name, version, license, source and file name, for reports."""
        return {
            "name": self.name,
            "version": self.version,
            "license": self.license,
            "source": self.source,
            "file": Path(self.path).name,
        }


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the term list {path}: {exc}") from exc
    for key in ("name", "version", "license", "source"):
        if not isinstance(data.get(key), str):
            raise InputError(f"term list {path} needs a string {key!r}")
    return data


def read_demographic_terms(path: Path) -> TermList:
    """A demographic list: ``axes`` -> axis -> ``groups`` -> key -> ``label`` and ``terms``."""
    data = _load(path)
    groups: list[Group] = []
    labels: dict[str, str] = {}
    for axis, spec in (data.get("axes") or {}).items():
        labels[axis] = str(spec.get("label") or axis)
        for key, group in (spec.get("groups") or {}).items():
            terms = _strings(group.get("terms"), f"{path.name}: {axis}/{key} terms")
            groups.append(Group(axis, key, str(group.get("label") or key), terms))
    pronouns = {
        family: _strings(forms, f"{path.name}: pronouns/{family}")
        for family, forms in ((data.get("pronouns") or {}).get("families") or {}).items()
    }
    return TermList(
        data["name"],
        data["version"],
        data["license"],
        data["source"],
        str(path),
        tuple(groups),
        labels,
        pronouns,
    )


def read_offensive_terms(path: Path) -> TermList:
    """An offensive-term list: ``categories`` -> key -> ``label``, ``severity``, ``terms``."""
    data = _load(path)
    groups: list[Group] = []
    for key, spec in (data.get("categories") or {}).items():
        severity = spec.get("severity", "warning")
        if severity not in ("warning", "critical"):
            raise InputError(
                f"{path.name}: category {key!r} has severity {severity!r}; use warning or critical"
            )
        terms = _strings(spec.get("terms"), f"{path.name}: {key} terms")
        groups.append(Group("offensive", key, str(spec.get("label") or key), terms, severity))
    return TermList(
        data["name"], data["version"], data["license"], data["source"], str(path), tuple(groups)
    )


@lru_cache(maxsize=8)
def demographic_terms(path: str | None = None) -> TermList:
    """The shipped demographic list (or the one at `path`), read once per process."""
    return read_demographic_terms(Path(path) if path else DATA_DIR / DEMOGRAPHIC_FILE)


@lru_cache(maxsize=8)
def offensive_terms(path: str | None = None) -> TermList:
    """The shipped offensive-term list (or the one at `path`), read once per process."""
    return read_offensive_terms(Path(path) if path else DATA_DIR / OFFENSIVE_FILE)


class TermMatcher:
    """Counts whole-word occurrences of many terms (one or more words each) in word lists.

    Built once per list; `count` is one dictionary look-up per word, plus a comparison for the
    multi-word terms that start with it. Overlapping terms of different keys all count ("black
    women" is a mention of Black people and of women).

    Parameters
    ----------
    terms:
        Key -> its terms (strings, split into words as the texts are).
    """

    def __init__(self, terms: Mapping[Any, Iterable[str]]) -> None:
        # first word -> [(term words, keys)], longest first
        starts: dict[str, dict[tuple[str, ...], list[Any]]] = {}
        for key, forms in terms.items():
            for form in forms:
                seq = tuple(words(form))
                if not seq:
                    continue
                keys = starts.setdefault(seq[0], {}).setdefault(seq, [])
                if key not in keys:
                    keys.append(key)
        self._starts = {
            first: sorted(((seq, tuple(keys)) for seq, keys in by_seq.items()), key=_longest)
            for first, by_seq in starts.items()
        }
        self._first = frozenset(self._starts)

    def count(self, tokens: Sequence[str]) -> Counter[Any]:
        """Occurrences per key in `tokens` (the output of `words`)."""
        found: Counter[Any] = Counter()
        if self._first.isdisjoint(tokens):
            return found
        starts = self._starts
        n = len(tokens)
        for i, token in enumerate(tokens):
            entries = starts.get(token)
            if entries is None:
                continue
            for seq, keys in entries:
                size = len(seq)
                if size == 1 or (i + size <= n and tuple(tokens[i : i + size]) == seq):
                    for key in keys:
                        found[key] += 1
        return found

    def matches(self, tokens: Sequence[str]) -> list[tuple[Any, str]]:
        """``(key, matched term)`` for every occurrence, in text order."""
        out: list[tuple[Any, str]] = []
        if self._first.isdisjoint(tokens):
            return out
        n = len(tokens)
        for i, token in enumerate(tokens):
            for seq, keys in self._starts.get(token, ()):
                size = len(seq)
                if size == 1 or (i + size <= n and tuple(tokens[i : i + size]) == seq):
                    out.extend((key, " ".join(seq)) for key in keys)
        return out


def _longest(entry: tuple[tuple[str, ...], tuple[Any, ...]]) -> tuple[int, tuple[str, ...]]:
    return (-len(entry[0]), entry[0])


def group_matcher(terms: TermList) -> TermMatcher:
    """A matcher keyed by ``(axis, group key)`` over every group of `terms`."""
    return TermMatcher({(g.axis, g.key): g.terms for g in terms.groups})
