"""Choose an analysis backend by name; every backend returns `TextAnalysis` per text, in order."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

from kikimimi.errors import ConfigError
from nlp_models.types import TextAnalysis


class Analyzer(Protocol):
    name: str
    versions: dict[str, str]

    def analyse(self, texts: Sequence[str], addresses_brand: Sequence[bool] | None = None) -> list[TextAnalysis]:
        """One consistent analysis per text (nlp_models.consistency); `addresses_brand`: a flag per text."""
        ...


BACKENDS = ("default", "baseline", "transformers")


@cache
def _build(backend: str, options: tuple[tuple[str, Any], ...]) -> Analyzer:
    opts = dict(options)
    if backend == "default":
        from nlp_models.default import DefaultAnalyzer

        opts.pop("model", None)  # the settings pass the transformers model to every backend; default has its own
        return DefaultAnalyzer(**opts)
    if backend == "baseline":
        from nlp_models.baseline import BaselineAnalyzer

        return BaselineAnalyzer()
    if backend == "transformers":
        from nlp_models.hf import TransformersAnalyzer

        if not opts.get("model"):
            raise ConfigError(
                "setting 'transformers_model': the transformers backend needs model= (hub id or local path)"
            )
        return TransformersAnalyzer(**opts)
    raise ConfigError(f"setting 'analysis_backend': unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")


def get_analyzer(backend: str = "default", **options: Any) -> Analyzer:
    """The analyzer for `backend`, built once per (backend, options)."""
    return _build(backend, tuple(sorted(options.items())))
