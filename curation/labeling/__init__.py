"""Labeling core: label schemas, assignment of work, agreement, final labels, label errors.

Pure functions and frozen dataclasses; the store, the pages and the CLI call them.
"""

from curation.labeling.agreement import (
    AGREEMENT_LEVELS,
    AgreementFigure,
    AgreementReport,
    FieldAgreement,
    agreement_report,
    cohen_kappa,
    krippendorff_alpha,
)
from curation.labeling.assignment import (
    ASSIGNMENT_ORDERS,
    AnnotationProgress,
    annotation_progress,
    annotators_by_example,
    next_examples,
    visible_labels,
)
from curation.labeling.labels import LABEL_ROLES, Label, check_labels, latest_labels
from curation.labeling.resolution import (
    FINAL_STATUSES,
    FinalLabel,
    ResolutionRule,
    resolve_field,
    resolve_final_labels,
)
from curation.labeling.schema import (
    FIELD_KINDS,
    SCHEMA_VERSION,
    TIE,
    VERDICTS,
    ImportedLabel,
    LabelField,
    LabelSchema,
    LabelValue,
    MultiChoiceField,
    PreferenceField,
    RatingField,
    SingleChoiceField,
    TextField,
    VerdictField,
    field_from_dict,
    field_from_metadata,
)

__all__ = [
    "AGREEMENT_LEVELS",
    "ASSIGNMENT_ORDERS",
    "FIELD_KINDS",
    "FINAL_STATUSES",
    "LABEL_ROLES",
    "SCHEMA_VERSION",
    "TIE",
    "VERDICTS",
    "AgreementFigure",
    "AgreementReport",
    "AnnotationProgress",
    "FieldAgreement",
    "FinalLabel",
    "ImportedLabel",
    "Label",
    "LabelField",
    "LabelSchema",
    "LabelValue",
    "MultiChoiceField",
    "PreferenceField",
    "RatingField",
    "ResolutionRule",
    "SingleChoiceField",
    "TextField",
    "VerdictField",
    "agreement_report",
    "annotation_progress",
    "annotators_by_example",
    "check_labels",
    "cohen_kappa",
    "field_from_dict",
    "field_from_metadata",
    "krippendorff_alpha",
    "latest_labels",
    "next_examples",
    "resolve_field",
    "resolve_final_labels",
    "visible_labels",
]
