#!/usr/bin/env python3
"""Fixture "provider" HTTP server for the ngx_http_osint_module tests.

Usage:  python3 t/lib/fixture.py --port N [--bodies DIR] [--verbose]

Prints "READY <port>" on stdout once listening (--port 0 picks a free port
and prints it), exits on SIGTERM.  Python 3 standard library only.

Every request (any path, any method) is answered according to its query
parameters, so each provider configured in a test can point at its own URL,
e.g. http://127.0.0.1:PORT/ip/8.8.8.8?delay=300&body=internetdb

  delay=MS          wait MS milliseconds before answering (or before a fault)
  status=N          HTTP status of the answer (default 200)
  retry_after=V     add "Retry-After: V" (verbatim)
  body=NAME         answer with the canned file <bodies>/NAME.json;
                    default "echo" (see below)
  ctype=V           override the Content-Type of the answer
  header=N:V        add a response header (repeatable)
  close=1           answer with "Connection: close" and close the connection
  fault=reset       read the request, close the socket with an RST
  fault=hang        read the request, never answer (until the client closes
                    or 120 s pass)
  fault=drip        headers with Content-Length 2000, then the body one byte
                    every 100 ms
  fault=huge        200 (or status=) with a valid JSON body of exactly
                    size= bytes (default 2 MiB): {"pad":"xxxx..."}
  fault=invalid     application/json body that is not valid JSON
  fault=html        text/html body "<html><body>502 Bad Gateway</body></html>"
  fault=nested      application/json body of depth= (default 100000) nested
                    arrays: [[[...1...]]] (valid JSON, too deep for parsers)
  fault=badutf8     application/json body, valid JSON but for its strings:
                    BADUTF8_JSON below (a lone continuation byte, a truncated
                    sequence, an overlong "/", a UTF-16 surrogate, bytes
                    beyond U+10FFFF, then good UTF-8 "\u00fc" as raw bytes)
  fault=redirect    answer code= (default 302) with "Location: <to=>"
                    (verbatim: absolute or relative) and a small JSON body
  fault=echokey     application/json body quoting the API key back in
                    every form it may take (echokey_body below): the
                    received URL as it came (percent-encoded) and with
                    lower-case hex, the received headers, the key (X-Key
                    header, else key= of the query or form body) raw,
                    with "/" as "\\/", with every byte as \\u00xx and
                    \\u00XX, form-encoded, percent-encoded in lower case,
                    and with percent-encoding and JSON escapes mixed
  fault=wide        200 (or status=) with a JSON object of members= (default
                    100000) members "<base36 n>": 1, then "list": an array
                    of elements= (default 0) numbers from= (default 0) on
                    (compact: 100000 members fit in 1 MiB)
  wire=MODE         the same answer, framed on the wire another way:
                    chunked (Transfer-Encoding: chunked, 5-byte chunks, an
                    extension and a trailer), http10 (an HTTP/1.0 status
                    line, no Content-Length, the body up to the close),
                    toclose (HTTP/1.1, no Content-Length, Connection:
                    close), split (the whole answer in 3-byte writes 2 ms
                    apart), interim (a 100 and a 103 answer first), short
                    (Content-Length 50 bytes more than is sent, then a
                    close), extra (bytes after the body), gzip (the body
                    gzip-compressed, Content-Encoding: gzip), bighead (a
                    header line of size= bytes, default 20000), manyheads
                    (80 header lines of 1000 bytes), quietclose
                    (kept alive, then closed 100 ms later without a word)
  fail_first=N      the first N requests to this path (counted as in /_calls,
                    so /_reset starts over) answer fail_status instead (with
                    an empty JSON object body, retry_after and header= still
                    apply, delay too); later ones answer normally
  fail_status=N     status of those failures (default 503)
  rl_limit=N        announce the provider's own rate limit: each request
                    with the same rl= (default "default") counts, and the
                    answer says X-RateLimit-Limit: N, X-RateLimit-Remaining:
                    N minus the requests counted (at least 0) and
                    X-RateLimit-Reset: rl_reset= (default 60); rl_style=ietf
                    says RateLimit-Limit/-Remaining/-Reset instead,
                    rl_style=structured one "RateLimit: limit=N, remaining=R,
                    reset=S" (POST /_reset starts the counts over)

The "echo" body is a JSON object describing the request:
  {"path": <raw path without query>, "query": <raw query>, "method": ...,
   "target": <last path segment, percent-decoded>, "ok": true, "n": 42,
   "nested": {"country": "US", "asn": 15169, "tags": ["a", "b"]}}

Control endpoints (paths starting with "/_" are never counted or logged):
  POST /_control {"prefix": "/p", "params": {"status": "503"}}
                 later requests whose path starts with "/p" behave as if these
                 query parameters were given (they override the URL's own);
                 "params": null removes the override; {"clear": true} removes
                 all overrides.  Longer prefixes win over shorter ones.
  GET  /_calls   {"total": N, "by_path": {"/ip/8.8.8.8": 3, ...},
                  "hanging": fault=hang requests whose client is still there,
                  "hanging_ports": [the client port of each]}
  GET  /_log     the last 1000 requests: [{"method", "path", "query",
                 "headers": {lower-case name: value}, "body", "t"}, ...]
  POST /_reset   zero the counters and the request log
  GET  /_conns   {"open": N, "max": M, "total": T}: connections that have
                 carried a request (control paths aside) and are still open;
                 the most open at once, and how many there were in all, since
                 the start or the last POST /_conns
  POST /_conns   "max" starts again from those open now, "total" from 0

A request is counted (and logged) as soon as its request line and headers
have been read, before any delay or fault.
"""

import argparse
import collections
import gzip
import io
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_MAX_S = 120.0          # fault=hang gives up after this long
DRIP_LENGTH = 2000          # fault=drip announced Content-Length
DRIP_INTERVAL_S = 0.1       # fault=drip: one byte per interval
HUGE_DEFAULT = 2 * 1024 * 1024
LOG_MAX = 1000

INVALID_JSON = b'{"ip": "1.2.3.4", "ports": [80, 443'
HTML_BODY = b'<html><body>502 Bad Gateway</body></html>'
BADUTF8_JSON = (b'{"ip": "1.2.3.4", "org": "a\x80b\xc3", "note": "\xc0\xaf'
                b'\xed\xa0\x80\xf4\x90\x80\x80", "city": "M\xc3\xbcnchen",'
                b' "ports": [80]}')
NESTED_DEFAULT = 100000
WIDE_DEFAULT = 100000

BODY_NAME_RE = re.compile(r'^[A-Za-z0-9_.-]+$')


class State:
    """Counters, request log and overrides shared by all handler threads."""

    def __init__(self, bodies_dir):
        self.lock = threading.Lock()
        self.bodies_dir = bodies_dir
        self.total = 0
        self.by_path = collections.Counter()
        self.log = collections.deque(maxlen=LOG_MAX)
        self.overrides = {}          # prefix -> {param: value}
        self.hanging = []            # client ports of fault=hang requests
        self.rl_counts = collections.Counter()   # rl= -> requests
        self.conns_open = 0          # connections that carried a request
        self.conns_max = 0           # ... the most open at once
        self.conns_total = 0         # ... in all

    def record(self, method, path, query, headers):
        """Count one request; returns (its log entry (body filled in
        later), how many requests this path has had, this one included)."""
        entry = {
            'method': method,
            'path': path,
            'query': query,
            'headers': headers,
            'body': '',
            't': time.time(),
        }
        with self.lock:
            self.total += 1
            self.by_path[path] += 1
            nth = self.by_path[path]
            self.log.append(entry)
        return entry, nth

    def reset(self):
        with self.lock:
            self.total = 0
            self.by_path.clear()
            self.log.clear()
            self.rl_counts.clear()

    def rate_limit_headers(self, params):
        """The headers of rl_limit= (see the module's docstring)."""
        key = params.get('rl', 'default')
        with self.lock:
            self.rl_counts[key] += 1
            n = self.rl_counts[key]
        try:
            limit = int(params['rl_limit'])
        except ValueError:
            limit = 0
        remaining = max(0, limit - n)
        reset = params.get('rl_reset', '60')
        style = params.get('rl_style', 'x')
        if style == 'structured':
            return [('RateLimit', 'limit=%d, remaining=%d, reset=%s'
                     % (limit, remaining, reset))]
        prefix = 'RateLimit-' if style == 'ietf' else 'X-RateLimit-'
        return [(prefix + 'Limit', str(limit)),
                (prefix + 'Remaining', str(remaining)),
                (prefix + 'Reset', reset)]

    def calls(self):
        with self.lock:
            return {'total': self.total, 'by_path': dict(self.by_path),
                    'hanging': len(self.hanging),
                    'hanging_ports': list(self.hanging)}

    def conn_opened(self):
        with self.lock:
            self.conns_open += 1
            self.conns_total += 1
            self.conns_max = max(self.conns_max, self.conns_open)

    def conn_closed(self):
        with self.lock:
            self.conns_open -= 1

    def conns(self, restart):
        with self.lock:
            if restart:
                self.conns_max = self.conns_open
                self.conns_total = 0
            return {'open': self.conns_open, 'max': self.conns_max,
                    'total': self.conns_total}

    def log_copy(self):
        with self.lock:
            return [dict(e) for e in self.log]

    def params_for(self, path, params):
        """Apply the overrides matching path, shortest prefix first."""
        with self.lock:
            matching = sorted((p for p in self.overrides if path.startswith(p)),
                              key=len)
            for prefix in matching:
                params.update(self.overrides[prefix])
        return params


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'     # keep-alive, Content-Length everywhere
    server_version = 'osint-fixture/1.0'
    timeout = HANG_MAX_S + 10         # idle keep-alive connections end

    # BaseHTTPRequestHandler dispatches on do_<METHOD>.
    def do_GET(self):
        query = self.path.partition('?')[2]
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        wire = params.get('wire')
        if not wire or self.path.startswith('/_'):
            return self.handle_any()
        real, self.wfile = self.wfile, io.BytesIO()
        try:
            self.handle_any()
        finally:
            raw, self.wfile = self.wfile.getvalue(), real
        self.send_wire(wire, raw, params)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def version_string(self):
        return self.server_version

    def finish(self):
        try:
            super().finish()
        finally:
            if getattr(self, 'conn_counted', False):
                self.conn_counted = False
                self.server.state.conn_closed()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write('fixture: %s - %s\n'
                             % (self.address_string(), fmt % args))

    # -- request parsing ---------------------------------------------------

    def split_target(self):
        """Raw path and raw query of the request target."""
        target = self.path
        if '://' in target.split('?', 1)[0]:          # absolute-form
            target = urllib.parse.urlsplit(target)
            target = (target.path or '/') + ('?' + target.query
                                              if target.query else '')
        path, _, query = target.partition('?')
        return path, query

    def read_body(self):
        """Request body (Content-Length or chunked), as bytes."""
        te = (self.headers.get('Transfer-Encoding') or '').lower()
        if 'chunked' in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b';', 1)[0].strip() or b'0', 16)
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        line = self.rfile.readline(65537)
                        if not line or line in (b'\r\n', b'\n'):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)                    # CRLF
            return b''.join(chunks)
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length > 0 else b''

    # -- answers -------------------------------------------------------------

    def answer(self, status, body, ctype='application/json', extra=None,
               length=None):
        """Send status, headers and body (body may be None: headers only)."""
        self.send_response(status)
        if ctype:
            self.send_header('Content-Type', ctype)
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            n = length if length is not None else len(body or b'')
            self.send_header('Content-Length', str(n))
        for name, value in extra or []:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if body and not no_body and self.command != 'HEAD':
            self.wfile.write(body)

    def answer_json(self, status, obj):
        self.answer(status, json.dumps(obj).encode())

    def client_gone(self):
        """True when the peer has closed its side (EOF is readable)."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            data = self.connection.recv(4096, socket.MSG_PEEK)
            if not data:
                return True
            self.connection.recv(4096)        # discard (pipelined junk)
            return False
        except OSError:
            return True

    def fault_reset(self):
        """Close with an RST: SO_LINGER {on, 0 s} then close()."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack('ii', 1, 0))
        except OSError:
            pass
        # socket.close() only drops a reference while rfile/wfile hold the
        # socket; detach() + os.close() really closes the descriptor now.
        try:
            os.close(self.connection.detach())
        except OSError:
            pass

    def fault_hang(self):
        """Never answer; return when the client closes or HANG_MAX_S pass."""
        self.close_connection = True
        state = self.server.state
        port = self.client_address[1]
        with state.lock:
            state.hanging.append(port)
        try:
            deadline = time.monotonic() + HANG_MAX_S
            while time.monotonic() < deadline:
                try:
                    r, _, _ = select.select([self.connection], [], [], 0.25)
                except (OSError, ValueError):
                    return
                if r and self.client_gone():
                    return
        finally:
            with state.lock:
                state.hanging.remove(port)

    def fault_drip(self, status, extra):
        """Announce DRIP_LENGTH bytes of JSON, send one byte per interval."""
        self.close_connection = True
        pad = DRIP_LENGTH - len(b'{"pad":""}')
        body = b'{"pad":"' + b'x' * pad + b'"}'
        self.answer(status, None, extra=extra, length=len(body))
        self.wfile.flush()
        for i in range(len(body)):
            if self.client_gone():
                return
            try:
                self.connection.sendall(body[i:i + 1])
            except OSError:
                return
            time.sleep(DRIP_INTERVAL_S)

    def fault_redirect(self, params, extra):
        """A 3xx (code=, default 302) to Location: to= (verbatim)."""
        try:
            code = int(params.get('code', 302))
        except ValueError:
            code = 302
        to = params.get('to', '/')
        self.answer(code, json.dumps({'redirect': to}).encode(),
                    'application/json', extra + [('Location', to)])

    def send_wire(self, wire, raw, params):
        """Write the answer handle_any() made (raw), framed as wire= says."""
        head, _, body = raw.partition(b'\r\n\r\n')
        lines = head.split(b'\r\n')
        status, fields = lines[0], [l for l in lines[1:]
                                    if not l.lower().startswith(
                                        (b'content-length:', b'connection:'))]

        def framed(extra_fields, payload):
            return b'\r\n'.join([status] + fields + extra_fields) \
                + b'\r\n\r\n' + payload

        out = None
        close = False
        if wire == 'chunked':
            chunks = [body[i:i + 5] for i in range(0, len(body), 5)]
            payload = b''
            for n, c in enumerate(chunks):
                ext = b';x=1' if n == 0 else b''
                payload += b'%x%s\r\n%s\r\n' % (len(c), ext, c)
            payload += b'0\r\nX-Trailer: 1\r\n\r\n'
            out = framed([b'Transfer-Encoding: chunked'], payload)
        elif wire == 'http10':
            status = b'HTTP/1.0' + status[len(b'HTTP/1.1'):]
            out, close = framed([], body), True
        elif wire == 'toclose':
            out, close = framed([b'Connection: close'], body), True
        elif wire == 'interim':
            out = (b'HTTP/1.1 100 Continue\r\n\r\n'
                   b'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n'
                   + framed([b'Content-Length: %d' % len(body)], body))
        elif wire == 'short':
            out = framed([b'Content-Length: %d' % (len(body) + 50)], body)
            close = True
        elif wire == 'extra':
            out = framed([b'Content-Length: %d' % len(body)], body) \
                + b'HTTP/1.1 200 OK\r\n'
        elif wire == 'gzip':
            packed = gzip.compress(body)
            out = framed([b'Content-Encoding: gzip',
                          b'Content-Length: %d' % len(packed)], packed)
        elif wire == 'bighead':
            try:
                size = int(params.get('size', 20000))
            except ValueError:
                size = 20000
            out = framed([b'X-Pad: ' + b'p' * size,
                          b'Content-Length: %d' % len(body)], body)
        elif wire == 'manyheads':
            out = framed([b'X-Pad-%d: %s' % (i, b'p' * 1000)
                          for i in range(80)]
                         + [b'Content-Length: %d' % len(body)], body)
        else:                                # split, quietclose, unknown
            out = framed([b'Content-Length: %d' % len(body)], body)

        try:
            if wire == 'split':
                for i in range(0, len(out), 3):
                    self.connection.sendall(out[i:i + 3])
                    time.sleep(0.002)
            else:
                self.connection.sendall(out)
            if wire == 'quietclose':
                time.sleep(0.1)
                close = True
        except OSError:
            close = True
        if close:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- the dispatcher ------------------------------------------------------

    def handle_any(self):
        path, query = self.split_target()
        state = self.server.state

        if path.startswith('/_'):
            body = self.read_body()
            return self.handle_control(path, body)

        if not getattr(self, 'conn_counted', False):
            self.conn_counted = True
            state.conn_opened()

        headers = {k.lower(): v for k, v in self.headers.items()}
        entry, nth = state.record(self.command, path, query, headers)
        body = self.read_body()
        entry['body'] = body.decode('utf-8', 'replace')

        params = {}
        extra_headers = []
        for name, value in urllib.parse.parse_qsl(query,
                                                  keep_blank_values=True):
            if name == 'header':
                extra_headers.append(value)
            else:
                params[name] = value
        state.params_for(path, params)
        if 'header' in params:               # from an override
            extra_headers.append(params.pop('header'))

        try:
            status = int(params.get('status', 200))
        except ValueError:
            status = 200
        extra = []
        if 'retry_after' in params:
            extra.append(('Retry-After', params['retry_after']))
        if 'rl_limit' in params:
            extra.extend(state.rate_limit_headers(params))
        for h in extra_headers:
            name, _, value = h.partition(':')
            if name.strip():
                extra.append((name.strip(), value.strip()))
        if params.get('close') in ('1', 'true', 'yes'):
            self.close_connection = True

        try:
            delay = float(params.get('delay', 0)) / 1000.0
        except ValueError:
            delay = 0.0
        if delay > 0:
            time.sleep(delay)

        try:
            fail_first = int(params.get('fail_first', 0))
        except ValueError:
            fail_first = 0
        if nth <= fail_first:
            try:
                fail_status = int(params.get('fail_status', 503))
            except ValueError:
                fail_status = 503
            return self.answer(fail_status, b'{}', 'application/json', extra)

        fault = params.get('fault', '')
        ctype = params.get('ctype')

        if fault == 'reset':
            return self.fault_reset()
        if fault == 'hang':
            return self.fault_hang()
        if fault == 'drip':
            return self.fault_drip(status, extra)
        if fault == 'huge':
            try:
                size = int(params.get('size', HUGE_DEFAULT))
            except ValueError:
                size = HUGE_DEFAULT
            return self.answer(status, huge_body(size),
                               ctype or 'application/json', extra)
        if fault == 'invalid':
            return self.answer(status, INVALID_JSON,
                               ctype or 'application/json', extra)
        if fault == 'html':
            return self.answer(status, HTML_BODY,
                               ctype or 'text/html', extra)
        if fault == 'nested':
            try:
                depth = int(params.get('depth', NESTED_DEFAULT))
            except ValueError:
                depth = NESTED_DEFAULT
            return self.answer(status, b'[' * depth + b'1' + b']' * depth,
                               ctype or 'application/json', extra)
        if fault == 'wide':
            try:
                members = int(params.get('members', WIDE_DEFAULT))
                elements = int(params.get('elements', 0))
                first = int(params.get('from', 0))
            except ValueError:
                members, elements, first = WIDE_DEFAULT, 0, 0
            return self.answer(status, wide_body(members, elements, first),
                               ctype or 'application/json', extra)
        if fault == 'badutf8':
            return self.answer(status, BADUTF8_JSON,
                               ctype or 'application/json', extra)
        if fault == 'redirect':
            return self.fault_redirect(params, extra)
        if fault == 'echokey':
            return self.answer(status,
                               echokey_body(path, query, headers, body),
                               ctype or 'application/json', extra)
        if fault:
            return self.answer_json(400, {'fixture_error':
                                          'unknown fault %r' % fault})

        name = params.get('body', 'echo')
        if name == 'echo':
            segment = path.rstrip('/').rsplit('/', 1)[-1]
            payload = json.dumps({
                'path': path,
                'query': query,
                'method': self.command,
                'target': urllib.parse.unquote(segment, errors='replace'),
                'ok': True,
                'n': 42,
                'nested': {'country': 'US', 'asn': 15169,
                           'tags': ['a', 'b']},
            }).encode()
            return self.answer(status, payload, ctype or 'application/json',
                               extra)

        data = load_body(self.server.bodies_dir, name)
        if data is None:
            return self.answer_json(500, {'fixture_error':
                                          'no canned body %r' % name})
        return self.answer(status, data, ctype or 'application/json', extra)

    def handle_control(self, path, body):
        state = self.server.state
        if path == '/_calls':
            return self.answer_json(200, state.calls())
        if path == '/_log':
            return self.answer_json(200, state.log_copy())
        if path == '/_conns':
            return self.answer_json(200, state.conns(self.command == 'POST'))
        if path == '/_reset':
            state.reset()
            return self.answer_json(200, {'ok': True})
        if path == '/_control':
            try:
                req = json.loads(body.decode() or '{}')
                if not isinstance(req, dict):
                    raise ValueError('not an object')
            except ValueError as e:
                return self.answer_json(400, {'fixture_error': str(e)})
            with state.lock:
                if req.get('clear'):
                    state.overrides.clear()
                if 'prefix' in req:
                    prefix = str(req['prefix'])
                    params = req.get('params')
                    if params is None:
                        state.overrides.pop(prefix, None)
                    else:
                        state.overrides[prefix] = {str(k): str(v) for k, v
                                                   in params.items()}
                overrides = dict(state.overrides)
            return self.answer_json(200, {'ok': True,
                                          'overrides': overrides})
        return self.answer_json(404, {'fixture_error':
                                      'unknown control path %r' % path})


def huge_body(size):
    """A valid JSON document of exactly size bytes."""
    frame = len(b'{"pad":""}')
    if size >= frame:
        return b'{"pad":"' + b'x' * (size - frame) + b'"}'
    return b'1' * max(size, 1)            # a JSON number of size digits


def echokey_body(path, query, headers, body=b''):
    """fault=echokey: a JSON text quoting the key in many encodings, built
    by hand where json.dumps() would not write the escapes."""
    key = headers.get('x-key')
    for form in (query, body.decode('utf-8', 'replace')):
        if key is None:
            key = dict(urllib.parse.parse_qsl(form, keep_blank_values=True)
                       ).get('key')
    key = key or ''
    raw = key.encode('utf-8', 'surrogateescape')
    url = path + ('?' + query if query else '')
    lower = re.sub(r'%[0-9A-F]{2}', lambda m: m.group(0).lower(), url)
    pct = ''.join('%%%02x' % b for b in raw)

    def esc(s):
        return json.dumps(s)[1:-1]

    # every other byte percent-encoded, the "%" itself JSON-escaped
    mixed = ''.join(('\\u0025%02X' % b) if i % 2 else esc(chr(b))
                    for i, b in enumerate(raw))

    members = [
        ('url', json.dumps(url)),
        ('url_lower', json.dumps(lower)),
        ('headers', json.dumps(headers)),
        ('key', json.dumps(key)),
        ('key_slash', '"' + esc(key).replace('/', '\\/') + '"'),
        ('key_u', '"' + ''.join('\\u%04x' % b for b in raw) + '"'),
        ('key_U', '"' + ''.join('\\u%04X' % b for b in raw) + '"'),
        ('key_form', json.dumps(urllib.parse.quote_plus(key))),
        ('key_pct_lower', json.dumps(pct)),
        ('key_mixed', '"' + mixed + '"'),
    ]
    return ('{' + ', '.join('"%s": %s' % m for m in members)
            + '}').encode()


def wide_body(members, elements, first):
    """{"0":1,"1":1,...,"list":[first,...]}: member names in base 36."""
    digits = '0123456789abcdefghijklmnopqrstuvwxyz'

    def b36(n):
        s = ''
        while True:
            n, r = divmod(n, 36)
            s = digits[r] + s
            if n == 0:
                return s

    parts = ['"%s":1' % b36(i) for i in range(members)]
    parts.append('"list":[%s]' % ','.join(str(first + i)
                                          for i in range(elements)))
    return ('{' + ','.join(parts) + '}').encode()


def load_body(bodies_dir, name):
    if not BODY_NAME_RE.match(name) or name.startswith('.'):
        return None
    try:
        with open(os.path.join(bodies_dir, name + '.json'), 'rb') as f:
            return f.read()
    except OSError:
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # Clients going away mid-answer is routine here; stay quiet.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--port', type=int, required=True,
                    help='port on 127.0.0.1 (0: any free port)')
    ap.add_argument('--bodies', default=os.path.join(here, 'bodies'),
                    help='directory of canned NAME.json bodies')
    ap.add_argument('--verbose', action='store_true',
                    help='log requests on stderr')
    ap.add_argument('--tls-cert', help='serve HTTPS with this certificate')
    ap.add_argument('--tls-key', help='private key of --tls-cert')
    args = ap.parse_args()

    server = Server(('127.0.0.1', args.port), Handler)

    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.state = State(args.bodies)
    server.bodies_dir = args.bodies
    server.verbose = args.verbose

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    sys.stdout.write('READY %d\n' % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    # Handler threads are daemons: a hanging or dripping one must not keep
    # the process alive.
    os._exit(0)


if __name__ == '__main__':
    main()
