"""The one escaping helper: text from data or users (names, ids, file names) on its way to markdown.

Streamlit renders titles, captions, alerts, toasts and widget labels as markdown with its own
directives (`:red[...]`, `:material/icon:`), LaTeX and links; `esc` makes such text show literally.
"""

from __future__ import annotations

import string

# CommonMark lets a backslash escape every ASCII punctuation character, so escaping all of them
# neutralises emphasis, code spans, links, images, tables, headings, LaTeX and directives at once.
_ESCAPES = {ord(ch): "\\" + ch for ch in string.punctuation}
# Colons also start emoji and icon shortcodes, which Streamlit expands inside plain text after
# escapes are processed; a zero-width joiner after each colon keeps `:smile:` from matching.
_ESCAPES[ord(":")] = "\\:\u2060"
# Line breaks would start new blocks (headings, lists, quotes): the text stays on one line.
_ESCAPES.update({ord(ch): " " for ch in "\r\n\t\v\f\x85\u2028\u2029"})


def esc(value: object) -> str:
    """`value` as markdown that renders as exactly its text, on one line.

    Parameters
    ----------
    value:
        Anything; None becomes ``""``. Lone surrogates (which browsers cannot encode) become
        U+FFFD.
    """
    if value is None:
        return ""
    text = str(value)
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text.translate(_ESCAPES)
