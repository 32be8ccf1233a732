# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real HTTP(S) server on 127.0.0.1 for the unit tests that probe one: a quiet handler base and a server that
runs in a thread for the duration of a ``with`` block."""

from __future__ import annotations

import contextlib
import http.server
import threading


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Subclasses write do_GET with ``self.reply(status, body, headers)``; nothing is logged to stderr."""

    def reply(self, status, body, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(handler, tls_context=None):
    """An HTTPServer on an ephemeral 127.0.0.1 port (TLS when ``tls_context`` is given), serving in a thread."""
    httpd = http.server.HTTPServer(('127.0.0.1', 0), handler)
    if tls_context is not None:
        httpd.socket = tls_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
