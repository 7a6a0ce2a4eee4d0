"""Deduplication core: exact, near (MinHash LSH) and semantic duplicates, keep policies.

Pure functions over lists of texts or conversations; no database and no UI. Start at
`find_duplicate_clusters` (plain texts) or `cluster_conversations` (prompt and answer apart).
"""

from curation.dedup.api import (
    ANSWER_PARTS,
    METHODS,
    PROMPT_PARTS,
    cluster_conversations,
    cluster_duplicates,
    find_duplicate_clusters,
    role_texts_for,
    texts_for,
)
from curation.dedup.contamination import (
    CONTAMINATION_METHODS,
    ContaminationMatch,
    find_contamination,
    find_example_contamination,
)
from curation.dedup.keep import KEEP_POLICIES, MemberInfo, choose_keeper
from curation.dedup.near import DEFAULT_NEAR_THRESHOLD, NearDedupConfig
from curation.dedup.normalise import normalise_for_dedup
from curation.dedup.results import Cluster, ContaminationHit, DedupResult
from curation.dedup.semantic import (
    DEFAULT_SEMANTIC_THRESHOLD,
    DEFAULT_TFIDF_THRESHOLD,
    SEMANTIC_BACKENDS,
    SemanticDedupConfig,
)
from curation.progress import ProgressFn

__all__ = [
    "ANSWER_PARTS",
    "CONTAMINATION_METHODS",
    "DEFAULT_NEAR_THRESHOLD",
    "DEFAULT_SEMANTIC_THRESHOLD",
    "DEFAULT_TFIDF_THRESHOLD",
    "KEEP_POLICIES",
    "METHODS",
    "PROMPT_PARTS",
    "SEMANTIC_BACKENDS",
    "Cluster",
    "ContaminationHit",
    "ContaminationMatch",
    "DedupResult",
    "MemberInfo",
    "NearDedupConfig",
    "ProgressFn",
    "SemanticDedupConfig",
    "choose_keeper",
    "cluster_conversations",
    "cluster_duplicates",
    "find_contamination",
    "find_example_contamination",
    "find_duplicate_clusters",
    "normalise_for_dedup",
    "role_texts_for",
    "texts_for",
]
