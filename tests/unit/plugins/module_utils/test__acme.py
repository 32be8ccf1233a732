# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime

import pytest
from httpd import QuietHandler, serving
from pki import NOW, Pki, pem

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme


@pytest.fixture(scope='module')
def pki():
    return Pki()


@pytest.mark.parametrize('domain, fragment', [
    ('www.example.org', None),
    ('xn--bcher-kva.example', None),
    ('example.org.', None),
    ('www example.org', 'contains whitespace'),
    ('*.example.org', 'wildcard; http-01 cannot validate'),
    ('localhost', 'not a valid DNS name'),
    ('-bad.example.org', 'not a valid DNS name'),
    ('a_b.example.org', 'not a valid DNS name'),
    ('10.0.0.1', 'IP address'),
    ('', 'non-empty DNS name'),
    (None, 'non-empty DNS name'),
])
def test_domain_errors(domain, fragment):
    errors = _acme.domain_errors(domain, 'x.domains[0]')
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith('x.domains[0]: ') and fragment in errors[0]


def test_sites_errors_name_the_variable_and_value():
    sites = [
        {'name': 'ok', 'domains': ['a.example.org'], 'webroot': '/srv/acme'},
        {'name': 'ok', 'domains': [], 'webroot': 'relative/dir'},
        {'name': 'bad name', 'domains': ['a.example.org'], 'upstream': 'http://x;', 'root': '/srv', 'extra': 1},
        'not a dict',
        {'name': 'root', 'domains': ['b.example.org'], 'root': '/'},
    ]
    errors = _acme.sites_errors(sites, ['rsa', 'dsa', 'rsa'])
    expected = [
        "nginx_acme_key_types[1]: 'dsa' is not a key type (choose from rsa, ecdsa)",
        "nginx_acme_key_types: ['rsa', 'dsa', 'rsa'] lists a key type twice",
        "nginx_acme_sites[1].name: 'ok' is already defined",
        "nginx_acme_sites[1].domains: [] must be a non-empty list of DNS names",
        "nginx_acme_sites[1].webroot: 'relative/dir' must be an absolute path",
        "nginx_acme_sites[2].name: 'bad name' must be 1-64 letters",
        "nginx_acme_sites[2].domains[0]: 'a.example.org' is already served by nginx_acme_sites[0]",
        "nginx_acme_sites[2]: set upstream or root, not both",
        "nginx_acme_sites[2].upstream: 'http://x;' must be an http://",
        "nginx_acme_sites[2]: unknown keys extra",
        "nginx_acme_sites[3]: must be a dict",
        "nginx_acme_sites[4].root: '/' must be a normalised absolute path other than /",
    ]
    assert len(errors) == len(expected), errors
    for message, prefix in zip(errors, expected, strict=True):
        assert message.startswith(prefix), (message, prefix)


def test_sites_errors_accept_a_good_list_and_refuse_bad_key_type_shapes():
    assert _acme.sites_errors([{'name': 's', 'domains': ['s.example.org'], 'upstream': 'unix:/run/app.sock',
                                'hsts': True}], ['ecdsa']) == []
    assert _acme.sites_errors([], []) == ["nginx_acme_key_types: [] must be a non-empty list of rsa, ecdsa"]
    assert _acme.sites_errors('x', ['rsa']) == ['nginx_acme_sites: must be a list of sites']


# Spaces and ';' are quoted by the nginx layer; '$' (a variable to nginx) and line ends have no safe rendering.
@pytest.mark.parametrize('path, ok', [('/srv/a', True), ('srv/a', False), ('/srv/../etc', False), ('/srv/a b', True),
                                      ('/', False), ('/srv/a;', True), (None, False), ('/srv/$host', False),
                                      ('/srv/a\n', False), ('/srv/a\\', True)])
def test_absolute_path_errors(path, ok):
    assert (_acme.absolute_path_errors(path, 'w') == []) is ok


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
    status, headers, body = _acme.http_get('127.0.0.1', http_server.server_port, '/a/..%2fb/../c', 'x.example.org', 5)
    assert status == 200 and body == 'raw /a/..%2fb/../c'
    assert http_server.paths == [('/a/..%2fb/../c', 'x.example.org')]
    status, headers, _body = _acme.http_get('127.0.0.1', http_server.server_port, '/redirect', 'x.example.org', 5)
    assert status == 301 and headers['location'] == 'https://x.example.org/'


@pytest.mark.parametrize('status, headers, body, fragment', [
    (301, {'location': 'https://a/'}, '', 'HTTP 301 redirect to https://a/ instead of the token: the port-80 server '
                                          'has no location ^~ /.well-known/acme-challenge/'),
    (404, {}, '', 'HTTP 404: the server does not serve /w at /.well-known/acme-challenge/'),
    (200, {}, 'hello', "HTTP 200 but the body is not the token: 'hello'"),
    (502, {}, '', 'HTTP 502 instead of the token'),
])
def test_explain_token_miss(status, headers, body, fragment):
    assert fragment in _acme.explain_token_miss(status, headers, body, '/w')


def test_chain_problems(pki):
    _key, leaf = pki.leaf('ecdsa', ['a.example.org'])
    assert _acme.chain_problems([leaf, pki.inter], NOW) == []
    assert _acme.chain_problems([leaf, pki.inter], NOW, anchors=[pki.root]) == []
    other = Pki()
    assert 'does not lead to a trusted root' in _acme.chain_problems([leaf, pki.inter], NOW, anchors=[other.root])[0]
    problems = _acme.chain_problems([leaf, other.inter], NOW)
    assert len(problems) == 1 and 'is not signed by certificate 1' in problems[0]
    assert 'a fullchain is the leaf plus its intermediates' in _acme.chain_problems([leaf], NOW)[0]
    later = NOW + datetime.timedelta(days=400)
    assert any('is not valid now' in p for p in _acme.chain_problems([leaf, pki.inter], later))


def test_inspect_certificate_good_pair(pki, tmp_path):
    item = pki.write_site(tmp_path, 'ecdsa', ['a.example.org', 'www.a.example.org'])
    result = _acme.inspect_certificate(item, 30, NOW)
    assert result['usable'] and not result['due'] and result['problems'] == []
    assert result['key'] == 'ecdsa secp384r1' and result['key_matches'] and result['chain_valid']
    assert result['days_left'] in (89, 90) and result['chain_length'] == 2
    assert result['domains'] == ['a.example.org', 'www.a.example.org'] and result['domains_missing'] == []


@pytest.mark.parametrize('case, fragment, usable', [
    ('missing', 'no certificate at', False),
    ('expiring', 'days left: due since', True),
    ('expired', 'is not valid now', False),
    ('other key', 'does not belong to the key', False),
    ('wrong type', 'has a rsa 2048 key, not ecdsa', False),
    ('names', 'does not cover new.example.org', True),
    ('extra names', 'also covers old.example.org', True),
    ('no chain', 'a fullchain is the leaf plus its intermediates', True),
    ('garbage', 'holds no PEM certificate', False),
])
def test_inspect_certificate_problems_make_it_due(pki, tmp_path, case, fragment, usable):
    names = ['a.example.org']
    if case == 'missing':
        item = dict(name='s', key_type='ecdsa', cert=str(tmp_path / 'nope.pem'), key=str(tmp_path / 'k'), domains=names)
    elif case == 'expiring':
        item = pki.write_site(tmp_path, 'ecdsa', names, days=(-80, 10))
    elif case == 'expired':
        item = pki.write_site(tmp_path, 'ecdsa', names, days=(-90, -1))
    elif case == 'other key':
        item = pki.write_site(tmp_path, 'ecdsa', names, key_of=pki.leaf('ecdsa', names)[0])
    elif case == 'wrong type':
        item = pki.write_site(tmp_path, 'rsa', names)
        item['key_type'] = 'ecdsa'
    elif case == 'names':
        item = pki.write_site(tmp_path, 'ecdsa', names)
        item['domains'] = names + ['new.example.org']
    elif case == 'extra names':
        item = pki.write_site(tmp_path, 'ecdsa', names + ['old.example.org'])
        item['domains'] = names
    elif case == 'no chain':
        item = pki.write_site(tmp_path, 'ecdsa', names, chain=False)
    else:
        item = pki.write_site(tmp_path, 'ecdsa', names)
        (tmp_path / 'ecdsa.fullchain.pem').write_text('not a certificate\n')
    result = _acme.inspect_certificate(item, 30, NOW)
    assert result['due'] is True
    assert result['usable'] is usable
    assert any(fragment in p for p in result['problems']), result['problems']


def test_load_chain_keeps_file_order(pki):
    _key, leaf = pki.leaf('rsa', ['a.example.org'])
    assert [c.subject for c in _acme.load_chain(pem(leaf, pki.inter, pki.root))] == [
        leaf.subject, pki.inter.subject, pki.root.subject]


@pytest.mark.parametrize('hooks, fragment', [
    ([{'command': ['/usr/local/bin/push', '--site', "a b'; reboot"], 'sites': ['s'], 'writable': ['/var/lib/x y']}],
     None),                                                          # any word is one word: no shell
    ('/bin/true', 'nginx_acme_deploy_hooks: must be a list of hooks'),
    (['/bin/true'], 'nginx_acme_deploy_hooks[0]: must be a dict with command'),
    ([{'command': 'systemctl reload haproxy'}],
     "nginx_acme_deploy_hooks[0].command: 'systemctl reload haproxy' must be a non-empty list"),
    ([{'command': []}], 'must be a non-empty list of words'),
    ([{'command': [True]}], 'must be a non-empty list of words'),
    ([{'command': ['systemctl', 'reload']}],
     "nginx_acme_deploy_hooks[0].command[0]: 'systemctl' must be an absolute path"),
    ([{'command': ['/bin/echo', 'a\x00b']}], 'command[1]: '),
    ([{'command': ['/bin/true'], 'sites': 's'}], "sites: 's' must be a list of site names"),
    ([{'command': ['/bin/true'], 'sites': ['t']}], "sites[0]: 't' is not a site of nginx_acme_sites"),
    ([{'command': ['/bin/true'], 'writable': ['relative']}], "writable[0]: 'relative' must be an absolute path"),
    ([{'command': ['/bin/true'], 'writable': ['/srv/a\nb']}], 'writable[0]: '),
    ([{'command': ['/bin/true'], 'writable': '/srv'}], "writable: '/srv' must be a list of paths"),
    ([{'command': ['/bin/true'], 'shell': True}], 'nginx_acme_deploy_hooks[0]: unknown keys shell'),
])
def test_hooks_errors(hooks, fragment):
    errors = _acme.hooks_errors(hooks, ['s'])
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0], errors


def test_a_tls13_only_server_is_probed_per_key_type_with_openssl(tmp_path):
    """Python's ssl cannot offer a TLS 1.3 client's signature algorithms: against a server that refuses TLS 1.2,
    the probe asks openssl s_client for each key type. Without the openssl command it cannot, and says so."""
    import shutil
    import ssl
    import subprocess

    import tlsserver
    from pki import Pki

    def tls13_only(context):
        tlsserver.intermediate(context)
        context.minimum_version = ssl.TLSVersion.TLSv1_3

    def run(argv):
        done = subprocess.run(['timeout', '10'] + argv, input='', capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    pki = Pki()
    items = {kind: pki.write_site(tmp_path, kind, ['www.example.test']) for kind in ('rsa', 'ecdsa')}
    server = tlsserver.TlsServer([(i['cert'], i['key']) for i in items.values()], tls13_only)
    try:
        for kind, item in items.items():
            with open(item['cert']) as handle:
                leaf = _acme.load_chain(handle.read())[0]
            der = _acme.served_leaf('127.0.0.1', server.port, 'www.example.test', kind, 5, shutil.which('openssl'),
                                    run)
            assert der == leaf.public_bytes(_acme._x509()[1].Encoding.DER), kind
        with pytest.raises(ssl.SSLError):
            _acme.served_leaf('127.0.0.1', server.port, 'www.example.test', 'rsa', 5)
    finally:
        server.close()
    with pytest.raises(OSError, match='no TLS 1.3 handshake for an ECDSA-only client'):
        _acme.served_leaf_tls13('openssl', lambda argv: (1, '', 'connect:errno=111'), '::1', 1, 'x', 'ecdsa')
