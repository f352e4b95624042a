"""A misbehaving platform on 127.0.0.1: a real HTTP server (http.server in a thread) that hangs, rate-limits,
fails, or answers HTML and broken JSON, so the real client libraries meet real sockets and real timeouts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_SECONDS = 5.0  # longer than every timeout under test: a client without one takes this long per request


@dataclass
class Answer:
    """What the server does with each request: hang, or answer status/headers/body."""

    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


REDDIT_TOKEN = {"access_token": "<token>", "expires_in": 3600, "scope": "*", "token_type": "bearer"}


class FakePlatform:
    """Answers every request with `answer`, except Reddit's token endpoint, which always grants a token."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.paths: list[str] = []
        self._release = threading.Event()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                platform.paths.append(self.path)
                if self.path.startswith("/api/v1/access_token"):
                    self._send(Answer(200, REDDIT_TOKEN, {"content-type": "application/json"}))
                    return
                if platform.answer.hang:
                    platform._release.wait(HANG_SECONDS)
                    return
                self._send(platform.answer)

            def _send(self, answer: Answer) -> None:
                body = answer.payload()
                try:
                    self.send_response(answer.status)
                    headers = {"content-type": "application/json", **answer.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _serve  # noqa: N815 - http.server's naming
            do_POST = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_platform(answer: Answer) -> Iterator[FakePlatform]:
    platform = FakePlatform(answer)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()
