"""What a reader sees for markdown the pages build with `ui.safe.esc`: for AppTest assertions.

AppTest exposes the markdown source; this undoes backslash escapes and drops word joiners.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """The text of `markdown` as rendered, for sources whose only markup is escapes and **."""
    text = markdown.replace("&#32;", " ", 1) if markdown.startswith("&#32;") else markdown
    return _ESCAPED.sub(r"\1", text).replace("\u2060", "")
