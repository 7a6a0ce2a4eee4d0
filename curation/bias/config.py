"""`AuditConfig`: which checks run, their thresholds, the label fields and the examples audited.

Frozen and validated; `to_dict` / `from_dict` round-trip through JSON (a saved run keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.bias.base import CheckRegistry, registry
from curation.errors import InputError
from curation.quality.settings import CheckSettings

__all__ = ["AuditConfig"]

KNOWN_STATUSES = ("active", "rejected", "filtered", "duplicate", "needs_answer")


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{what} must be a list of names, not {value!r}")
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class AuditConfig:
    """Every choice of a bias audit.

    Attributes
    ----------
    checks:
        Codes of the checks to run, or None for every registered check.
    settings:
        Code -> that check's settings (its ``Settings`` class, or a dict of fields to change).
    label_fields:
        Metadata keys to treat as labels (distribution, lengths per value, outcome rates), or
        None to detect them: scalar fields held by at least a fifth of the examples, with 2 to
        `max_label_values` values and fewer values than half their examples (ids are not labels).
    max_label_values:
        Most values a detected label field may have (30).
    coverage_statuses:
        Statuses of the examples whose coverage is audited (what would be trained on):
        ``("active",)``.
    outcome_statuses:
        Statuses read for the outcome check, whose ``status`` field compares them:
        ``("active", "rejected")``, so "rejected 4x as often" can be measured.
    """

    checks: tuple[str, ...] | None = None
    settings: Mapping[str, CheckSettings] = field(default_factory=dict)
    label_fields: tuple[str, ...] | None = None
    max_label_values: int = 30
    coverage_statuses: tuple[str, ...] = ("active",)
    outcome_statuses: tuple[str, ...] = ("active", "rejected")

    def __post_init__(self) -> None:
        reg = self.registry()
        if self.checks is not None:
            checks = _names(self.checks, "checks")
            for code in checks:
                reg.get(code)  # raises InputError naming the known codes
            object.__setattr__(self, "checks", checks)
        resolved: dict[str, CheckSettings] = {}
        for code, value in dict(self.settings).items():
            check = reg.get(code)
            if isinstance(value, Mapping):
                value = check.Settings.from_dict(value)
            if not isinstance(value, check.Settings):
                raise InputError(
                    f"settings for {code!r} must be {check.Settings.__name__} or a dict, "
                    f"not {type(value).__name__}"
                )
            resolved[code] = value
        object.__setattr__(self, "settings", resolved)
        if self.label_fields is not None:
            object.__setattr__(self, "label_fields", _names(self.label_fields, "label_fields"))
        if (
            isinstance(self.max_label_values, bool)
            or not isinstance(self.max_label_values, int)
            or not 2 <= self.max_label_values <= 1000
        ):
            raise InputError(
                f"max_label_values must be an integer in [2, 1000], not {self.max_label_values!r}"
            )
        for name in ("coverage_statuses", "outcome_statuses"):
            statuses = _names(getattr(self, name), name)
            bad = [s for s in statuses if s not in KNOWN_STATUSES]
            if bad or not statuses:
                raise InputError(
                    f"{name} must name statuses among {', '.join(KNOWN_STATUSES)}, not {statuses!r}"
                )
            object.__setattr__(self, name, statuses)

    @staticmethod
    def registry() -> CheckRegistry:
        """The registry codes are checked against (the default one, with the built-ins)."""
        import curation.bias.builtin  # noqa: F401  (registers the built-in checks)

        return registry

    def codes(self) -> tuple[str, ...]:
        """The codes that run, in registry order."""
        reg = self.registry()
        if self.checks is None:
            return reg.codes()
        wanted = set(self.checks)
        return tuple(c for c in reg.codes() if c in wanted)

    def settings_for(self, code: str) -> CheckSettings:
        found = self.settings.get(code)
        return found if found is not None else self.registry().get(code).Settings()

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status read: coverage's, then the outcome check's."""
        return tuple(dict.fromkeys((*self.coverage_statuses, *self.outcome_statuses)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": None if self.checks is None else list(self.checks),
            "settings": {code: s.to_dict() for code, s in self.settings.items()},
            "label_fields": None if self.label_fields is None else list(self.label_fields),
            "max_label_values": self.max_label_values,
            "coverage_statuses": list(self.coverage_statuses),
            "outcome_statuses": list(self.outcome_statuses),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AuditConfig:
        """Build from `to_dict`'s shape; unknown keys are an error naming the allowed ones."""
        data = dict(data or {})
        allowed = (
            "checks",
            "settings",
            "label_fields",
            "max_label_values",
            "coverage_statuses",
            "outcome_statuses",
        )
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InputError(
                f"unknown AuditConfig key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(allowed)}"
            )
        settings = data.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise InputError(f"settings must be an object, not {type(settings).__name__}")
        kwargs: dict[str, Any] = {"settings": dict(settings)}
        for key in ("checks", "label_fields"):
            if data.get(key) is not None:
                kwargs[key] = tuple(data[key])
        for key in ("coverage_statuses", "outcome_statuses"):
            if data.get(key) is not None:
                kwargs[key] = tuple(data[key])
        if "max_label_values" in data:
            kwargs["max_label_values"] = data["max_label_values"]
        return cls(**kwargs)
