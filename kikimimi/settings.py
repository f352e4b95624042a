"""One settings object: environment (KIKIMIMI_*) over the TOML file over packaged defaults.

Brands and their listening queries live in `kikimimi.toml`; secrets come from the environment only.
A missing or malformed setting fails at start-up with a one-line error that names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kikimimi.errors import ConfigError

Platform = Literal["x", "reddit", "bluesky", "mastodon"]
PLATFORMS: tuple[str, ...] = ("x", "reddit", "bluesky", "mastodon")
EXAMPLE_CONFIG = Path(__file__).with_name("example_config.toml")
CONFIG_ENV = "KIKIMIMI_CONFIG"


def data_dir() -> Path:
    """Where the embedded database and other user data live (overridable with KIKIMIMI_DATA_DIR)."""
    return Path(os.environ.get("KIKIMIMI_DATA_DIR") or platformdirs.user_data_dir("kikimimi"))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'kikimimi.sqlite3'}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueryConfig(_Strict):
    """What to listen for, in one platform-neutral form; listener/ compiles it per platform."""

    name: str = Field(min_length=1)
    keywords: list[str] = []
    phrases: list[str] = []
    hashtags: list[str] = []
    exclude: list[str] = []
    languages: list[str] = []
    subreddits: list[str] = []
    mention_handles: bool = True  # also match posts that mention the brand's own accounts
    platforms: list[Platform] = list(PLATFORMS)

    @property
    def key(self) -> str:
        """Stable hash of the canonical query: cursors are keyed by it, so editing a query starts afresh."""
        canonical = json.dumps(self.model_dump(exclude={"name"}), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class BrandConfig(_Strict):
    name: str = Field(min_length=1)
    handles: dict[Platform, list[str]] = {}
    queries: list[QueryConfig] = []
    # posts (with their analyses, drafts, FAQ places) older than this are erased by `kikimimi erase --expired`
    # and by every pipeline pass; None keeps them
    retention_days: int | None = Field(default=None, ge=1)

    @field_validator("queries")
    @classmethod
    def _unique_query_names(cls, queries: list[QueryConfig]) -> list[QueryConfig]:
        names = [q.name for q in queries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate query names: {', '.join(duplicates)}")
        return queries


class ServiceLevels(_Strict):
    """First-response-time ladder in minutes (DESIGN.md); beyond `below_average` is unacceptable."""

    stellar: int = 15
    above_average: int = 240
    average: int = 1440
    below_average: int = 4320
    target: int = 60  # the promise: a first response within this many minutes


class Settings(BaseSettings):
    """Everything configurable. Construct with `load_settings()`, which also reads the TOML file."""

    model_config = SettingsConfigDict(env_prefix="KIKIMIMI_", extra="forbid", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    brands: list[BrandConfig] = []
    sources: list[Literal["sample", "x", "reddit", "bluesky", "mastodon"]] = ["sample"]
    sample_feed: Path | None = None  # default: the feed bundled with the package
    poll_interval_seconds: int = Field(default=300, ge=10)
    live_posting: bool = False  # posting is a dry run until this is set explicitly
    analysis_backend: str = "default"
    transformers_model: str | None = None
    templates_dir: Path | None = None
    service_levels: ServiceLevels = ServiceLevels()
    display_timezone: str = "Asia/Tokyo"
    # items each platform may read per calendar month (UTC); collection stops at it and resumes next month
    read_budget: dict[Platform, Annotated[int, Field(ge=0)]] = {}
    session_hours: float = Field(default=12.0, gt=0, le=24 * 90)  # how long a dashboard sign-in lasts
    # hours between full FAQ re-groupings in `kikimimi run` (0: every pass); between them each pass only places
    # the new questions into the existing clusters. `kikimimi faq refresh` re-groups on demand.
    faq_refresh_hours: float = Field(default=6.0, ge=0, le=24 * 30)
    config_path: Path | None = None  # where the TOML came from (informational)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; the environment must win over them.
        return env_settings, init_settings, file_secret_settings

    @cached_property
    def brand_handles(self) -> dict[str, set[str]]:
        """All configured brands' own accounts per platform, lower-cased, without a leading @."""
        handles: dict[str, set[str]] = {p: set() for p in PLATFORMS}
        for brand in self.brands:
            for platform, names in brand.handles.items():
                handles[platform].update(n.lower().lstrip("@") for n in names)
        return handles


def find_config_file(explicit: Path | str | None = None) -> Path | None:
    """The TOML file to read: an explicit path, $KIKIMIMI_CONFIG, ./kikimimi.toml, or the user config dir."""
    if explicit is not None or os.environ.get(CONFIG_ENV):
        path = Path(explicit or os.environ[CONFIG_ENV]).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    for candidate in (Path.cwd() / "kikimimi.toml", Path(platformdirs.user_config_dir("kikimimi")) / "kikimimi.toml"):
        if candidate.is_file():
            return candidate
    return None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from exc


def load_settings(config: Path | str | None = None, *, fallback_to_example: bool = False) -> Settings:
    """Read the TOML file (if any) and the environment into one validated Settings.

    With `fallback_to_example`, a machine with no config file uses the packaged example (the demo brand).
    """
    path = find_config_file(config)
    if path is None and fallback_to_example:
        path = EXAMPLE_CONFIG
    values = read_toml(path) if path else {}
    try:
        return Settings(**values, config_path=path)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, path)) from None


def _one_line(exc: ValidationError, path: Path | None) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "settings"
    origin = f"{path}: " if path else ""
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) and len(repr(value)) < 60 else ""
    return f"{origin}setting '{where}': {error['msg']}{shown}{more}"
