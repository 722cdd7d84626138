#!/usr/bin/env python3
"""Fixed-delay HTTP/1.1 "provider" for the ngx_http_osint_module benchmark.

Usage:  python3 bench/slow_provider.py [--port N] [--delay-ms 20]
                                        [--host 127.0.0.1] [--stats]

Answers every request (any method, any path) with 200 and a small JSON body
(the same one the instant nginx provider of scenario (b) returns) exactly
--delay-ms milliseconds after the request's headers were read.  Keep-alive
(HTTP/1.1 persistent connections, pipelining tolerated: answers leave in
request order).  Prints "READY <port>" on stdout once listening (--port 0
picks a free port), exits on SIGTERM/SIGINT.  Python 3 standard library only.

Written on asyncio's low-level Protocol API (no per-request coroutine), so a
single process sustains several thousand delayed answers per second; the
benchmark needs ~1500/s (500 lookups/s x 3 providers).

Timing note: asyncio's timers are served by epoll with millisecond
granularity, so the real delay is 20.0-21 ms plus scheduling jitter.  The
benchmark measures this server directly (wrk against it) to separate its own
jitter from the module's overhead.

--stats prints "served N requests, M connections" on stderr at exit.
"""

import argparse
import asyncio
import collections
import signal
import socket
import sys

BODY = b'{"ip":"8.8.8.8","ports":[53,443],"hostnames":["dns.google"]}'

MAX_HEADER = 64 * 1024


def build_response(keep_alive):
    return (b'HTTP/1.1 200 OK\r\n'
            b'Server: slow-provider\r\n'
            b'Content-Type: application/json\r\n'
            b'Content-Length: ' + str(len(BODY)).encode() + b'\r\n'
            + (b'Connection: keep-alive\r\n' if keep_alive
               else b'Connection: close\r\n')
            + b'\r\n' + BODY)


RESP_KEEP = build_response(True)
RESP_CLOSE = build_response(False)


class Stats:
    requests = 0
    connections = 0


class Provider(asyncio.Protocol):
    """One client connection: parse requests, answer each after the delay."""

    def __init__(self, loop, delay):
        self.loop = loop
        self.delay = delay
        self.buf = b''
        self.transport = None
        self.pending = collections.deque()   # [ready?, response, close?]
        self.closing = False                 # a "Connection: close" seen
        self.body_left = 0                   # request body bytes to skip

    def connection_made(self, transport):
        self.transport = transport
        Stats.connections += 1
        sock = transport.get_extra_info('socket')
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc):
        self.transport = None
        self.pending.clear()

    def data_received(self, data):
        if self.closing:
            return
        self.buf += data
        while True:
            if self.body_left:
                n = min(self.body_left, len(self.buf))
                self.buf = self.buf[n:]
                self.body_left -= n
                if self.body_left:
                    return
            end = self.buf.find(b'\r\n\r\n')
            if end < 0:
                if len(self.buf) > MAX_HEADER:
                    self.transport.close()
                return
            head = self.buf[:end]
            self.buf = self.buf[end + 4:]
            self.request(head)
            if self.closing:
                return

    def request(self, head):
        Stats.requests += 1
        lines = head.split(b'\r\n')
        first = lines[0].split(b' ')
        version = first[2] if len(first) > 2 else b'HTTP/1.0'
        keep = version == b'HTTP/1.1'
        for line in lines[1:]:
            name, _, value = line.partition(b':')
            name = name.strip().lower()
            if name == b'connection':
                v = value.strip().lower()
                if v == b'close':
                    keep = False
                elif v == b'keep-alive':
                    keep = True
            elif name == b'content-length':
                try:
                    self.body_left = int(value.strip())
                except ValueError:
                    keep = False
        entry = [False, RESP_KEEP if keep else RESP_CLOSE, not keep]
        self.pending.append(entry)
        if not keep:
            self.closing = True
        self.loop.call_later(self.delay, self.ready, entry)

    def ready(self, entry):
        entry[0] = True
        t = self.transport
        if t is None:
            return
        while self.pending and self.pending[0][0]:
            _, resp, close = self.pending.popleft()
            t.write(resp)
            if close:
                t.close()
                self.transport = None
                return


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--delay-ms', type=float, default=20.0)
    ap.add_argument('--backlog', type=int, default=4096)
    ap.add_argument('--stats', action='store_true')
    args = ap.parse_args()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    delay = args.delay_ms / 1000.0

    server = loop.run_until_complete(loop.create_server(
        lambda: Provider(loop, delay), args.host, args.port,
        backlog=args.backlog, reuse_address=True))
    port = server.sockets[0].getsockname()[1]

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)

    sys.stdout.write('READY %d\n' % port)
    sys.stdout.flush()

    try:
        loop.run_forever()
    finally:
        server.close()
        if args.stats:
            sys.stderr.write('slow_provider: served %d requests, %d connections\n'
                             % (Stats.requests, Stats.connections))


if __name__ == '__main__':
    main()
