"""`QualityConfig`: which flags run, their thresholds and the declared structure expectations.

Frozen and validated; `to_dict` / `from_dict` round-trip through JSON (the step saves it with each run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.errors import InputError
from curation.quality.base import FlagRegistry, registry
from curation.quality.settings import CheckSettings
from curation.quality.structure.expectations import StructureExpectations

__all__ = ["QualityConfig"]


@dataclass(frozen=True)
class QualityConfig:
    """Every choice of a quality run.

    Attributes
    ----------
    flags:
        Codes of the checks to run, or None for every check that runs by default (plus the
        structure check when expectations are declared). Unknown codes are an error naming
        the known ones.
    settings:
        Code -> that check's settings (a `CheckSettings` of its ``Settings`` class, or a dict
        of the fields to change); checks not named use their documented defaults.
    expectations:
        The project's declared structures (`StructureExpectations`), or None.
    """

    flags: tuple[str, ...] | None = None
    settings: Mapping[str, CheckSettings] = field(default_factory=dict)
    expectations: StructureExpectations | None = None

    def __post_init__(self) -> None:
        reg = self.registry()
        if self.flags is not None:
            if isinstance(self.flags, str) or not all(isinstance(c, str) for c in self.flags):
                raise InputError(f"flags must be a list of flag codes, not {self.flags!r}")
            for code in self.flags:
                reg.get(code)  # raises InputError naming the known codes
            object.__setattr__(self, "flags", tuple(dict.fromkeys(self.flags)))
        resolved: dict[str, CheckSettings] = {}
        for code, value in dict(self.settings).items():
            check = reg.get(code)
            if check.Settings is StructureExpectations:
                raise InputError(
                    f"{code!r} is set up by the declared expectations, not by settings"
                )
            if isinstance(value, Mapping):
                value = check.Settings.from_dict(value)
            if not isinstance(value, check.Settings):
                raise InputError(
                    f"settings for {code!r} must be {check.Settings.__name__} or a dict, "
                    f"not {type(value).__name__}"
                )
            resolved[code] = value
        object.__setattr__(self, "settings", resolved)
        if self.expectations is not None and not isinstance(
            self.expectations, StructureExpectations
        ):
            raise InputError(
                "expectations must be StructureExpectations, not "
                f"{type(self.expectations).__name__}"
            )

    @staticmethod
    def registry() -> FlagRegistry:
        """The registry codes are checked against (the default one, with the built-ins)."""
        import curation.quality.builtin  # noqa: F401  (registers the built-in checks)

        return registry

    def codes(self) -> tuple[str, ...]:
        """The codes that run, in registry order."""
        reg = self.registry()
        if self.flags is not None:
            wanted = set(self.flags)
            return tuple(c for c in reg.codes() if c in wanted)
        defaults = set(reg.codes(default_only=True))
        declared = self.expectations is not None and self.expectations.declared
        return tuple(
            c
            for c in reg.codes()
            if c in defaults or (declared and reg.get(c).Settings is StructureExpectations)
        )

    def settings_for(self, code: str) -> CheckSettings:
        """The settings of check `code`: the configured ones, else its defaults."""
        found = self.settings.get(code)
        return found if found is not None else self.registry().get(code).Settings()

    def to_dict(self) -> dict[str, Any]:
        return {
            "flags": None if self.flags is None else list(self.flags),
            "settings": {code: s.to_dict() for code, s in self.settings.items()},
            "expectations": None if self.expectations is None else self.expectations.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> QualityConfig:
        """Build from `to_dict`'s shape; unknown keys are an error naming the allowed ones."""
        data = dict(data or {})
        allowed = ("flags", "settings", "expectations")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InputError(
                f"unknown QualityConfig key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed)}"
            )
        flags = data.get("flags")
        settings = data.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise InputError(f"settings must be an object, not {type(settings).__name__}")
        expectations = data.get("expectations")
        return cls(
            flags=None if flags is None else tuple(flags),
            settings=dict(settings),
            expectations=None
            if expectations is None
            else StructureExpectations.from_dict(expectations),
        )
