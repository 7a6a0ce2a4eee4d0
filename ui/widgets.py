"""Widgets shared by pages: a chat viewer (preference candidates side by side) that renders
untrusted text inert, and a diff view.

Example text is always shown with `st.text`/`st.code`, never as markdown or HTML; names and
roles in captions go through `ui.safe.esc`.
"""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Callable

import streamlit as st

from curation.preference import candidate_label
from curation.records import Example, Message
from ui.safe import esc, md

_AVATARS = {"system": ":material/settings:", "tool": ":material/build:"}


MAX_SIDE_BY_SIDE = 4  # candidates shown in columns; more than this are stacked
_HEADINGS = {
    "chosen": ":green[**{}**] · candidate {}",
    "rejected": ":red[**{}**] · candidate {}",
}


def show_example(
    example: Example,
    *,
    key: str = "",
    candidate_footer: Callable[[int], None] | None = None,
) -> None:
    """Render an example's turns as chat bubbles with plain, inert text.

    A preference example's prompt shows once, then its candidate answers (`show_candidates`);
    `candidate_footer(index)` is called inside each candidate's box, for the page's buttons.
    """
    if example.tools:
        with st.expander("Tools offered", expanded=False):
            st.code(_pretty_json(example.tools), language="json")
    for message in example.messages:
        with st.chat_message(message.role, avatar=_AVATARS.get(message.role)):
            _show_turn(message)
    if example.candidates:
        show_candidates(example, footer=candidate_footer)
    if example.metadata:
        st.caption("Metadata")
        st.code(
            json.dumps(example.metadata, ensure_ascii=False, indent=1, default=str), language="json"
        )


def show_candidates(example: Example, *, footer: Callable[[int], None] | None = None) -> None:
    """The candidate answers side by side (stacked beyond `MAX_SIDE_BY_SIDE`), each headed by
    what it is to a trainer (chosen, rejected, tie, rank n), its score and its author."""
    n = len(example.candidates)
    boxes = (
        st.columns(n, border=True)
        if n <= MAX_SIDE_BY_SIDE
        else [st.container(border=True) for _ in range(n)]
    )
    for i, (box, candidate) in enumerate(zip(boxes, example.candidates, strict=True)):
        with box:
            label = candidate_label(example, i)
            st.markdown(md(_HEADINGS.get(label, "**{}** · candidate {}"), label, i + 1))
            details = [md("rank {}", candidate.rank)] if candidate.rank is not None else []
            if candidate.score is not None:
                details.append(md("score {:g}", candidate.score))
            if candidate.name:
                details.append(md("by {}", candidate.name))
            if details:
                st.caption(" · ".join(details))
            for message in candidate.messages:
                _show_turn(message)
            if footer is not None:
                footer(i)


def _show_turn(message: Message) -> None:
    st.caption(md("{} · {}", message.role, message.name) if message.name else esc(message.role))
    if message.content:
        st.text(message.content)
    if message.tool_calls:
        st.code(_pretty_json(message.tool_calls), language="json")


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
