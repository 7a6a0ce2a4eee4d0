"""The steps that ship with the app, in pipeline order: one registration line each."""

from __future__ import annotations

from curation.steps.audit import AuditStep
from curation.steps.dedup import DedupStep
from curation.steps.imported import ImportStep
from curation.steps.labels import LabelsStep
from curation.steps.pii import PiiStep
from curation.steps.quality import QualityStep
from curation.steps.registry import steps

steps.register(ImportStep(), replace=True)
steps.register(DedupStep(), replace=True)
steps.register(QualityStep(), replace=True)
steps.register(LabelsStep(), replace=True)
steps.register(AuditStep(), replace=True)
steps.register(PiiStep(), replace=True)
