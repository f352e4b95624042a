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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
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
    # a competitor's brand: its posts are collected and analysed (share of voice) but never drafted for
    competitor: bool = False

    @property
    def key(self) -> str:
        """Stable hash of the canonical query: cursors are keyed by it, so editing a query starts afresh.

        `competitor` is left out: marking a query as a competitor's changes what is drafted, not what is read."""
        canonical = json.dumps(self.model_dump(exclude={"name", "competitor"}), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _Destination(_Strict):
    """Where a brand's alerts go. Secrets (URLs with tokens, signing keys, passwords) are never written in the
    file: it names the environment variable that holds each, and delivery fails clearly while one is unset."""

    name: str = Field(min_length=1, max_length=64)


class WebhookDestination(_Destination):
    """A JSON POST signed with HMAC-SHA256 of the body (header `X-Kikimimi-Signature: sha256=<hex>`)."""

    kind: Literal["webhook"]
    url_env: str = Field(min_length=1)
    secret_env: str = Field(min_length=1)


class SlackDestination(_Destination):
    """A Slack incoming webhook."""

    kind: Literal["slack"]
    url_env: str = Field(min_length=1)


class TeamsDestination(_Destination):
    """A Microsoft Teams incoming webhook."""

    kind: Literal["teams"]
    url_env: str = Field(min_length=1)


class EmailDestination(_Destination):
    """E-mail over SMTP (STARTTLS unless `starttls = false`, e.g. a relay on localhost)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None


AlertDestination = Annotated[
    WebhookDestination | SlackDestination | TeamsDestination | EmailDestination, Field(discriminator="kind")
]


class BusinessHours(_Strict):
    """The hours a brand's team answers, the same each working day (`days`: 0 = Monday ... 6 = Sunday)."""

    opens: int = Field(default=9, ge=0, le=23)  # hour of the day
    closes: int = Field(default=18, ge=1, le=24)
    days: list[Annotated[int, Field(ge=0, le=6)]] = [0, 1, 2, 3, 4]
    time_zone: str = "Asia/Tokyo"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    @model_validator(mode="after")
    def _opens_before_closing(self) -> BusinessHours:
        if self.opens >= self.closes:
            raise ValueError(f"business hours open at {self.opens} but close at {self.closes}")
        return self

    @property
    def open_minutes(self) -> int:
        """Minutes the team is in on one working day."""
        return max(0, self.closes - self.opens) * 60


class VoiceWords(_Strict):
    """One language's wording rules for a brand's replies (its style guide)."""

    # the brand's own wording: key = a phrase to avoid, value = the phrase to use instead (drafts use the value)
    use: dict[str, str] = {}
    avoid: list[str] = []  # phrases a reply must never contain
    sign_off: str = ""  # closes every reply, e.g. "— Komorebi Tea" (empty: none)


class VoiceConfig(_Strict):
    """A brand's voice: the composer writes in it and `responder.voice.lint` flags a draft that breaks it."""

    honorific: Literal["様", "さん"] = "さん"  # how a Japanese reply addresses the customer by name
    formality: Literal["casual", "polite", "formal"] = "polite"  # formal: no English contractions either
    # never: no emoji at all; not_on_negative: none in a reply to a negative post; allowed: up to max_emoji
    emoji: Literal["never", "not_on_negative", "allowed"] = "not_on_negative"
    max_emoji: int = Field(default=1, ge=0)
    en: VoiceWords = VoiceWords()
    ja: VoiceWords = VoiceWords()


class BrandConfig(_Strict):
    name: str = Field(min_length=1)
    handles: dict[Platform, list[str]] = {}
    queries: list[QueryConfig] = []
    alerts: list[AlertDestination] = []  # where this brand's alerts are delivered

    voice: VoiceConfig = VoiceConfig()
    # posts (with their analyses, drafts, FAQ places) older than this are erased by `kikimimi erase --expired`
    # and by every pipeline pass; None keeps them
    retention_days: int | None = Field(default=None, ge=1)
    # the brand's accounts that answer automatically (bots, auto-responders): their replies are no first response
    automated_handles: dict[Platform, list[str]] = {}
    # when the team answers, in `business_hours.time_zone`: first-response time counts only these hours
    business_hours: BusinessHours | None = None

    @field_validator("queries")
    @classmethod
    def _unique_query_names(cls, queries: list[QueryConfig]) -> list[QueryConfig]:
        return _unique_names(queries, "query names")

    @field_validator("alerts")
    @classmethod
    def _unique_destination_names(cls, alerts: list[Any]) -> list[Any]:
        return _unique_names(alerts, "alert destination names")


def _unique_names(items: list[Any], what: str) -> list[Any]:
    names = [item.name for item in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what}: {', '.join(duplicates)}")
    return items


class AlertSettings(_Strict):
    """When spikes and service-level slips become alerts, and how deliveries are retried."""

    sensitivity: float = Field(default=3.0, gt=0)  # standard deviations above the baseline that make a spike
    cooldown_hours: float = Field(default=24.0, ge=0)  # one alert per fire: quiet this long before the next
    min_posts: int = Field(default=10, ge=1)  # a window with fewer posts is never a volume or negativity spike
    min_negative: int = Field(default=5, ge=1)  # ... nor a negativity spike with fewer negative posts
    lookback_hours: int = Field(default=168, ge=1)  # each check looks this far back (a fresh install: one week)
    sla_warn_at: float = Field(default=0.75, gt=0, lt=1)  # "nears its target": this share of the target passed
    # a post first collected longer than this after it was posted (a backfill, a fresh install) raises no
    # service-level alert: the team cannot have answered what it had not seen
    sla_window_minutes: int = Field(default=120, ge=1)
    frt_jump_factor: float = Field(default=2.0, gt=1)  # the day's median first response ≥ this × usual ...
    frt_jump_minutes: float = Field(default=5.0, ge=0)  # ... and at least this many minutes slower
    frt_min_answered: int = Field(default=3, ge=1)  # a median of fewer answers is noise, not a staffing signal
    max_attempts: int = Field(default=10, ge=1)  # deliveries given up (state failed) after this many tries
    retry_seconds: int = Field(default=60, ge=1)  # first back-off; doubled per failure ...
    retry_max_seconds: int = Field(default=3600, ge=1)  # ... up to this


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
    # optional generated reply suggestions: any local path or hub id of an instruction (causal LM) model, run
    # through transformers (the `transformers` extra); None keeps the offline templates
    reply_model: str | None = None
    reply_model_max_new_tokens: int = Field(default=120, ge=8, le=1024)
    service_levels: ServiceLevels = ServiceLevels()
    alerts: AlertSettings = AlertSettings()
    display_timezone: str = "Asia/Tokyo"
    # items each platform may read per calendar month (UTC); collection stops at it and resumes next month
    read_budget: dict[Platform, Annotated[int, Field(ge=0)]] = {}
    session_hours: float = Field(default=12.0, gt=0, le=24 * 90)  # how long a dashboard sign-in lasts
    # --- workers --- (`kikimimi worker` and `kikimimi scheduler`; the single-process `kikimimi run` needs neither)
    broker_url: str = "redis://127.0.0.1:6379/0"  # the Redis that carries the task queues
    post_interval_seconds: int = Field(default=30, ge=1)  # how often the scheduler asks for a posting pass

    # how long "X is editing this draft" holds after the editor's last activity (nobody else may approve it then)
    edit_lock_minutes: float = Field(default=5.0, gt=0, le=120)

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
