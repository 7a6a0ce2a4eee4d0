"""Curate instruction-tuning data for LLM fine-tuning.

The core behind the Streamlit app and the `curation` command; it never imports streamlit.
"""

__version__ = "0.1.0"
