"""The one escaping helper: text from data or users (names, ids, file names) on its way to markdown.

Streamlit renders titles, captions, alerts, toasts and widget labels as markdown with its own
directives (`:red[...]`, `:material/icon:`), LaTeX and links; `esc` makes such text show literally.
"""

from __future__ import annotations

import re
import string
from typing import Any

# CommonMark lets a backslash escape every ASCII punctuation character, so escaping all of them
# neutralises emphasis, code spans, links, images, tables, headings, HTML, LaTeX and directives.
_ESCAPES = {ord(ch): "\\" + ch for ch in string.punctuation}
# Line breaks would start new blocks (headings, lists, quotes): the text stays on one line.
_ESCAPES.update({ord(ch): " " for ch in "\r\n\t\v\f\x85\u2028\u2029"})

# Streamlit rewrites some text *after* escapes are read, in the parsed text itself (seen in
# Chromium with streamlit 1.67): GFM literal autolinks (`www.`, `https://`, e-mail addresses),
# shortcodes (`:smile:`, `:material_x:`, `:streamlit:`, which becomes an image) and typographic
# symbols (a lone `->` becomes an arrow). An invisible word joiner (U+2060) placed where it
# breaks each pattern keeps the text as it was; it is only added where a pattern could match
# (the end of the value counts, as the template may go on), so most names and ids stay
# byte-for-byte copyable.
_JOINER = "\u2060"
_BREAK_AFTER = re.compile(
    r":(?=//|[^\s:]*(?::|$))"  # https://...; :shortcode: (or its start at the value's end)
    r"|(?i:www)(?=\.|$)"  # www.example.com
    r"|@(?=[-\w])"  # name@example.com
)
# JavaScript's \s, which Streamlit's typographic rule uses around the symbols.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SYMBOLS = re.compile(rf"(?:(?<=[{_JS_SPACE}])|^)(?:<->|->|<-|--|>=|<=|~=)(?=[{_JS_SPACE}]|$)")
_SURROGATES = re.compile("[\ud800-\udfff]")


def esc(value: object) -> str:
    """`value` as markdown that renders as exactly its text, on one line.

    Every ASCII punctuation character is backslash-escaped, line breaks become spaces, and a
    word joiner (U+2060, invisible) breaks the few patterns Streamlit expands after escaping
    (autolinks, shortcodes, arrows). The result is meant for plain markdown text: a title, a
    caption, an alert, a toast, a widget label or help text, or inside ``**bold**``. It is not
    for the inside of a code span (backticks), where markdown reads no escapes.

    Parameters
    ----------
    value:
        Anything; None becomes ``""``. Lone surrogates (which browsers cannot encode) become
        U+FFFD.

    Returns
    -------
    str
        Markdown source.
    """
    if value is None:
        return ""
    text = _SURROGATES.sub("\ufffd", str(value))
    text = _SYMBOLS.sub(lambda m: m[0][0] + _JOINER + m[0][1:], text)
    text = _BREAK_AFTER.sub(lambda m: m[0] + _JOINER, text).translate(_ESCAPES)
    # Four leading spaces at the start of a markdown string make a code block, which reads no
    # escapes; a character reference for the first space keeps it a paragraph.
    return "&#32;" + text[1:] if text.startswith(" ") else text


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return esc(super().format_field(value, format_spec))


_FORMATTER = _EscapingFormatter()


def md(template: str, /, *args: Any, **kwargs: Any) -> str:
    """Markdown from a trusted `template` with every ``{field}`` passed through `esc`.

    The template is the developer's markdown (``**bold**``, ``·``); the fields are data. Format
    specs apply before escaping: ``md("**{n:,}** examples in {project}", n=n, project=p)``.
    Keep fields out of code spans (backticks read no escapes) and put a space between a colon
    of the template and a field that follows it.

    Parameters
    ----------
    template:
        A literal ``str.format`` template written in the code, never text from data or users.
    *args, **kwargs:
        The values for its fields.

    Returns
    -------
    str
        Markdown source.
    """
    return _FORMATTER.format(template, *args, **kwargs)
