"""uvicorn's httptools protocol with one socket write per connection per event-loop iteration.

uvicorn writes a response in two calls, the head on ``http.response.start`` and the body on
``http.response.body``, and uvloop sends each at once: two ``send`` syscalls per response,
each of which, on a local socket, also runs the receiver's side of TCP while holding the GIL.
Profiled under ingest load, those two writes were about 40% of the event loop's busy time.

``CorkedTransport`` holds what is written during one loop iteration and sends it in a single
write when the iteration's callbacks have run (``call_soon``). A response therefore leaves in
one syscall, pipelined responses answered in the same iteration share it, and no byte waits
longer than the rest of the current iteration. ``roost serve`` runs uvicorn with this
protocol; an app served by plain ``uvicorn roost.asgi:app`` behaves the same, just without it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Held bytes beyond which a write goes out at once: a large streamed body (a CSV export) is
# sent as it is produced, and flow control (pause_writing) keeps working as uvicorn expects.
FLUSH_AT_BYTES = 64 * 1024


class CorkedTransport:
    """A transport wrapper that joins the writes of one event-loop iteration into one."""

    __slots__ = ("_held", "_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None
        self._held = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        if self._pending is None:
            self._pending = [data]
            self._held = len(data)
            self._loop.call_soon(self.flush)
        else:
            self._pending.append(data)
            self._held += len(data)
        if self._held >= FLUSH_AT_BYTES:
            self.flush()  # the call_soon above then finds nothing left to send

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        # A connection lost meanwhile drops what it held, as the real transport would.
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    # Everything that ends the byte stream or hands it to someone else flushes first.
    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return (self._held if self._pending else 0) + self._transport.get_write_buffer_size()

    # Called on every request: forwarded without the __getattr__ detour.
    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def __getattr__(self, name: str) -> Any:
        # Whatever else a transport offers (can_write_eof, set_write_buffer_limits, …).
        return getattr(self._transport, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a ``CorkedTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        corked = CorkedTransport(transport, self.loop)
        super().connection_made(corked)  # type: ignore[arg-type]
