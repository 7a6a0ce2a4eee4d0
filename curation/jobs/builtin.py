"""The job steps that ship with the app: one registration line each."""

from __future__ import annotations

from curation.dedup.job import dedup_job_params, run_dedup_job
from curation.jobs.registry import JobStep, registry

registry.register(JobStep("dedup", run_dedup_job, dedup_job_params, "Deduplicate"), replace=True)
