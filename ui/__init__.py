"""Streamlit glue shared by the pages: state keys, cached resources and widgets.

The only place besides `app.py` and `pages/` that imports streamlit.
"""
