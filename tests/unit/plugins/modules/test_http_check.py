# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""http_check against real HTTP and HTTPS servers on 127.0.0.1, reached by address under a name that does not resolve."""

from __future__ import annotations

import re
import ssl

import pytest
from httpd import QuietHandler, serving
from pki import Pki, key_pem, pem

from ansible_collections.opsnotes.edge.plugins.modules import http_check

NAME = 'www.site.invalid'  # .invalid never resolves: every request here must go through address


class Handler(QuietHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):  # noqa: N802 - http.server API
        self.server.seen.append((self.requestline, self.headers['Host']))
        self.server.peers.append(self.client_address[0])
        if self.path.startswith('/old'):
            return self.reply(301, b'', {'Location': 'https://%s/new' % NAME})
        if self.path.startswith('/missing'):
            return self.reply(404, b'not found')
        return self.reply(200, b'  served by backend-7\n' + b'x' * 500)


@pytest.fixture
def http_server():
    with serving(Handler) as httpd:
        httpd.seen, httpd.peers = [], []
        yield httpd


@pytest.fixture(scope='module')
def pki():
    return Pki()


@pytest.fixture
def https_server(pki, tmp_path):
    private, leaf = pki.leaf('ecdsa', [NAME])
    (tmp_path / 'key.pem').write_text(key_pem(private))
    (tmp_path / 'chain.pem').write_text(pem(leaf, pki.inter))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / 'chain.pem'), str(tmp_path / 'key.pem'))
    with serving(Handler, context) as httpd:
        httpd.seen, httpd.peers, httpd.leaf_serial = [], [], leaf.serial_number
        yield httpd


def test_http_through_an_address_with_the_url_host_as_host_header(run_module, http_server):
    port = http_server.server_port
    result, failed = run_module(http_check, dict(url='http://%s:%d/shop?a=1' % (NAME, port), address='127.0.0.1'))
    assert not failed and result['ok'] and result['changed'] is False
    assert result['status'] == 200 and result['peer'] == '127.0.0.1:%d' % port
    assert result['body'].startswith('served by backend-7') and len(result['body']) == http_check.BODY_CHARS
    assert result['tls'] == {} and 'probe' not in result and result['reason'] == ''
    assert http_server.seen == [('GET /shop?a=1 HTTP/1.1', '%s:%d' % (NAME, port))]


def test_marker_gives_the_access_log_request_line(run_module, http_server):
    url = 'http://%s:%d/shop?a=1' % (NAME, http_server.server_port)
    result, failed = run_module(http_check, dict(url=url, address='127.0.0.1', marker=True))
    assert not failed and result['ok']
    marker = result['probe']['marker']
    assert re.match(r'^opsnotes-probe-[0-9a-f]{32}$', marker)
    assert result['url'] == url + '&' + marker
    # What the server logged as its request line is exactly what the module says the log will hold.
    assert http_server.seen[0][0] == result['probe']['line'] == 'GET /shop?a=1&%s HTTP/1.1' % marker
    assert result['probe']['sent_at'] > 0
    # The address the server saw the request come from: what its access log line names.
    assert result['probe']['client'] == http_server.peers[0] == '127.0.0.1'
    url = 'http://%s:%d' % (NAME, http_server.server_port)
    again, again_failed = run_module(http_check, dict(url=url, address='127.0.0.1', marker=True))
    assert not again_failed and again['probe']['marker'] != marker
    assert again['probe']['line'].startswith('GET /?opsnotes-probe-')


def test_unexpected_status_and_redirects(run_module, http_server):
    base = 'http://%s:%d' % (NAME, http_server.server_port)
    result, failed = run_module(http_check, dict(url=base + '/missing', address='127.0.0.1'))
    assert failed and result['status'] == 404 and 'HTTP 404 Not Found from 127.0.0.1:' in result['msg']
    assert 'expected 200' in result['msg']
    result, failed = run_module(http_check, dict(url=base + '/old', address='127.0.0.1'))
    assert failed and '(Location: https://%s/new)' % NAME in result['msg']
    result, failed = run_module(http_check, dict(url=base + '/old', address='127.0.0.1', expect_status=[301, 308]))
    assert not failed and result['ok'] and result['location'] == 'https://%s/new' % NAME
    result, failed = run_module(http_check, dict(url=base + '/missing', address='127.0.0.1', fail_on_error=False),
                                check_mode=True)
    assert not failed and not result['ok'] and result['status'] == 404


def test_https_verified_against_the_given_ca_for_the_url_host(run_module, https_server, pki):
    url = 'https://%s:%d/' % (NAME, https_server.server_port)
    result, failed = run_module(http_check, dict(url=url, address='127.0.0.1', ca=pem(pki.root), marker=True))
    assert not failed and result['ok'], result.get('msg')
    tls = result['tls']
    assert tls['verified'] and tls['subject'] == NAME and tls['issuer'] == 'Test Intermediate'
    assert tls['version'].startswith('TLSv1.') and tls['cipher'] and tls['not_after']
    assert tls['serial'] == '%x' % https_server.leaf_serial
    assert https_server.seen[0][1] == '%s:%d' % (NAME, https_server.server_port)


def test_https_fails_on_an_untrusted_or_wrong_name_certificate(run_module, https_server, pki):
    port = https_server.server_port
    result, failed = run_module(http_check, dict(url='https://%s:%d/' % (NAME, port), address='127.0.0.1'))
    assert failed and result['msg'].startswith('certificate verify failed for %s' % NAME)
    assert 'connected to 127.0.0.1:%d' % port in result['msg'] and result['status'] is None
    other = Pki()
    result, failed = run_module(http_check, dict(url='https://%s:%d/' % (NAME, port), address='127.0.0.1',
                                                 ca=pem(other.root)))
    assert failed and 'certificate verify failed' in result['msg']
    result, failed = run_module(http_check, dict(url='https://other.invalid:%d/' % port, address='127.0.0.1',
                                                 ca=pem(pki.root)))
    assert failed and result['msg'].startswith('certificate verify failed for other.invalid')
    assert 'mismatch' in result['msg']
    result, failed = run_module(http_check, dict(url='https://%s:%d/' % (NAME, port), address='127.0.0.1',
                                                 validate_certs=False))
    assert not failed and result['ok'] and result['tls']['verified'] is False and 'subject' not in result['tls']
    assert https_server.seen  # only the unverified request reached the handler
    assert len(https_server.seen) == 1


def test_a_ca_that_is_not_pem_is_named_before_connecting(run_module, https_server):
    result, failed = run_module(http_check, dict(url='https://%s:%d/' % (NAME, https_server.server_port),
                                                 address='127.0.0.1', ca='not a certificate'))
    assert failed and result['msg'].startswith('ca holds no usable PEM certificate') and result['peer'] is None
    assert https_server.seen == []


def test_tls_to_a_plain_http_port_is_a_handshake_failure(run_module, http_server):
    result, failed = run_module(http_check, dict(url='https://%s:%d/' % (NAME, http_server.server_port),
                                                 address='127.0.0.1', timeout=3))
    assert failed and result['msg'].startswith('TLS handshake with 127.0.0.1:')


def test_connection_refused_and_bad_urls(run_module):
    result, failed = run_module(http_check, dict(url='http://%s:1/' % NAME, address='127.0.0.1'))
    assert failed and result['msg'].startswith('could not connect to 127.0.0.1:1') and result['peer'] is None
    result, failed = run_module(http_check, dict(url='ftp://%s/' % NAME))
    assert failed and 'must start with http:// or https://' in result['msg']
    result, failed = run_module(http_check, dict(url='http:///nohost'))
    assert failed and 'has no host' in result['msg']
    result, failed = run_module(http_check, dict(url='http://%s:99999/' % NAME))
    assert failed and 'invalid port' in result['msg']


def test_parse_url_host_header():
    assert http_check.parse_url('https://a.test/x')[1:] == ('a.test', 443, '/x', 'a.test')
    assert http_check.parse_url('http://a.test:8080')[1:] == ('a.test', 8080, '/', 'a.test:8080')
    assert http_check.parse_url('http://[2001:db8::1]:81/?q')[1:] == ('2001:db8::1', 81, '/?q', '[2001:db8::1]:81')


def test_tls_policy_judges_the_server_of_the_connect_address(run_module, https_server, pki):
    """Python's default server context accepts TLS 1.2 CBC suites, which Mozilla's intermediate profile does not:
    the request itself succeeds, the verdict fails the check and names them."""
    url = 'https://%s:%d/' % (NAME, https_server.server_port)
    args = dict(url=url, address='127.0.0.1', ca=pem(pki.root), tls_policy='intermediate')
    result, failed = run_module(http_check, args)
    policy = result['tls']['policy']
    assert failed and result['status'] == 200 and not result['ok']
    assert policy['server_name'] == NAME and policy['address'] == '127.0.0.1:%d' % https_server.server_port
    assert policy['versions']['TLSv1.1'] is False and policy['versions']['TLSv1.3'] is True
    assert policy['ciphers'] and not set(policy['ciphers']) & {'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'}
    assert result['msg'] == policy['summary'] and policy['summary'].startswith(
        'not Mozilla intermediate: accepts TLS 1.2 suites outside the profile: ')
    # Without the option, nothing is judged.
    result, failed = run_module(http_check, dict(args, tls_policy='none'))
    assert not failed and 'policy' not in result['tls']


def test_tls_policy_is_not_asked_of_plain_http(run_module, http_server):
    url = 'http://%s:%d/' % (NAME, http_server.server_port)
    result, failed = run_module(http_check, dict(url=url, address='127.0.0.1', tls_policy='intermediate'))
    assert not failed and result['ok'] and result['tls'] == {}


class _Peer:
    """A TLS socket's view of its peer's verified certificate, as ssl's getpeercert() gives it."""

    def __init__(self, cert):
        self.cert = cert

    def version(self):
        return 'TLSv1.3'

    def cipher(self):
        return ('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256)

    def getpeercert(self):
        return self.cert


def test_a_certificate_without_a_common_name_is_named_by_its_first_dns_name():
    # Let's Encrypt's tlsserver and shortlived profiles leave the subject empty: the name is in subjectAltName only.
    names = (('DNS', 'www.example.test'), ('DNS', 'example.test'), ('IP Address', '192.0.2.1'))
    cert = {'subject': (), 'issuer': ((('commonName', 'Pebble Intermediate'),),), 'serialNumber': '0A1B',
            'notAfter': 'Jan 20 12:00:00 2027 GMT', 'subjectAltName': names}
    details = http_check.tls_details(_Peer(cert), True)
    assert details['subject'] == 'www.example.test' and details['names'] == ['www.example.test', 'example.test']
    assert details['serial'] == 'a1b' and details['issuer'] == 'Pebble Intermediate'
    # Control: a common name is still preferred, and an unverified peer gives no names at all.
    with_cn = dict(cert, subject=((('commonName', 'cn.example.test'),),))
    assert http_check.tls_details(_Peer(with_cn), True)['subject'] == 'cn.example.test'
    assert 'subject' not in http_check.tls_details(_Peer(cert), False)
