"""FAQ harvesting: embed questions (EN + JA in one space), group them by need, keep ids stable."""

from nlp_models.faq.clustering import (
    DEFAULT_THRESHOLD,
    Grouping,
    assign,
    centroids_of,
    group,
)
from nlp_models.faq.embedding import embed, model_version
from nlp_models.faq.matching import match_clusters
from nlp_models.faq.summary import key_phrases, language_of, representatives

__all__ = [
    "DEFAULT_THRESHOLD",
    "Grouping",
    "assign",
    "centroids_of",
    "embed",
    "group",
    "key_phrases",
    "language_of",
    "match_clusters",
    "model_version",
    "representatives",
]
