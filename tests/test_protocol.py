"""The HTTP protocol ``roost serve`` runs: responses written once per loop iteration.

A real uvicorn with ``CorkedHttpToolsProtocol`` (the tests' ``live_server``) serves a small
ASGI app on 127.0.0.1 and raw sockets read what it sends: pipelined requests, a streamed body
larger than the flush limit, and ``Connection: close``. The wrapper's own rules (when it
writes, what it drops) are checked against a transport that records its writes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from liveserver import live_server
from roost.api.protocol import FLUSH_AT_BYTES, CorkedTransport
from roostserver import HOST

STREAM_CHUNK = b"x" * 1000
STREAM_CHUNKS = 3000  # 3 MB, far beyond FLUSH_AT_BYTES
SOCKET_TIMEOUT_S = 10.0


async def small_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/echo`` answers the request body; ``/stream`` streams STREAM_CHUNKS chunks."""
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(STREAM_CHUNKS):
            await send({"type": "http.response.body", "body": STREAM_CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def corked_server() -> Iterator[int]:
    """``small_app`` behind ``live_server``, which runs the protocol ``roost serve`` runs."""
    with live_server(small_app) as base_url:
        yield int(base_url.rsplit(":", 1)[1])


def request(path: str, body: bytes = b"", *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n".encode()
        + connection
        + b"\r\n"
        + body
    )


def read_until(sock: socket.socket, done: Any) -> bytes:
    """Read until ``done(received)`` holds or the peer closes; bounded by the socket timeout."""
    received = b""
    for _ in range(100_000):
        if done(received):
            break
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_pipelined_requests_get_every_response_in_order() -> None:
    bodies = [b"first", b"second one", b"third!"]
    with corked_server() as port, socket.create_connection((HOST, port), SOCKET_TIMEOUT_S) as s:
        s.sendall(b"".join(request("/echo", body) for body in bodies))
        received = read_until(
            s, lambda got: got.count(b"HTTP/1.1 200") == 3 and got.endswith(bodies[-1])
        )
    responses = received.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert [response.rsplit(b"\r\n\r\n", 1)[1] for response in responses] == bodies


def test_a_streamed_body_beyond_the_flush_limit_arrives_whole() -> None:
    size = len(STREAM_CHUNK) * STREAM_CHUNKS
    assert size > 10 * FLUSH_AT_BYTES
    with corked_server() as port, socket.create_connection((HOST, port), SOCKET_TIMEOUT_S) as s:
        s.sendall(request("/stream", close=True))
        received = read_until(s, lambda got: False)  # until the server closes
    head, _, chunked = received.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert chunked.endswith(b"0\r\n\r\n")
    assert chunked.count(STREAM_CHUNK) == STREAM_CHUNKS


def test_connection_close_sends_the_response_before_closing() -> None:
    with corked_server() as port, socket.create_connection((HOST, port), SOCKET_TIMEOUT_S) as s:
        s.sendall(request("/echo", b"goodbye", close=True))
        received = read_until(s, lambda got: False)
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b"\r\n\r\ngoodbye")


class RecordingTransport(asyncio.Transport):
    """The layer below the wrapper: keeps what it is asked to write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


Scenario = Callable[[RecordingTransport, CorkedTransport], Awaitable[None]]


def run_corked(scenario: Scenario) -> None:
    """Run ``scenario`` on a new event loop with a CorkedTransport over a recording one."""

    async def main() -> None:
        inner = RecordingTransport()
        await scenario(inner, CorkedTransport(inner, asyncio.get_running_loop()))

    asyncio.run(main())


def test_writes_of_one_loop_iteration_leave_as_one() -> None:
    run_corked(_writes_of_one_loop_iteration_leave_as_one)


async def _writes_of_one_loop_iteration_leave_as_one(
    inner: RecordingTransport, corked: CorkedTransport
) -> None:
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    corked.write(memoryview(b"body"))
    assert inner.writes == []
    assert corked.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    corked.write(b"next")
    corked.close()  # closing sends what is held first
    assert inner.writes[-1] == b"next" and inner.closed


def test_held_bytes_past_the_limit_go_out_at_once() -> None:
    run_corked(_held_bytes_past_the_limit_go_out_at_once)


async def _held_bytes_past_the_limit_go_out_at_once(
    inner: RecordingTransport, corked: CorkedTransport
) -> None:
    corked.write(b"a" * (FLUSH_AT_BYTES - 1))
    assert inner.writes == []
    corked.write(b"b")
    assert [len(data) for data in inner.writes] == [FLUSH_AT_BYTES]
    await asyncio.sleep(0)  # the scheduled flush finds nothing more
    assert len(inner.writes) == 1


def test_what_is_held_when_the_connection_is_lost_is_dropped() -> None:
    run_corked(_what_is_held_when_the_connection_is_lost_is_dropped)


async def _what_is_held_when_the_connection_is_lost_is_dropped(
    inner: RecordingTransport, corked: CorkedTransport
) -> None:
    corked.write(b"too late")
    inner.closed = True
    await asyncio.sleep(0)
    assert inner.writes == []
