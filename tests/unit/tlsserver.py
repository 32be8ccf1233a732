# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TLS server on 127.0.0.1 for the unit tests that handshake with one: it accepts handshakes with the given
(cert, key) pairs loaded into one context, as nginx holds an RSA and an ECDSA certificate side by side."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings

from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import INTERMEDIATE


class TlsServer(object):
    """``configure(context)`` may set protocol versions and ciphers before the server listens."""

    def __init__(self, pairs, configure=None):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        for cert, key in pairs:
            self.context.load_cert_chain(cert, key)
        if configure:
            configure(self.context)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self):
        self.sock.close()


def intermediate(context):
    """A server on Mozilla's intermediate profile: TLS 1.2 and 1.3, its TLS 1.2 suites, a group inside it (so X448
    and secp521r1 are refused)."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(':'.join(INTERMEDIATE['ciphers']))
    context.set_ecdh_curve('prime256v1')


def lax(context):
    """A server that takes anything its library can: TLS 1.0 up, every suite, the default groups."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers('ALL:@SECLEVEL=0')
