"""The test session's app served by a real uvicorn on 127.0.0.1, for clients that need a URL.

The app's lifespan (migrations, the writer) already runs under the session's TestClient, so
uvicorn serves it with ``lifespan="off"``; both share the one store. The server runs in a
thread of this process and is stopped (bounded wait) when the block ends.

Usage::

    with live_server(app) as base_url:
        httpx.get(f"{base_url}/healthz")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from roost.api.protocol import CorkedHttpToolsProtocol
from roostserver import HOST, START_TIMEOUT_S, STOP_TIMEOUT_S, free_port

__all__ = ["live_server"]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    port = free_port()
    # The protocol ``roost serve`` runs, so every real client's test goes through it.
    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        http=CorkedHttpToolsProtocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {HOST}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
