"""A throwaway Redis server for integration tests (Debian's `redis-server` package; .ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.postgres_server import _free_port

START_TIMEOUT_SECONDS = 10.0


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Start a private, memory-only server on a free 127.0.0.1 port; yield its URL; stop it and delete its dir."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server not found (apt-get install redis-server)")
    root, port = tempfile.mkdtemp(prefix="kikimimi-redis-"), _free_port()
    # redis-server does not start under libfaketime (`.ci/run`'s second pass): it gets the real clock. Dramatiq
    # sends its own timestamps, so the workers' clock is the only one its heartbeats and delays compare.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", root],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def required_redis() -> Iterator[str]:
    """`redis_server()` for a test module: skipped where redis-server is not installed, a failure in CI."""
    import pytest

    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Redis tests: .ci/run installs the redis-server package")
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    with redis_server() as url:
        yield url
