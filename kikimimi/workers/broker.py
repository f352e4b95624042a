"""The Redis broker the workers and the scheduler share, with Dramatiq's middleware and our retry policy.

Dramatiq acknowledges a message only after its task returned, and a worker that stops sending heartbeats (killed,
its machine gone) has its unacknowledged messages put back on their queue by the other workers: every task runs
at least once. Our tasks are written to be run twice without harm (see `kikimimi.workers.tasks`).
"""

from __future__ import annotations

import redis
from dramatiq.brokers.redis import DEFAULT_HEARTBEAT_TIMEOUT, RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from kikimimi.errors import ConfigError
from kikimimi.redact import redact_url

MAX_RETRIES = 20  # a task that keeps failing stops after this many tries (it is logged with its traceback)
MIN_BACKOFF_MS = 5_000  # the first retry waits about this long ...
MAX_BACKOFF_MS = 300_000  # ... doubling, never longer than five minutes
# Out of a million broker calls, how many also look for dead workers (Dramatiq's default is 1,000): with a few
# idle consumers polling every second, a dead worker's messages move on seconds after its heartbeat is stale.
MAINTENANCE_CHANCE = 10_000


def make_broker(
    url: str,
    *,
    heartbeat_timeout_ms: int = DEFAULT_HEARTBEAT_TIMEOUT,
    maintenance_chance: int = MAINTENANCE_CHANCE,
    min_backoff_ms: int = MIN_BACKOFF_MS,
    max_backoff_ms: int = MAX_BACKOFF_MS,
    max_retries: int = MAX_RETRIES,
) -> RedisBroker:
    """A broker on the Redis at `url`. A worker silent for `heartbeat_timeout_ms` counts as dead: its messages
    go back on their queues (checked on `maintenance_chance` out of a million broker calls)."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"setting 'broker_url': not a Redis URL: {redact_url(url)!r} (e.g. redis://127.0.0.1:6379/0)")
    middleware = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=max_retries, min_backoff=min_backoff_ms, max_backoff=max_backoff_ms),
    ]
    return RedisBroker(
        url=url,
        middleware=middleware,
        namespace="kikimimi",
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
    )


def check_reachable(broker: RedisBroker, url: str) -> None:
    """Fail at start with one line naming the broker, rather than with a traceback on the first message."""
    try:
        broker.client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"cannot reach the broker at {redact_url(url)}: {exc}") from None
