#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy that adds a fixed delay to every request (standard library only).

Usage: latency_proxy.py --upstream http://127.0.0.1:PORT [--delay-ms 50] [--port 0]

Listens on 127.0.0.1 (a free port unless --port is given), prints that port on stdout as soon
as it accepts connections, and forwards every request to the upstream emulator after sleeping
--delay-ms, the round trip a real AWS API call costs. It handles any number of connections at
once (asyncio: one task per client connection, one upstream connection per client connection,
kept alive), so a client that keeps many requests in flight sees them overlap exactly as it
would against AWS; a serial proxy would turn concurrency into queueing and falsify the figures.

HTTP handling: requests and responses are framed by Content-Length, chunked transfer coding or
(responses only) the end of the connection, and re-framed towards the other side with a
Content-Length; `Expect: 100-continue` is answered by the proxy; the client's keep-alive or
`Connection: close` (and HTTP/1.0 without keep-alive) is honoured; hop-by-hop headers are not
forwarded. Host and every other end-to-end header pass unchanged (SigV4 signatures stay valid).

Stops on SIGTERM or SIGINT, when --parent-pid exits, or after --max-seconds, whichever comes
first. On exit, and on SIGUSR1 (which then starts the counts afresh), prints to stderr how
many requests it forwarded and the most it had in flight at once. Only 127.0.0.1/localhost
upstreams are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from urllib.parse import urlparse

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",  # re-computed
}
MAX_HEAD = 64 * 1024


class BadMessage(Exception):
    pass


async def read_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]] | None:
    """The start line and headers of a message; None on a clean end of stream before it."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadMessage("connection closed inside a message head") from e
    except asyncio.LimitOverrunError as e:
        raise BadMessage("message head too large") from e
    lines = raw.decode("iso-8859-1").split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadMessage(f"malformed header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return start, headers


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def tokens(headers: list[tuple[str, str]], name: str) -> set[str]:
    out = set()
    for k, v in headers:
        if k.lower() == name:
            out.update(t.strip().lower() for t in v.split(",") if t.strip())
    return out


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # Trailers (ignored) up to the empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def read_body(
    reader: asyncio.StreamReader, headers: list[tuple[str, str]], until_eof: bool
) -> tuple[bytes, bool]:
    """The body and whether the connection ended with it (close-delimited)."""
    if "chunked" in tokens(headers, "transfer-encoding"):
        return await read_chunked(reader), False
    length = header(headers, "content-length")
    if length is not None:
        return await reader.readexactly(int(length)), False
    if until_eof:
        return await reader.read(), True
    return b"", False


def serialize(start: str, headers: list[tuple[str, str]], body: bytes | None, extra: list[tuple[str, str]]) -> bytes:
    lines = [start]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in HOP_BY_HOP]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1") + (body or b"")


class Proxy:
    def __init__(self, upstream_host: str, upstream_port: int, delay: float):
        self.host = upstream_host
        self.port = upstream_port
        self.delay = delay
        self.requests = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await read_head(creader)
                if head is None:
                    return
                start, headers = head
                parts = start.split(" ", 2)
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    raise BadMessage(f"bad request line {start!r}")
                method, target, version = parts
                conn = tokens(headers, "connection")
                keep_alive = "close" not in conn and (version == "HTTP/1.1" or "keep-alive" in conn)
                if "100-continue" in tokens(headers, "expect"):
                    cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await cwriter.drain()
                body, _ = await read_body(creader, headers, until_eof=False)

                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.delay)
                    request = serialize(
                        f"{method} {target} HTTP/1.1",
                        headers,
                        body if (body or method not in ("GET", "HEAD", "DELETE", "OPTIONS")) else None,
                        [("Connection", "keep-alive")],
                    )
                    response, upstream = await self.exchange(upstream, request, method)
                finally:
                    self.in_flight -= 1
                self.requests += 1
                status, rheaders, rbody, upstream_closed = response
                if upstream_closed and upstream is not None:
                    upstream[1].close()
                    upstream = None
                code = int(status.split(" ", 2)[1])
                connection = [("Connection", "keep-alive" if keep_alive else "close")]
                reason = status.split(" ", 1)[1]
                if method == "HEAD" or code in (204, 304):
                    # No body; keep the upstream's Content-Length as the entity's length.
                    length = header(rheaders, "content-length")
                    extra = [("Content-Length", length)] if length is not None else []
                    out = serialize("HTTP/1.1 " + reason, rheaders, None, extra + connection)
                else:
                    out = serialize("HTTP/1.1 " + reason, rheaders, rbody, connection)
                cwriter.write(out)
                await cwriter.drain()
                if not keep_alive:
                    return
        except (BadMessage, ValueError) as e:
            print(f"latency_proxy: {e}", file=sys.stderr)
            try:
                cwriter.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await cwriter.drain()
            except ConnectionError:
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except UpstreamError as e:
            print(f"latency_proxy: upstream: {e}", file=sys.stderr)
            try:
                cwriter.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await cwriter.drain()
            except ConnectionError:
                pass
        finally:
            if upstream is not None:
                upstream[1].close()
            cwriter.close()

    async def exchange(self, upstream, request: bytes, method: str):
        """Sends one request upstream and reads its response. A kept-alive upstream connection
        that turns out closed is replaced once (nothing was answered on it)."""
        for attempt in (1, 2):
            fresh = upstream is None
            if fresh:
                try:
                    upstream = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
                except OSError as e:
                    raise UpstreamError(f"cannot connect to {self.host}:{self.port}: {e}") from e
            ureader, uwriter = upstream
            try:
                uwriter.write(request)
                await uwriter.drain()
                while True:
                    head = await read_head(ureader)
                    if head is None:
                        raise ConnectionResetError("upstream closed before answering")
                    status, rheaders = head
                    code = int(status.split(" ", 2)[1])
                    if 100 <= code < 200:
                        continue  # interim response
                    break
                if method == "HEAD" or code in (204, 304):
                    rbody, closed = b"", False
                else:
                    rbody, closed = await read_body(ureader, rheaders, until_eof=True)
                closed = closed or "close" in tokens(rheaders, "connection") or status.startswith("HTTP/1.0")
                return (status, rheaders, rbody, closed), upstream
            except (ConnectionError, BadMessage, asyncio.IncompleteReadError) as e:
                uwriter.close()
                upstream = None
                if fresh or attempt == 2:
                    raise UpstreamError(str(e)) from e
        raise AssertionError("unreachable")


class UpstreamError(Exception):
    pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--upstream", required=True, help="emulator URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--delay-ms", type=float, default=50.0, help="delay added to every request (50)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    p.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long (3600)")
    args = p.parse_args(argv)
    url = urlparse(args.upstream)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost") or not url.port:
        p.error(f"refusing upstream {args.upstream!r}: only http://127.0.0.1:PORT is allowed")
    if args.delay_ms < 0:
        p.error("--delay-ms must be >= 0")
    return args


async def main_async(args: argparse.Namespace) -> int:
    url = urlparse(args.upstream)
    proxy = Proxy("127.0.0.1", url.port, args.delay_ms / 1000.0)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.port, limit=MAX_HEAD, backlog=512)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def report_and_reset() -> None:
        print(
            f"latency_proxy: {proxy.requests} requests forwarded over {proxy.connections} connections, "
            f"at most {proxy.max_in_flight} in flight, {args.delay_ms:g} ms added to each",
            file=sys.stderr,
            flush=True,
        )
        proxy.requests = proxy.connections = 0
        proxy.max_in_flight = proxy.in_flight

    loop.add_signal_handler(signal.SIGUSR1, report_and_reset)
    deadline = time.monotonic() + args.max_seconds

    async def watchdog() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.5)
            if time.monotonic() >= deadline:
                print("latency_proxy: --max-seconds reached", file=sys.stderr)
                stop.set()
            if args.parent_pid:
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    stop.set()
                except PermissionError:
                    pass

    watch = asyncio.create_task(watchdog())
    await stop.wait()
    watch.cancel()
    server.close()
    report_and_reset()
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
