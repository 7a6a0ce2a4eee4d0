"""A registry of check classes by code: what the quality flags and the bias audit plug into.

Adding a check is one class with a ``code`` and one ``register`` line; codes are snake_case and
unique, and an unknown code is an error that names the known ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from curation.errors import InputError

__all__ = ["CodeRegistry"]

T = TypeVar("T", bound=type)


class CodeRegistry(Generic[T]):
    """Check classes by their ``code``, in registration order.

    Parameters
    ----------
    noun, plural:
        What a code names in error messages ("quality flag" / "flags", "bias check" / "checks").
    """

    def __init__(self, noun: str = "check", plural: str = "checks") -> None:
        self._checks: dict[str, T] = {}
        self._noun, self._plural = noun, plural

    def register(self, check: T) -> T:
        """Add `check`; a second check with the same code is an error. Returns `check`."""
        code = getattr(check, "code", None)
        if not isinstance(code, str) or not code.isidentifier() or code != code.lower():
            raise ValueError(f"a check's code must be a snake_case identifier, not {code!r}")
        if code in self._checks and self._checks[code] is not check:
            raise ValueError(
                f"check code {code!r} is taken by {self._checks[code].__name__}; "
                f"pick another code for {check.__name__}"
            )
        self._checks[code] = check
        return check

    def unregister(self, code: str) -> None:
        self._checks.pop(self._known(code))

    def get(self, code: str) -> T:
        """The check registered as `code`; unknown codes are an error naming the known ones."""
        return self._checks[self._known(code)]

    def _known(self, code: str) -> str:
        if code not in self._checks:
            known = ", ".join(self._checks) or "none"
            raise InputError(f"unknown {self._noun} {code!r}; known {self._plural}: {known}")
        return code

    def codes(self) -> tuple[str, ...]:
        return tuple(self._checks)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._checks.values()))

    def __contains__(self, code: object) -> bool:
        return code in self._checks

    def __len__(self) -> int:
        return len(self._checks)
