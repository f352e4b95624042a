"""Build the collector for a configured source name."""

from __future__ import annotations

from kikimimi.errors import ConfigError
from kikimimi.settings import Settings
from listener.base import BrandAccounts, Collector
from listener.sample import SampleCollector


def brand_accounts(settings: Settings) -> BrandAccounts:
    return BrandAccounts.from_mapping({p: sorted(h) for p, h in settings.brand_handles.items()})


def build_collector(source: str, settings: Settings) -> Collector:
    """The collector for `source`; raises MissingCredential (a ConfigError) naming what is missing."""
    if source == "sample":
        return SampleCollector(brand_accounts(settings), settings.sample_feed)
    raise ConfigError(f"setting 'sources': no collector named {source!r}")
