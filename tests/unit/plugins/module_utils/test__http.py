# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import socket
import ssl

import pytest
from httpd import QuietHandler, serving
from pki import Pki, key_pem, pem

from ansible_collections.opsnotes.edge.plugins.module_utils import _http

NAME = 'www.example.test'


class Handler(QuietHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        self.server.seen.append((self.path, dict(self.headers)))
        self.reply(200, b'x' * 70000, {'X-Backend': 'b7'})


@pytest.fixture
def server():
    with serving(Handler) as httpd:
        httpd.seen = []
        yield httpd


def test_one_get_sends_the_target_as_given_with_the_host_named(server):
    with _http.Client('127.0.0.1', server.server_port, 5) as client:
        assert client.connect() == '127.0.0.1:%d' % server.server_port and client.local == '127.0.0.1'
        response = client.get('/a/../b?c=1', NAME, 'probe/1', limit=10)
    assert (response.status, response.reason, response.headers['x-backend']) == (200, 'OK', 'b7')
    assert response.body == b'x' * 10 and response.text() == 'x' * 10
    path, headers = server.seen[0]
    assert path == '/a/../b?c=1'
    assert (headers['Host'], headers['User-Agent'], headers['Connection'], headers['Accept']) == (
        NAME, 'probe/1', 'close', '*/*')
    assert client.sock is None
    assert len(_http.get('127.0.0.1', server.server_port, '/', NAME, 5, 'probe/1').body) == 65536


def test_each_stage_raises_what_failed(tmp_path):
    unused = socket.socket()
    unused.bind(('127.0.0.1', 0))
    port = unused.getsockname()[1]
    unused.close()
    with pytest.raises(OSError):
        _http.Client('127.0.0.1', port, 2).connect()
    pki = Pki()
    private, leaf = pki.leaf('ecdsa', ['other.example.test'])
    (tmp_path / 'key.pem').write_text(key_pem(private))
    (tmp_path / 'chain.pem').write_text(pem(leaf, pki.inter))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / 'chain.pem'), str(tmp_path / 'key.pem'))
    with serving(Handler, context) as httpd:
        httpd.seen = []
        client = _http.Client('127.0.0.1', httpd.server_port, 5)
        client.connect()
        trust = ssl.create_default_context(cadata=pem(pki.root))
        with pytest.raises(ssl.SSLCertVerificationError):
            client.start_tls(trust, NAME)
        assert client.sock is None                    # closed on a failed handshake
        with _http.Client('127.0.0.1', httpd.server_port, 5) as client:
            client.connect()
            client.start_tls(trust, 'other.example.test')
            assert client.get('/', 'other.example.test', 'probe/1').status == 200
