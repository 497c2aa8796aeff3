"""uvicorn's h11 protocol with a deadline for a request's headers and a bound on idle connections.

uvicorn 0.54 has no request-read timeout: a connection that sends half a request line
(or a byte now and then — each byte cancels its keep-alive timer) is held for ever, and a
thousand of them tie up the server (slowloris). Here:

* a connection must deliver a request's complete headers within ``header_timeout``
  seconds of being opened, or of the previous response — trickling does not extend it;
  otherwise it is closed;
* at most ``max_waiting`` connections may be waiting for their headers at once: one
  more closes the one that has waited longest, so an open flood of idle connections
  cannot keep out a client that sends its request at once.

The request body is bounded and timed by the hub itself (``hub.service.Hub._body``).
Imported by ``hub.server`` when the hub serves, never at import time of ``hub``.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_MAX_WAITING = 256


def guarded_protocol(header_timeout: float, max_waiting: int = DEFAULT_MAX_WAITING) -> type[H11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)``: one per server (it holds the waiting list)."""

    waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()

    class GuardedH11Protocol(H11Protocol):
        stats = {"max_waiting_seen": 0, "closed_idle": 0, "evicted": 0}

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._header_deadline: asyncio.TimerHandle | None = None
            super().connection_made(transport)
            self._wait_for_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._request_in_progress():
                self._stop_waiting()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not self._request_in_progress():
                self._wait_for_headers()  # the next request on this keep-alive connection

        # --- the deadline -------------------------------------------------------------
        def _request_in_progress(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _wait_for_headers(self) -> None:
            self._stop_waiting()
            self._header_deadline = self.loop.call_later(header_timeout, self._headers_too_late)
            waiting[self] = None
            stats = GuardedH11Protocol.stats
            stats["max_waiting_seen"] = max(stats["max_waiting_seen"], len(waiting))
            while len(waiting) > max_waiting:
                oldest, _ = waiting.popitem(last=False)
                stats["evicted"] += 1
                oldest._close_idle()

        def _stop_waiting(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None
            waiting.pop(self, None)

        def _headers_too_late(self) -> None:
            self._header_deadline = None
            if not self._request_in_progress():
                GuardedH11Protocol.stats["closed_idle"] += 1
                self._close_idle()
            waiting.pop(self, None)

        def _close_idle(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None
            if not self.transport.is_closing():
                if self.conn.our_state in (h11.IDLE, h11.DONE):
                    try:
                        self.conn.send(h11.ConnectionClosed())
                    except h11.LocalProtocolError:
                        pass
                self.transport.close()

    return GuardedH11Protocol
