"""The Label page's parts: its session keys, guidelines rendered as safe markdown, the schema's
widgets (buttons with keyboard shortcuts for the verdict and the categories), and label values
in people's words.

Guidelines are the owner's markdown, so they are rebuilt block by block: headings, lists,
quotes, bold and italic stay; every character of text goes through `ui.safe.esc`; links and
images become their text; raw HTML shows as text; code blocks go to `st.code`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from curation.labeling import TIE, LabelField, LabelSchema, LabelValue
from ui.safe import esc

# ---- session keys (ids and small values only), with their defaults ----------------------------

VIEW = "label_view"  # which part of the page: annotate, review, label errors, progress, schema
CURRENT = "label_current"  # example id open in the annotation panel
HISTORY = "label_history"  # example ids this session opened, oldest first (for Previous)
POSITION = "label_position"  # index of CURRENT in HISTORY
LOADED = "label_loaded"  # (example id, my version) whose values the widgets hold
SEEN = "label_seen"  # the version token of my labels on CURRENT as shown (compare-and-set)
NOTICE = "label_notice"  # (level, text) a callback leaves for the panel to show
LAST_EVENT = "label_last_event"  # id of this session's newest labels event (its undo button)
QUEUE = "label_queue"  # the annotation queue's mode (`QUEUES`)
BULK_CONFIRM = "label_bulk_pending"  # the bulk action awaiting a yes
REVIEW_PICK = "label_review_pick"  # the example open in the review view
ISSUE_JOB = "label_issue_job"  # the label-issue job this session started and has not seen end

DEFAULTS: dict[str, Any] = {
    VIEW: "Annotate",
    CURRENT: None,
    HISTORY: [],
    POSITION: -1,
    LOADED: None,
    SEEN: None,
    NOTICE: None,
    LAST_EVENT: None,
    BULK_CONFIRM: None,
    REVIEW_PICK: None,
    ISSUE_JOB: None,
}
HISTORY_MAX = 200

QUEUES: dict[str, tuple[str, str | None]] = {
    # label: (how the next example is found, label state filter)
    "To do": ("claim", None),
    "Needs another annotator": ("claim", "started"),
    "Unlabelled": ("claim", "unlabelled"),
    "Mine": ("list", "mine"),
    "Suspected label errors": ("list", "label_issues"),
    "Disagreements": ("disagreements", None),
    "All": ("list", None),
}
"""``claim``: the assignment rule hands out the next example (each gets the schema's number of
annotators); ``list``: every example of the filter in import order."""

VERDICT_KEYS = {"accept": "A", "needs_fix": "F", "reject": "X"}  # R is reserved by Streamlit
VERDICT_TITLES = {"accept": "Accept", "needs_fix": "Needs fix", "reject": "Reject"}
NEXT_KEY, SKIP_KEY, PREVIOUS_KEY = "N", "S", "P"
MAX_CHOICE_BUTTONS = 9  # a single-choice field with more options gets a select box instead


def init_label_state() -> None:
    """Fill every missing key with its default (safe on every rerun)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = list(value) if isinstance(value, list) else value
    if QUEUE not in st.session_state:
        st.session_state[QUEUE] = "To do"


def widget_key(field: str) -> str:
    """The session key holding the panel's value of one field."""
    return f"label_value_{field}"


def show_value(value: LabelValue | None, *, field: LabelField | None = None) -> str:
    """A label value in people's words: tags joined, ``needs_fix`` as "needs fix", a candidate
    index as "candidate 2", no value as "-"."""
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(no tag)"
    if field is not None and field.kind == "preference":
        return "tie" if value == TIE else f"candidate {int(value) + 1}"
    if field is not None and field.kind == "verdict":
        return VERDICT_TITLES.get(str(value), str(value)).lower()
    return str(value)


# ---- guidelines as safe markdown ---------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_INLINE = re.compile(
    r"(?P<image>!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]*)\))"
    r"|(?P<link>\[(?P<text>[^\]]*)\]\((?P<href>[^)]*)\))"
    r"|\*\*(?P<strong>[^*]+?)\*\*"
    r"|__(?P<strong2>[^_]+?)__"
    r"|`(?P<code>[^`]+)`"
    r"|\*(?P<em>[^*\s][^*]*?)\*"
    r"|(?<![\w])_(?P<em2>[^_\s][^_]*?)_(?![\w])"
)


def inline_markdown(text: str) -> str:
    """One line of guideline text as safe markdown: bold and italic kept, the text inside
    escaped; code, links and images become plain text (a link keeps its address in brackets)."""
    out: list[str] = []
    last = 0

    def plain(segment: str) -> str:
        # esc guards a leading space as &#32; (four would start a code block); only the
        # start of the line needs that
        piece = esc(segment)
        return " " + piece[5:] if out and piece.startswith("&#32;") else piece

    for m in _INLINE.finditer(text):
        out.append(plain(text[last : m.start()]))
        last = m.end()
        if m["image"]:
            out.append(esc(f"[image: {m['alt']}]" if m["alt"] else "[image]"))
        elif m["link"]:
            out.append(esc(f"{m['text']} ({m['href']})" if m["href"] else m["text"]))
        elif m["strong"] or m["strong2"]:
            out.append("**" + esc(m["strong"] or m["strong2"]) + "**")
        elif m["code"]:
            out.append(esc(m["code"]))
        else:
            out.append("_" + esc(m["em"] or m["em2"]) + "_")
    out.append(plain(text[last:]))
    return "".join(out)


def guideline_blocks(text: str) -> list[tuple[str, str]]:
    """The guidelines as ``("markdown", safe markdown)`` and ``("code", literal text)`` blocks.

    Headings, bullet and numbered lists (nesting kept), quotes and rules are rebuilt from
    their markers; everything else is text through `esc`, so no HTML, link, image, formula,
    directive or icon of the source reaches the page.
    """
    blocks: list[tuple[str, str]] = []
    lines: list[str] = []
    code: list[str] | None = None
    fence = ""

    def flush() -> None:
        if lines:
            blocks.append(("markdown", "\n".join(lines)))
            lines.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.replace("\t", "    ")
        if code is not None:
            if line.strip().startswith(fence):
                blocks.append(("code", "\n".join(code)))
                code = None
            else:
                code.append(raw)
            continue
        if m := _FENCE.match(line):
            flush()
            fence, code = m[1][0] * 3, []
            continue
        if not line.strip():
            lines.append("")
        elif m := _HEADING.match(line):
            lines += ["", f"{m[1]} {inline_markdown(m[2])}", ""]
        elif _RULE.match(line):
            lines += ["", "---", ""]
        elif m := _BULLET.match(line):
            lines.append(f"{m[1]}- {inline_markdown(m[2])}")
        elif m := _NUMBERED.match(line):
            lines.append(f"{m[1]}{m[2]}. {inline_markdown(m[3])}")
        elif m := _QUOTE.match(line):
            lines.append(f"> {inline_markdown(m[1])}")
        else:
            lines.append(inline_markdown(line.strip()))
    if code is not None:  # an unclosed fence: the rest is code, as CommonMark reads it
        blocks.append(("code", "\n".join(code)))
    flush()
    return [(kind, body) for kind, body in blocks if body.strip()]


def show_guidelines(text: str) -> None:
    """Render the guidelines (`guideline_blocks`); code blocks are inert `st.code`."""
    for kind, body in guideline_blocks(text):
        if kind == "code":
            st.code(body, language=None)
        else:
            st.markdown(body)


# ---- the schema's widgets ----------------------------------------------------------------------


def _set_value(field: str, value: Any) -> None:
    st.session_state[widget_key(field)] = value


def field_widgets(
    schema: LabelSchema,
    *,
    n_candidates: int,
    on_verdict: Callable[[str, str], None],
    disabled: bool = False,
) -> None:
    """One widget per field, each holding its value in `widget_key(field)`.

    Verdicts are buttons (shortcuts A, F, X) that call ``on_verdict(field, verdict)``; the
    first single-choice field's options are buttons with shortcuts 1-9 that pick the option;
    tags a multiselect, a rating a row of radio buttons, a note a text area, a preference a
    radio of the candidates (and tie).
    """
    first_choice = next((f.name for f in schema.fields if f.kind == "single_choice"), None)
    for f in schema.fields:
        key = widget_key(f.name)
        title = esc(f.display_title) + (" \\*" if f.required else "")
        help_text = esc(f.description) if f.description else None
        if f.kind == "verdict":
            st.caption(title)
            cols = st.columns(3)
            for col, verdict in zip(cols, VERDICT_TITLES, strict=True):
                col.button(
                    VERDICT_TITLES[verdict],
                    key=f"label_verdict_{f.name}_{verdict}",
                    shortcut=VERDICT_KEYS[verdict] if f.name == _first_verdict(schema) else None,
                    type="primary" if st.session_state.get(key) == verdict else "secondary",
                    on_click=on_verdict,
                    args=(f.name, verdict),
                    disabled=disabled,
                    help="Saves the annotation with this verdict and opens the next example.",
                    width="stretch",
                )
        elif f.kind == "single_choice":
            options = list(getattr(f, "options", ()))
            if len(options) > MAX_CHOICE_BUTTONS:
                st.selectbox(title, options, index=None, key=key, help=help_text, disabled=disabled)
                continue
            st.caption(title)
            grid = st.columns(min(len(options), 4))
            for i, option in enumerate(options):
                shortcut = str(i + 1) if f.name == first_choice else None  # shown on the button
                grid[i % len(grid)].button(
                    esc(option),
                    key=f"label_choice_{f.name}_{i}",
                    shortcut=shortcut,
                    type="primary" if st.session_state.get(key) == option else "secondary",
                    on_click=_set_value,
                    args=(f.name, option),
                    disabled=disabled,
                    width="stretch",
                )
        elif f.kind == "multi_choice":
            st.multiselect(
                title, list(getattr(f, "options", ())), key=key, help=help_text, disabled=disabled
            )
        elif f.kind == "rating":
            st.radio(
                title,
                list(getattr(f, "options", ())),
                index=None,
                key=key,
                horizontal=True,
                help=help_text,
                disabled=disabled,
            )
        elif f.kind == "text":
            st.text_area(title, key=key, help=help_text, height=80, disabled=disabled)
        elif f.kind == "preference":
            if n_candidates < 2:
                continue
            choices: list[Any] = list(range(n_candidates))
            if getattr(f, "allow_tie", True):
                choices.append(TIE)
            st.radio(
                title,
                choices,
                index=None,
                key=key,
                horizontal=True,
                format_func=lambda v, field=f: show_value(v, field=field),
                help=help_text,
                disabled=disabled,
            )


def _first_verdict(schema: LabelSchema) -> str | None:
    return next((f.name for f in schema.fields if f.kind == "verdict"), None)


def load_values(schema: LabelSchema, values: Mapping[str, LabelValue]) -> None:
    """Put an annotation's values into the widgets (before they are drawn in this run)."""
    for f in schema.fields:
        value = values.get(f.name)
        if f.kind == "multi_choice":
            st.session_state[widget_key(f.name)] = list(value) if isinstance(value, tuple) else []
        elif f.kind == "text":
            st.session_state[widget_key(f.name)] = value or ""
        else:
            st.session_state[widget_key(f.name)] = value


def read_values(schema: LabelSchema) -> dict[str, Any]:
    """The widgets' values, field -> value; empty ones (no tag chosen included) as None, so
    an untouched widget never records a value the annotator did not give."""
    out: dict[str, Any] = {}
    for f in schema.fields:
        value = st.session_state.get(widget_key(f.name))
        out[f.name] = None if value in (None, "", []) else value
    return out


def value_options(field: LabelField, seen: Sequence[LabelValue | None]) -> list[Any]:
    """What a reviewer may choose for a field: its options, or the values seen (free text)."""
    options = list(getattr(field, "options", ()))
    if field.kind == "preference":
        options = sorted({v for v in seen if v is not None}, key=str)
    return options or list(dict.fromkeys(seen))
