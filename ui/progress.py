"""Progress on the page: the one way a `curation.progress.ProgressUpdate` becomes bar text, and a
`st.progress` bar turned into the `ProgressFn` the core reports to."""

from __future__ import annotations

from typing import Any

from curation.progress import ProgressFn, ProgressUpdate
from ui.safe import md


def describe(update: ProgressUpdate) -> str:
    """``stage: done of total`` (or ``stage…`` while the total is unknown), escaped for the bar."""
    if update.total:
        return md("{}: {:,} of {:,}", update.stage, update.done, update.total)
    return md("{}…", update.stage or "starting")


def bar_progress(bar: Any) -> ProgressFn:
    """A `ProgressFn` that moves `bar` (what ``st.progress(...)`` returned) and writes its text.

    Pass it wherever the core takes ``progress=``; call ``bar.empty()`` when the work is done.
    """

    def update(update_: ProgressUpdate) -> None:
        bar.progress(update_.fraction or 0.0, text=describe(update_))

    return update
