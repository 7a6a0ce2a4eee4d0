"""The product's exception family.

Pages catch `CurationError` and show its message; the CLI prints it and exits non-zero.
Every message names the bad value and what to do next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curation.export.issues import ValidationReport


class CurationError(Exception):
    """Base class for every error the product raises on purpose."""


class InputError(CurationError):
    """A file or record the user gave cannot be read as asked (format, encoding, size)."""


class MappingError(InputError):
    """A column mapping names columns that are missing, or no text column could be found."""


class ReferenceFieldError(InputError):
    """A reference set's records do not say which field holds its texts; `.candidates` lists
    the fields that do hold text, for a picker or a `--reference-field` hint."""

    def __init__(self, message: str, candidates: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class StoreError(CurationError):
    """The project store refused an operation (unknown project, schema too new, conflict)."""


class ConflictError(StoreError):
    """Someone else changed the same data since it was read; reload and try again."""


class NotFoundError(StoreError):
    """A project, import or example that was asked for does not exist."""


class LabelError(CurationError, ValueError):
    """A label schema, a label value or a labelling request is invalid (names the allowed ones)."""


class ExportError(CurationError):
    """An export cannot be written: invalid preset, failed validation, empty selection."""


class ValidationFailed(ExportError):
    """Validation of an exported file found errors, or examples block the export; `.report`
    holds the details (its ``errors`` are `curation.issues.Issue`s)."""

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class PiiConfigError(InputError):
    """A PII scan or scrub configuration is invalid (unknown entity, bad pattern, bad operator)."""


class JobError(CurationError):
    """A background job cannot be submitted, cancelled or run as asked (one already running,
    an unknown step, a finished job)."""


class Cancelled(BaseException):  # noqa: N818 - named for what happened, as asyncio's is
    """Raised inside a running job at its next progress report once a cancel was asked for.

    A `BaseException`, like `asyncio.CancelledError`, so a step's own ``except Exception``
    (one failing check recorded, the others run) cannot swallow it; the worker catches it and
    marks the job cancelled. A step's writes are one transaction, so nothing half-done stays.
    """
