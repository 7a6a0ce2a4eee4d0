"""The job steps that ship with the app: one registration line each."""

from __future__ import annotations

from curation.bias.job import audit_params, run_audit_job
from curation.dedup.job import dedup_job_params, run_dedup_job
from curation.export.job import export_params, run_export_job
from curation.formats.job import import_params, run_import_job
from curation.jobs.registry import JobStep, registry
from curation.labeling.job import label_issues_params, run_label_issues_job
from curation.pii.job import pii_scan_params, run_pii_scan_job
from curation.quality.job import quality_params, run_quality_job
from curation.steps.job import STEPS_JOB, run_steps_job, steps_job_params

registry.register(JobStep("import", run_import_job, import_params, "Import"), replace=True)
registry.register(JobStep("dedup", run_dedup_job, dedup_job_params, "Deduplicate"), replace=True)
registry.register(
    JobStep("quality", run_quality_job, quality_params, "Quality checks"), replace=True
)
registry.register(JobStep("pii_scan", run_pii_scan_job, pii_scan_params, "PII scan"), replace=True)
registry.register(JobStep("bias_audit", run_audit_job, audit_params, "Bias audit"), replace=True)
registry.register(
    JobStep("label_issues", run_label_issues_job, label_issues_params, "Label issues"), replace=True
)
registry.register(JobStep("export", run_export_job, export_params, "Export"), replace=True)
registry.register(
    JobStep(STEPS_JOB, run_steps_job, steps_job_params, "Curation steps"), replace=True
)
