"""The built-in per-example and whole-dataset quality flags, one module per kind of problem.

Each module holds its check classes and their documented thresholds; `curation.quality.builtin` registers them.
"""
