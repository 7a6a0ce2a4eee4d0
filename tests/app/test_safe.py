"""`ui.safe.esc` and `md` against a CommonMark parser (markdown-it-py) as the oracle.

Streamlit's own extras (autolinks, shortcodes, arrows) are checked in Chromium by
tests/e2e/test_markdown_safety.py; here: any text, escaped, parses back to exactly itself.
"""

from __future__ import annotations

import html
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.app.markup import shown
from ui.safe import esc, md

PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
JOINER = "\u2060"
# Text rich in markdown syntax: every ASCII punctuation mark, digits, spaces, line breaks,
# and the letters and words that make shortcodes, autolinks and arrows.
MARKUP_TEXT = st.lists(
    st.sampled_from(
        [*string.punctuation, *"ab1 \n\t\r", "www", "http", "material", "smile", "->", "<-"]
    ),
    max_size=40,
).map("".join)


def rendered_text(markdown: str) -> str:
    """The text markdown-it renders for `markdown`, or a marker when it made any element."""
    out = PARSER.render(markdown).strip()
    if not out:
        return ""
    match = re.fullmatch(r"<p>(.*)</p>", out, flags=re.S)
    assert match, f"markdown made more than a paragraph: {out!r}"
    inner = match[1]
    assert "<" not in inner, f"markdown made an element: {out!r}"
    return html.unescape(inner)


def visible(text: str) -> str:
    """Text as a browser shows it: runs of whitespace are one space, joiners are invisible."""
    return re.sub(r"\s+", " ", text.replace(JOINER, "")).strip()


@settings(max_examples=400, deadline=None)
@given(MARKUP_TEXT)
def test_escaped_text_parses_back_to_itself(value: str) -> None:
    assert visible(rendered_text(esc(value))) == visible(value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_unicode_text_parses_back_to_itself(value: str) -> None:
    # CommonMark reads NUL as U+FFFD, as does esc for a lone surrogate
    expected = re.sub("[\x00\ud800-\udfff]", "\ufffd", value)
    assert visible(rendered_text(esc(value))) == visible(expected)


def test_known_attacks_stay_text() -> None:
    for attack, text in [
        ("![x](http://203.0.113.7/p.png)", "![x](http://203.0.113.7/p.png)"),
        ("[a](javascript:alert(1))", "[a](javascript:alert(1))"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
        ("`code` and ``x``", "`code` and ``x``"),
        ("# not a heading", "# not a heading"),
        ("1. not a list", "1. not a list"),
        ("    not code \\*", "not code \\*"),  # stays a paragraph, not a code block
        ("a\n# b\n![c](d)", "a # b ![c](d)"),
    ]:
        assert visible(rendered_text(esc(attack))) == text


def test_word_joiners_only_where_streamlit_would_rewrite() -> None:
    # ordinary names and ids carry no invisible character, so they copy exactly
    for plain in ["fd029da7dd3d-000000", "Note: see below", "my_project v2.1", "a - b", "x->y"]:
        assert JOINER not in esc(plain)
    # each pattern Streamlit expands after escaping is broken inside
    for value, pattern in [
        ("https://x.example", "https:" + JOINER),
        ("see www.x.example", "www" + JOINER),
        ("ada@x.example", "@" + JOINER),
        (":smile:", ":" + JOINER),
        (":material/bolt:", ":" + JOINER),
        ("a -> b", "-" + JOINER),
        ("<->", "<" + JOINER),
        ("ns:42", ":" + JOINER),  # at the end of a value the template might close a shortcode
    ]:
        assert pattern in esc(value).replace("\\", ""), value


def test_none_surrogates_and_one_line() -> None:
    assert esc(None) == ""
    assert esc("\ud800x") == "\ufffdx"
    assert "\n" not in esc("a\nb\r\nc\u2028d")
    assert esc(3) == "3"


def test_md_escapes_fields_but_not_the_template() -> None:
    out = md("**{n:,}** examples in {project} · by {}", "*ada*", n=12345, project="[p](x)")
    assert out.startswith("**12\\,345**")
    assert shown(out) == "**12,345** examples in [p](x) · by *ada*"
    assert rendered_text(out.replace("**", "")) == "12,345 examples in [p](x) · by *ada*"
    assert PARSER.render(out).count("<strong>") == 1
