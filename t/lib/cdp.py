#!/usr/bin/env python3
"""Headless Chromium kept open on one page, driven over the DevTools
protocol through a pipe (--remote-debugging-pipe: no port, no websocket):
for the tests of the ops page that need the same page across time (its
ring of samples), a click, a confirm() or the list of what it loaded.
Python 3 standard library only.

Usage:  python3 t/lib/cdp.py [--limit SECONDS] [--log FILE] URL

Reads one JSON command a line on stdin, writes one JSON answer a line on
stdout:
  {"cmd": "eval", "expr": JS}    -> {"value": the expression's value,
                                      awaited if a promise, by value}
  {"cmd": "shot", "path": FILE}  -> {"bytes": N}: a PNG screenshot
  {"cmd": "requests"}            -> {"requests": [{"method", "url"}, ...]}:
                                      every request the page made so far
  {"cmd": "dialogs"}             -> {"dialogs": [{"type", "message"}]}:
                                      every dialog so far
  {"cmd": "accept", "value": B}  -> {}: later dialogs accepted (true, the
                                      default) or dismissed (false)
Errors answer {"error": "..."}.  Chromium runs in its own process group
with a fresh profile; stdin's end, SIGTERM or --limit (default 120 s)
ends it and the group, and removes the profile.
"""

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
         '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync',
         '--disable-extensions', '--disable-breakpad',
         '--no-default-browser-check', '--mute-audio', '--hide-scrollbars',
         '--disable-dev-shm-usage', '--window-size=1600,900',
         '--remote-debugging-pipe']

STEP = 30          # s: at most for one protocol call


class Browser:
    def __init__(self, chromium, log):
        self.profile = tempfile.mkdtemp(prefix='osint-cdp-')
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads fd 3 and writes fd 4
        def fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        self.proc = subprocess.Popen(
            [chromium] + FLAGS + ['--user-data-dir=' + self.profile,
                                  'about:blank'],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            preexec_fn=fds, pass_fds=(3, 4),
            start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id = 0
        self.answers = {}
        self.events = queue.Queue()
        self.cond = threading.Condition()
        self.session = None
        self.requests = []
        self.dialogs = []
        self.accept = True
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self.from_chrome, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                with self.cond:
                    self.answers['eof'] = True
                    self.cond.notify_all()
                return
            buf += chunk
            while b'\0' in buf:
                msg, buf = buf.split(b'\0', 1)
                self.dispatch(json.loads(msg))

    def dispatch(self, msg):
        if 'id' in msg:
            with self.cond:
                self.answers[msg['id']] = msg
                self.cond.notify_all()
            return
        method, params = msg.get('method'), msg.get('params', {})
        if method == 'Network.requestWillBeSent':
            req = params.get('request', {})
            self.requests.append({'method': req.get('method'),
                                  'url': req.get('url')})
        elif method == 'Page.javascriptDialogOpening':
            self.dialogs.append({'type': params.get('type'),
                                 'message': params.get('message')})
            self.send('Page.handleJavaScriptDialog', {'accept': self.accept},
                      wait=False)

    def send(self, method, params=None, session=True, wait=True):
        with self.cond:
            self.next_id += 1
            mid = self.next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session and self.session:
            msg['sessionId'] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b'\0')
        if not wait:
            return None
        deadline = time.monotonic() + STEP
        with self.cond:
            while mid not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0 or 'eof' in self.answers:
                    raise RuntimeError('no answer to %s' % method)
                self.cond.wait(left)
            ans = self.answers.pop(mid)
        if 'error' in ans:
            raise RuntimeError('%s: %s' % (method, ans['error']))
        return ans.get('result', {})

    def open(self, url):
        targets = self.send('Target.getTargets', session=False)
        page = [t for t in targets['targetInfos'] if t['type'] == 'page'][0]
        self.session = self.send('Target.attachToTarget',
                                 {'targetId': page['targetId'],
                                  'flatten': True},
                                 session=False)['sessionId']
        for domain in ('Page', 'Network', 'Runtime'):
            self.send(domain + '.enable')
        self.send('Page.navigate', {'url': url})

    def command(self, c):
        cmd = c.get('cmd')
        if cmd == 'eval':
            r = self.send('Runtime.evaluate',
                          {'expression': c['expr'], 'returnByValue': True,
                           'awaitPromise': True})
            if 'exceptionDetails' in r:
                return {'error': json.dumps(r['exceptionDetails'])[:2000]}
            return {'value': r.get('result', {}).get('value')}
        if cmd == 'shot':
            import base64
            data = base64.b64decode(
                self.send('Page.captureScreenshot', {'format': 'png'})['data'])
            with open(c['path'], 'wb') as f:
                f.write(data)
            return {'bytes': len(data)}
        if cmd == 'requests':
            return {'requests': list(self.requests)}
        if cmd == 'dialogs':
            return {'dialogs': list(self.dialogs)}
        if cmd == 'accept':
            self.accept = bool(c.get('value'))
            return {}
        return {'error': 'unknown command %r' % cmd}

    def close(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except OSError:
                break
            try:
                self.proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=float, default=120)
    ap.add_argument('--log', default=os.devnull)
    ap.add_argument('url')
    args = ap.parse_args()

    chromium = os.environ.get('OSINT_CHROMIUM', '/usr/bin/chromium')
    log = open(args.log, 'ab')
    b = Browser(chromium, log)

    def bye(signum, frame):
        b.close()
        os._exit(1)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGALRM, bye)
    signal.alarm(int(args.limit))

    try:
        b.open(args.url)
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                out = b.command(json.loads(line))
            except Exception as e:          # noqa: BLE001 - to the test
                out = {'error': str(e)}
            sys.stdout.write(json.dumps(out) + '\n')
            sys.stdout.flush()
    finally:
        b.close()


if __name__ == '__main__':
    main()
