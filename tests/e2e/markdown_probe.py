"""A page for the browser tests: every hostile markup case through `esc` in every element that reads
markdown (text, alerts, toasts, labels, options, help), plus a deliberate crash.

Started with `streamlit run tests/e2e/markdown_probe.py`; `?crash=1` raises, `?toasts=1` toasts.
"""

from __future__ import annotations

import streamlit as st

from tests.e2e.hostile import MARKUP_CASES
from ui.safe import esc, md

st.set_page_config(page_title="markdown probe", layout="wide")

if st.query_params.get("crash"):
    raise RuntimeError("probe-secret-detail: only the server log may show this")

if st.query_params.get("toasts"):
    for i, case in enumerate(MARKUP_CASES):
        st.toast(md("K{}-toast: {}", i, case))
    st.text("toasts sent")
    st.stop()

for i, case in enumerate(MARKUP_CASES):
    tag = f"K{i}"
    value = esc(case)
    with st.container(key=f"{tag}-markdown"):
        st.markdown(md("{}-markdown: {}", tag, case))
    with st.container(key=f"{tag}-alone"):
        st.markdown(value)
    with st.container(key=f"{tag}-bold"):
        st.markdown(f"**{tag}-bold: " + value + "**")
    with st.container(key=f"{tag}-caption"):
        st.caption(md("{}-caption: {}", tag, case))
    with st.container(key=f"{tag}-subheader"):
        st.subheader(md("{}-subheader: {}", tag, case), anchor=False)
    with st.container(key=f"{tag}-error"):
        st.error(md("{}-error: {}", tag, case))
    with st.container(key=f"{tag}-success"):
        st.success(md("{}-success: {}", tag, case))
    with st.container(key=f"{tag}-button"):
        st.button(md("{}-button: {}", tag, case), key=f"{tag}-b", help=value)
    with st.container(key=f"{tag}-expander"), st.expander(md("{}-expander: {}", tag, case)):
        st.text("inside")
    with st.container(key=f"{tag}-checkbox"):
        st.checkbox(md("{}-checkbox: {}", tag, case), key=f"{tag}-c")
    with st.container(key=f"{tag}-radio"):
        st.radio(f"{tag}-radio", [md("{}-option: {}", tag, case)], key=f"{tag}-r")
    with st.container(key=f"{tag}-input"):
        st.text_input(md("{}-input: {}", tag, case), key=f"{tag}-i")
    with st.container(key=f"{tag}-metric"):
        st.metric(md("{}-metric: {}", tag, case), value)
    with st.container(key=f"{tag}-tab"):
        st.tabs([md("{}-tab: {}", tag, case)])
    with st.container(key=f"{tag}-download"):
        st.download_button(
            md("{}-download: {}", tag, case), b"x", file_name="x.txt", key=f"{tag}-d"
        )
