#!/usr/bin/env python
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test backend: answers every request with "<hostname>:<port> <path>", optionally slowly (?sleep=SECONDS)."""

import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1])
NAME = '%s:%d' % (socket.gethostname(), PORT)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        delay = float(parse_qs(urlsplit(self.path).query).get('sleep', ['0'])[0])
        time.sleep(min(delay, 30))
        body = ('%s %s\n' % (NAME, self.path)).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(('0.0.0.0', PORT), Handler).serve_forever()
