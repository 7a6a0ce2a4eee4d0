"""Widgets shared by pages: a chat viewer that renders untrusted text inert, and a diff view.

Example text is always shown with `st.text`/`st.code`, never as markdown or HTML; names and
roles in captions go through `ui.safe.esc`.
"""

from __future__ import annotations

import difflib
import html
import json

import streamlit as st

from curation.records import Example
from ui.safe import esc, md

_AVATARS = {"system": ":material/settings:", "tool": ":material/build:"}


def show_example(example: Example, *, key: str = "") -> None:
    """Render an example's turns as chat bubbles with plain, inert text."""
    if example.tools:
        with st.expander("Tools offered", expanded=False):
            st.code(_pretty_json(example.tools), language="json")
    for message in example.messages:
        with st.chat_message(message.role, avatar=_AVATARS.get(message.role)):
            st.caption(
                md("{} · {}", message.role, message.name) if message.name else esc(message.role)
            )
            if message.content:
                st.text(message.content)
            if message.tool_calls:
                st.code(_pretty_json(message.tool_calls), language="json")
    if example.metadata:
        st.caption("Metadata")
        st.code(
            json.dumps(example.metadata, ensure_ascii=False, indent=1, default=str), language="json"
        )


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=1)
    except (TypeError, ValueError):
        return text


def diff_html(left: str, right: str) -> str:
    """Two texts side by side as escaped HTML with changed words highlighted."""
    a, b = left.split(" "), right.split(" ")
    out_a: list[str] = []
    out_b: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        seg_a = html.escape(" ".join(a[i1:i2]))
        seg_b = html.escape(" ".join(b[j1:j2]))
        if op == "equal":
            out_a.append(seg_a)
            out_b.append(seg_b)
            continue
        if seg_a:
            out_a.append(f'<span style="background:#ffd6d6">{seg_a}</span>')
        if seg_b:
            out_b.append(f'<span style="background:#d6ffd9">{seg_b}</span>')
    style = (
        "white-space:pre-wrap;font-family:monospace;font-size:0.85em;vertical-align:top;padding:4px"
    )
    return (
        '<table style="width:100%;table-layout:fixed"><tr>'
        f'<td style="{style}">{" ".join(out_a)}</td>'
        f'<td style="{style}">{" ".join(out_b)}</td></tr></table>'
    )


def show_diff(left: str, right: str) -> None:
    """Side-by-side diff; every character of the texts is HTML-escaped first."""
    st.html(diff_html(left, right))
