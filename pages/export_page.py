"""Export step: choose what goes out, split leak-free, check readiness, write trainer files.

Download as a zip or write to a folder; every export is validated before it is kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from curation.dedup.project import load_run
from curation.errors import CurationError
from curation.export import (
    ExportOptions,
    ReadinessItem,
    composition,
    get_preset,
    preset_names,
)
from curation.export.bundle import inspect_export_target
from curation.export.from_project import (
    curation_stats,
    dedup_groups,
    dry_run_project,
    excluded_words,
    select_examples,
)
from curation.export.job import STEP as EXPORT_STEP
from curation.jobs import Job
from curation.labeling.schema import VERDICTS
from curation.steps import steps as registered_steps
from curation.store.labels import read_schema
from curation.store.pii_findings import pii_status
from ui import state
from ui.exporting import composition_rows, dry_run_view, readiness_rows
from ui.filters import metadata_filter
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.progress import bar_progress
from ui.safe import esc, md

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)

st.title("Export")
EXPORT_JOB = "export_job_id"  # the export job this session started and has not seen finish
st.session_state.setdefault(EXPORT_JOB, None)


def _export_ended(job: Job) -> None:
    """The export this session started has ended: its result is shown under "5 · Write"."""
    if job.state == "done" and job.result:
        st.session_state[state.EXPORT_RESULT] = job.result
        if job.result.get("ok"):
            st.toast(md("Exported {} + {} examples", job.result["train"], job.result["eval"]))
    else:
        finished_message(job, "export", kept="nothing was written")


active, ended = watch_job(project, EXPORT_STEP, EXPORT_JOB)
if ended is not None:
    _export_ended(ended)

# ---- selection ------------------------------------------------------------------------------
st.subheader("1 · What goes out")
all_sources = store.sources(project)
c1, c2 = st.columns(2)
sources = c1.multiselect(
    "Sources (empty = all)",
    all_sources,
    key="export_sources",
    help="Only examples from these files",
)
meta_fields = store.metadata_fields(project)
metadata = metadata_filter(
    meta_fields,
    key="export_meta",
    none="(no filter)",
    labels=("Only where metadata field…", "…equals"),
    columns=(c2, c2),
)
verdicts: list[str] = []
if read_schema(store, project) is not None:  # the project is labelled: final verdicts apply
    verdicts = c1.multiselect(
        "Only final verdicts (empty = any)",
        list(VERDICTS),
        key="export_verdicts",
        help="Keep only examples whose final label verdict is one of these (a reviewer's "
        "decision, else the annotators' agreed value); the others are counted as left out.",
    )
selection = select_examples(
    store, project, sources=sources or None, metadata=metadata, verdicts=verdicts or None
)
st.markdown(
    md(
        "**{:,}** active examples selected · left out: {} "
        "(examples that still need an answer, duplicate, rejected, filtered and removed "
        "examples never go out).",
        len(selection.examples),
        excluded_words(selection.excluded) or "nothing",
    )
)

dedup_run = load_run(store, project)
steps = curation_stats(store, project, dedup_run)
st.dataframe(
    pd.DataFrame(
        [
            {
                "step": step.name,
                "status": "done" if step.name in steps else "not run yet",
                "numbers": ", ".join(
                    f"{k}: {v}" for k, v in steps.get(step.name, {}).items() if k != "notes"
                ),
            }
            for step in registered_steps
        ]
    ),
    hide_index=True,
    key="export_steps",
)

# ---- split ----------------------------------------------------------------------------------
st.subheader("2 · Train / eval split")
s1, s2, s3 = st.columns(3)
by_count = s1.toggle("Eval size as a count", key="export_by_count")
eval_count: int | None
if by_count:
    eval_count = int(
        s1.number_input(
            "Eval examples", 1, max(1, len(selection.examples) - 1), 50, key="export_eval_count"
        )
    )
    eval_fraction = 0.1
else:
    eval_count = None
    eval_fraction = s1.slider("Eval fraction", 0.01, 0.5, 0.1, 0.01, key="export_eval_fraction")
seed = int(s2.number_input("Seed", 0, 2**31 - 1, 0, key="export_seed"))
schema = read_schema(store, project)
label_strata_fields = [
    f"label.{f.name}"
    for f in (schema.fields if schema else ())
    if f.kind in ("single_choice", "verdict", "rating")
]
stratify = s3.selectbox(
    "Stratify by",
    ["(random)", *(f.name for f in meta_fields if f.is_categorical), *label_strata_fields],
    key="export_stratify",
    help="Fields with at most 50 distinct plain values; label.FIELD: the final labels.",
)
holdout = st.multiselect(
    "Hold out whole sources for eval (optional)", all_sources, key="export_holdout"
)
groups = dedup_groups(dedup_run, selection.examples)
st.caption(
    "Group-aware: near-duplicate clusters computed now"
    + (", the latest dedup run's clusters" if groups is not None else "")
    + " and every set of conversations sharing a prompt each land wholly in one split."
)

# ---- preset ---------------------------------------------------------------------------------
st.subheader("3 · Trainer format")
p1, p2 = st.columns(2)
preset = p1.selectbox("Preset", preset_names(), key="export_preset")
p1.caption(get_preset(preset).description)
sft_as_desirable = False
if get_preset(preset).task == "kto":
    sft_as_desirable = p1.checkbox(
        "Write conversations without a label as desirable answers (else they are left out)",
        key="export_sft_as_desirable",
    )
mix = composition(selection.examples, preset, sft_as_desirable=sft_as_desirable)
if mix.has_preference_data or mix.left_out:
    st.markdown(
        md(
            "Selected: **{:,}** preference examples, **{:,}** labelled answers (KTO), **{:,}** "
            "plain conversations. As {} they give **{:,}** rows.",
            mix.kinds.get("preference", 0),
            mix.kinds.get("feedback", 0),
            mix.kinds.get("sft", 0),
            preset,
            mix.rows,
        )
    )
    if mix.as_prompt_and_chosen:
        st.info(
            md(
                "{:,} preference examples go out as their prompt plus the chosen answer; the "
                "rejected answers are not trained on. Choose a preference preset (trl-dpo, "
                "openai-dpo, llama-factory-ranking) to train on the pairs.",
                mix.as_prompt_and_chosen,
            )
        )
    if mix.left_out:
        st.warning(
            md(
                "{:,} example(s) are left out as {}: they are not data this format trains.",
                sum(mix.left_out.values()),
                preset,
            )
        )
        st.dataframe(
            pd.DataFrame(composition_rows(mix.left_out)),
            hide_index=True,
            key="export_composition_left_out",
        )
max_tokens = int(
    p2.number_input(
        "Token limit per example (0 = preset default)", 0, 1_000_000, 0, key="export_max_tokens"
    )
)
tokenizer = p2.text_input(
    "Local tokenizer (tokenizer.json or folder; empty = estimate)", key="export_tokenizer"
)
skip_unrepresentable = st.checkbox(
    "Leave out examples this format cannot carry (e.g. tool calls for alpaca); they are listed",
    key="export_skip_unrepresentable",
)
with st.expander("Dataset card"):
    pretty_name = st.text_input("Name", value=f"{project} instruction data", key="card_name")
    license_id = st.text_input("License (Hub id)", value="other", key="card_license")
    intended_use = st.text_area(
        "Intended use", value="Supervised fine-tuning of language models.", key="card_use"
    )
    description = st.text_area("Description", value="", key="card_description")

stratify_by = None if stratify == "(random)" else stratify
try:
    settings = ExportOptions(
        preset=preset,
        eval_fraction=eval_fraction,
        eval_count=eval_count,
        seed=seed,
        stratify_by=stratify_by,
        holdout_sources=tuple(holdout),
        skip_unrepresentable=skip_unrepresentable,
        max_tokens=max_tokens or None,
        tokenizer=tokenizer.strip() or None,
        sft_as_desirable=sft_as_desirable,
    )
except CurationError as exc:
    st.error(str(exc))
    st.stop()
# What the dry run was made of: a check made with other settings no longer describes the export.
check_key = repr((settings, sorted(sources), sorted(metadata.items()), sorted(verdicts)))

# ---- readiness ------------------------------------------------------------------------------
st.subheader("4 · Readiness")
if st.button("Check readiness", key="export_check"):
    # The dry run is the export itself written to a scratch folder: the counts below are the
    # line counts the Export button writes with the same settings.
    bar = st.progress(0.0, text="Splitting, writing and validating a dry run…")
    try:
        dry = dry_run_project(
            store,
            project,
            settings,
            sources=sources or None,
            metadata=metadata,
            verdicts=verdicts or None,
            progress=bar_progress(bar),
        )
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[state.EXPORT_DRY_RUN] = dry_run_view(dry, check_key)
    finally:
        bar.empty()
shown = st.session_state.get(state.EXPORT_DRY_RUN)
if shown:
    if shown["key"] != check_key:
        st.info("The settings changed since this check: check readiness again.")
    planned = md("**{:,}** train / **{:,}** eval examples", shown["train"], shown["eval"])
    st.markdown(
        "Blocked as it is; without the examples listed below it would write " + planned + "."
        if shown["blocked"]
        else "The export writes " + planned + md(" as {}.", shown["preset"])
    )
    if shown["excluded"]:
        st.markdown(
            md(
                "Left out by design: **{:,}** example(s) this format does not train (ties, "
                "undesirable answers, conversations without the data it needs), by reason:",
                shown["n_excluded"],
            )
        )
        st.dataframe(
            pd.DataFrame(shown["excluded"]), hide_index=True, key="export_dry_run_excluded"
        )
    if shown["left_out"]:
        st.warning(
            md(
                "{:,} example(s) this format cannot carry are left out ({}); the export lists "
                "each as a warning.",
                shown["n_left_out"],
                shown["codes"],
            )
        )
        st.dataframe(
            pd.DataFrame(shown["left_out"]), hide_index=True, key="export_dry_run_left_out"
        )
    if not shown["train"]:
        st.error(
            md(
                "None of the {:,} selected examples can be written as {} ({}): choose another "
                "preset.",
                shown["selected"],
                shown["preset"],
                shown["codes"],
            )
        )
    elif shown["blocked"]:
        st.error(
            md(
                "{:,} example(s) cannot be written as {} ({}), so the export is blocked. Fix "
                "them, choose another preset, or tick 'Leave out…' to write the {:,} / {:,} "
                "above without them.",
                shown["n_blocked"],
                shown["preset"],
                shown["codes"],
                shown["train"],
                shown["eval"],
            )
        )
    if shown["file_errors"]:
        st.error(
            md(
                "The {} files would fail validation; the export is blocked until fixed.",
                shown["preset"],
            )
        )
    if shown["errors"]:
        st.dataframe(pd.DataFrame(shown["errors"]), hide_index=True, key="export_dry_run_table")
    st.dataframe(pd.DataFrame(shown["readiness"]), hide_index=True, key="export_readiness_table")

# ---- write ----------------------------------------------------------------------------------
st.subheader("5 · Write")
folder = st.text_input("Write to folder (empty = download only)", key="export_folder").strip()
# A folder holding anything but an earlier export is never written to; replacing an earlier
# export needs a confirmation that appears only then.
target = inspect_export_target(Path(folder).expanduser()) if folder else None
replace = False
if target is not None and target.refused:
    st.warning(esc(target.problem(overwrite=False)))
elif target is not None and target.needs_confirmation:
    replace = st.checkbox(
        md("Replace the earlier export in {} (its files are deleted)", folder),
        key="export_replace",
    )
pii_left = int(pii_status(store, project).get("residual") or 0)
allow_pii = False
if pii_left:
    st.warning(
        md(
            "{:,} PII finding(s) remain (accepted but not scrubbed, or unreviewed with a high "
            "score): scrub or reject them on the PII scrub page first.",
            pii_left,
        )
    )
    allow_pii = st.checkbox(
        "Export anyway (the dataset card reports the findings left)", key="export_allow_pii"
    )
blocked = target is not None and (target.refused or (target.needs_confirmation and not replace))
blocked = blocked or (pii_left > 0 and not allow_pii)
if st.button(
    "Export",
    type="primary",
    key="export_run",
    disabled=blocked or active is not None,
    help="Runs in the background: you can switch page or close the tab meanwhile.",
):
    params = {
        "settings": settings.to_dict(),
        "sources": sources or None,
        "metadata": metadata,
        "verdicts": verdicts or None,
        "card": {
            "pretty_name": pretty_name,
            "license": license_id,
            "intended_use": intended_use,
            "description": description,
            "label_field": stratify_by,
        },
        "out_dir": str(target.path) if target is not None else None,
        "overwrite": replace,
        "allow_pii": allow_pii,
    }
    try:
        job = submit_job(project, EXPORT_STEP, params, user)
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[EXPORT_JOB] = job.id
        st.session_state[state.EXPORT_RESULT] = None
        st.rerun()
if active is not None:
    job_progress(active.id, key="export_job")

done = st.session_state.get(state.EXPORT_RESULT)
if done and not done.get("ok", True):
    st.error(md("Validation failed, nothing was written: {}", done["message"]))
    if done["errors"]:
        st.dataframe(pd.DataFrame(done["errors"]), hide_index=True, key="export_errors")
elif done:
    counts = (done["train"], done["eval"], done["preset"])
    if done["out_dir"]:
        st.success(
            md(
                "Wrote {:,} train and {:,} eval examples ({}) to {}: {}",
                *counts,
                done["out_dir"],
                ", ".join(done["files"]),
            )
        )
    else:
        st.success(
            md(
                "{:,} train and {:,} eval examples ({}) are ready to download as {}: {}",
                *counts,
                done["zip_name"],
                ", ".join(done["files"]),
            )
        )
    leak = done["leakage"]
    st.markdown(
        md(
            "Leakage check: highest train/eval similarity **{:.3f}**, {} pair(s) at or above {}.",
            leak["max_similarity"],
            leak["pairs_over_threshold"],
            leak["threshold"],
        )
    )
    if leak["pairs"]:
        st.dataframe(
            pd.DataFrame(leak["pairs"], columns=["train id", "eval id", "similarity"]),
            hide_index=True,
            key="export_leak_pairs",
        )
    tok = done["tokens"]
    st.caption(
        "Tokens per example: "
        + ", ".join(f"{k} {v}" for k, v in tok.items())
        + (" (estimated: no local tokenizer given)" if done["estimates"] else "")
    )
    st.dataframe(
        pd.DataFrame(readiness_rows([ReadinessItem(**i) for i in done["readiness"]])),
        hide_index=True,
        key="export_final_readiness",
    )
    if done.get("left_out"):
        st.caption("Left out by design (not data this format trains):")
        st.dataframe(
            pd.DataFrame(composition_rows(done["left_out"])),
            hide_index=True,
            key="export_final_left_out",
        )
    if done["warnings"]:
        with st.expander(md("{} validation warning(s)", len(done["warnings"]))):
            st.dataframe(pd.DataFrame(done["warnings"]), hide_index=True, key="export_warnings")
    zip_path = Path(done["zip_path"])
    if zip_path.is_file():
        st.download_button(
            "Download zip",
            data=zip_path.read_bytes(),
            file_name=done["zip_name"],
            mime="application/zip",
            key="export_download",
        )
    else:
        st.caption("The zip of this export is no longer kept: export again to download it.")
