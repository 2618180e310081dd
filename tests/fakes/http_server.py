"""A small HTTP/1.1 server on loopback for fakes: its own event loop in a daemon thread, so it serves tests running on
any loop (or none) and separate processes alike. Keep-alive, Content-Length bodies, one task per connection so slow
answers never hold up other clients."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

_BACKLOG = 4096  # a bench opens hundreds of connections at once; the default 100 would make them wait for SYN retries
_EXTRA_PHRASES = {529: "Overloaded"}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(urlsplit(self.target).query).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    byte_interval: float = 0.0  # > 0: written one byte at a time, this many seconds apart (a trickling upstream)

    @classmethod
    def of_json(cls, status: int, value: Any, headers: dict[str, str] | None = None) -> HttpResponse:
        return cls(status, json.dumps(value, ensure_ascii=False).encode(), headers=headers or {})

    def encode(self, keep_alive: bool) -> bytes:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = _EXTRA_PHRASES.get(self.status, "Unknown")
        lines = [f"HTTP/1.1 {self.status} {phrase}", f"content-type: {self.content_type}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        lines += [f"content-length: {len(self.body)}", f"connection: {'keep-alive' if keep_alive else 'close'}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


# An answer, or None to close the connection without answering.
Handler = Callable[[HttpRequest], Awaitable[HttpResponse | None]]


class LoopbackServer:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"fake-http-{id(self):x}", daemon=True)
        self._connections: set[asyncio.Task[None]] = set()
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def stop(self) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(
                asyncio.start_server(self._serve, self._host, self._port, backlog=_BACKLOG)
            )
        except BaseException as error:
            self._startup_error = error
            self._ready.set()
            loop.close()
            return
        host, port = server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shut_down(server))
            loop.close()

    async def _shut_down(self, server: asyncio.Server) -> None:
        server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()
        await asyncio.sleep(0)  # lets the closed transports release their sockets before the loop closes

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._converse(reader, writer)
        except (
            asyncio.CancelledError,
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            # Shutting down, the client went away, or it sent something we do not speak: hang up. Ending normally
            # rather than cancelled also keeps Python 3.11's stream callback from logging the cancellation.
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await _read_request(reader)
            if request is None:
                return
            response = await self._answer(request)
            if response is None:
                return
            keep_alive = request.headers.get("connection", "").lower() != "close"
            data = response.encode(keep_alive)
            if response.byte_interval > 0:
                for index in range(len(data)):
                    writer.write(data[index : index + 1])
                    await writer.drain()
                    await asyncio.sleep(response.byte_interval)
            else:
                writer.write(data)
            await writer.drain()
            if not keep_alive:
                return

    async def _answer(self, request: HttpRequest) -> HttpResponse | None:
        try:
            return await self._handler(request)
        except Exception:
            # A bug in a fake must be loud, not a mysterious client error.
            traceback.print_exc(file=sys.stderr)
            return HttpResponse(500, traceback.format_exc().encode(), content_type="text/plain")


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed an idle keep-alive connection
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise ValueError("chunked request bodies are not supported")
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return HttpRequest(method, target, headers, body)
