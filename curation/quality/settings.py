"""Frozen, validated settings for quality checks: the shared `to_dict` / `from_dict` and checks.

Every check's thresholds are a `CheckSettings` subclass; unknown keys are an error naming the allowed ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Self

from curation.errors import InputError

__all__ = ["CheckSettings", "NoSettings", "require_fraction", "require_int", "require_number"]


@dataclasses.dataclass(frozen=True, slots=True)
class CheckSettings:
    """Base of every check's settings: a frozen dataclass that round-trips through JSON."""

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Self:
        """Build from a dict; keys not in the dataclass are an error naming the allowed ones.

        Raises
        ------
        InputError
            On unknown keys, or when a value fails the class's own checks.
        """
        data = dict(data or {})
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise InputError(
                f"unknown {cls.__name__} setting(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(names) or 'none'}"
            )
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                value = data[f.name]
                kwargs[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True, slots=True)
class NoSettings(CheckSettings):
    """For checks without thresholds."""


def require_number(owner: str, name: str, value: Any, *, low: float, high: float) -> None:
    """Raise `InputError` unless `value` is a real number in ``[low, high]``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or not low <= value <= high
    ):
        raise InputError(f"{owner}.{name} must be a number in [{low}, {high}], not {value!r}")


def require_fraction(owner: str, name: str, value: Any) -> None:
    """Raise `InputError` unless `value` is a number in ``[0, 1]``."""
    require_number(owner, name, value, low=0.0, high=1.0)


def require_int(owner: str, name: str, value: Any, *, low: int, high: int = 10**9) -> None:
    """Raise `InputError` unless `value` is an integer (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{owner}.{name} must be an integer in [{low}, {high}], not {value!r}")
