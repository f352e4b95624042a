"""One place per platform for talking to it: building its client and translating its errors.

Both stages that talk to platforms use these — `listener/` to read, `responder/` to post — so a client is
built the same way (credentials, connect/read timeouts, version pinning, user agent, capped rate-limit
sleeps) and a library's exception means the same thing wherever it is raised:

- `http`: the bounded `requests` session and the transport errors every requests-based library shares;
- `retry`: the fault and back-off vocabulary (`call_with_retries`, capped jittered back-off, reset times);
- `x`, `reddit`, `bluesky`, `mastodon`: one module per platform, `*_client(...)` and `translate_error(...)`.

This package belongs to the core: it imports no stage.
"""
