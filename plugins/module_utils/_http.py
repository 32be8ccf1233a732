# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's one HTTP client, for probes that must control what is sent and where.

A probe connects to an address of its choosing (a VIP, one real server) while naming another host in the Host
header and SNI, sends the request target exactly as given (no normalisation: a traversal probe must reach the
server as written), and reports each stage on its own (connect, TLS handshake, answer) so a failure names where
it happened. One GET per connection, ``Connection: close``.
"""

from __future__ import annotations

import http.client
import socket


class Response(object):
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def text(self):
        return self.body.decode('utf-8', 'replace')


class Client(object):
    """One connection to ``address``:``port``: ``connect``, optionally ``start_tls``, then ``get``. Each step raises
    what failed (OSError; ssl.SSLError, ssl.SSLCertVerificationError; http.client.HTTPException)."""

    def __init__(self, address, port, timeout):
        self.address, self.port, self.timeout = address, int(port), timeout
        self.sock, self.peer, self.local = None, None, None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        """Opens the TCP connection; returns the peer as 'ADDRESS:PORT'."""
        self.sock = socket.create_connection((self.address, self.port), timeout=self.timeout)
        self.peer = '%s:%d' % self.sock.getpeername()[:2]
        self.local = self.sock.getsockname()[0]
        return self.peer

    def start_tls(self, context, server_hostname):
        """TLS over the connection, with ``server_hostname`` as SNI (and the name verified, per ``context``)."""
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        except Exception:
            self.close()
            raise
        return self.sock

    def get(self, target, host_header, user_agent, limit=65536):
        """A Response to ``GET target`` with ``Host: host_header``; the body is at most ``limit`` bytes."""
        conn = http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)
        conn.sock = self.sock
        try:
            conn.putrequest('GET', target, skip_host=True, skip_accept_encoding=True)
            for name, value in (('Host', host_header), ('User-Agent', user_agent), ('Accept', '*/*'),
                                ('Connection', 'close')):
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            body = response.read(limit)
        finally:
            conn.close()
            self.sock = None
        return Response(response.status, response.reason,
                        dict((name.lower(), value) for name, value in response.getheaders()), body)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def get(address, port, target, host_header, timeout, user_agent):
    """A Response to one plain-HTTP GET of ``target`` at ``address``:``port``, named ``host_header``."""
    with Client(address, port, timeout) as client:
        client.connect()
        return client.get(target, host_header, user_agent)
