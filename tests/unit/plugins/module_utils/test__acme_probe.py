# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from httpd import QuietHandler, serving

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_probe


class Handler(QuietHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        self.server.paths.append((self.path, self.headers['Host']))
        if self.path.startswith('/redirect'):
            return self.reply(301, b'', {'Location': 'https://x.example.org/'})
        return self.reply(200, ('raw %s' % self.path).encode())


@pytest.fixture
def http_server():
    with serving(Handler) as server:
        server.paths = []
        yield server


def test_http_get_sends_the_path_unnormalised_with_the_host_header(http_server):
    status, headers, body = _acme_probe.http_get('127.0.0.1', http_server.server_port, '/a/..%2fb/../c', 'x.example.org', 5)
    assert status == 200 and body == 'raw /a/..%2fb/../c'
    assert http_server.paths == [('/a/..%2fb/../c', 'x.example.org')]
    status, headers, _body = _acme_probe.http_get('127.0.0.1', http_server.server_port, '/redirect', 'x.example.org', 5)
    assert status == 301 and headers['location'] == 'https://x.example.org/'


@pytest.mark.parametrize('status, headers, body, fragment', [
    (301, {'location': 'https://a/'}, '', 'HTTP 301 redirect to https://a/ instead of the token: the port-80 server '
                                          'has no location ^~ /.well-known/acme-challenge/'),
    (404, {}, '', 'HTTP 404: the server does not serve /w at /.well-known/acme-challenge/'),
    (200, {}, 'hello', "HTTP 200 but the body is not the token: 'hello'"),
    (502, {}, '', 'HTTP 502 instead of the token'),
])
def test_explain_token_miss(status, headers, body, fragment):
    assert fragment in _acme_probe.explain_token_miss(status, headers, body, '/w')
