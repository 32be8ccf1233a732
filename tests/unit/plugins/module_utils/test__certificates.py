# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime

import pytest
from pki import NOW, Pki, pem

from ansible_collections.opsnotes.edge.plugins.module_utils import _certificates


@pytest.fixture(scope='module')
def pki():
    return Pki()


def test_chain_problems(pki):
    _key, leaf = pki.leaf('ecdsa', ['a.example.org'])
    assert _certificates.chain_problems([leaf, pki.inter], NOW) == []
    assert _certificates.chain_problems([leaf, pki.inter], NOW, anchors=[pki.root]) == []
    other = Pki()
    assert 'does not lead to a trusted root' in _certificates.chain_problems([leaf, pki.inter], NOW, anchors=[other.root])[0]
    problems = _certificates.chain_problems([leaf, other.inter], NOW)
    assert len(problems) == 1 and 'is not signed by certificate 1' in problems[0]
    assert 'a fullchain is the leaf plus its intermediates' in _certificates.chain_problems([leaf], NOW)[0]
    later = NOW + datetime.timedelta(days=400)
    assert any('is not valid now' in p for p in _certificates.chain_problems([leaf, pki.inter], later))


def test_inspect_certificate_good_pair(pki, tmp_path):
    item = pki.write_site(tmp_path, 'ecdsa', ['a.example.org', 'www.a.example.org'])
    result = _certificates.inspect_certificate(item, 30, NOW)
    assert result['usable'] and not result['due'] and result['problems'] == []
    assert result['key'] == 'ecdsa secp384r1' and result['key_matches'] and result['chain_valid']
    assert result['days_left'] in (89, 90) and result['chain_length'] == 2
    assert result['domains'] == ['a.example.org', 'www.a.example.org'] and result['domains_missing'] == []
    # Issued a day before NOW for 90 days from NOW: a 91-day lifetime, for the report.
    assert result['lifetime_hours'] == 91 * 24
    assert result['not_before'] == (NOW - datetime.timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')


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
    result = _certificates.inspect_certificate(item, 30, NOW)
    assert result['due'] is True
    assert result['usable'] is usable
    assert any(fragment in p for p in result['problems']), result['problems']


def test_load_chain_keeps_file_order(pki):
    _key, leaf = pki.leaf('rsa', ['a.example.org'])
    assert [c.subject for c in _certificates.load_chain(pem(leaf, pki.inter, pki.root))] == [
        leaf.subject, pki.inter.subject, pki.root.subject]


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
                leaf = _certificates.load_chain(handle.read())[0]
            der = _certificates.served_leaf('127.0.0.1', server.port, 'www.example.test', kind, 5,
                                            shutil.which('openssl'), run)
            assert der == leaf.public_bytes(_certificates._x509()[1].Encoding.DER), kind
        with pytest.raises(ssl.SSLError):
            _certificates.served_leaf('127.0.0.1', server.port, 'www.example.test', 'rsa', 5)
    finally:
        server.close()
    with pytest.raises(OSError, match='no TLS 1.3 handshake for an ECDSA-only client'):
        _certificates.served_leaf_tls13('openssl', lambda argv: (1, '', 'connect:errno=111'), '::1', 1, 'x', 'ecdsa')


def test_the_renewal_reader_asks_an_unreachable_ca_once(pki, tmp_path):
    """Without a directory URL nothing is asked; a directory that cannot be read is not asked again for every
    certificate (a run with ten certificates would wait ten timeouts)."""
    assert _certificates.renewal_reader('', 5) is None
    asked = []

    def refuse(request, timeout):
        asked.append(request.full_url)
        raise OSError('connection refused')
    reader = _certificates.renewal_reader('https://ca.invalid/dir', 5)
    reader.__self__.fetch = refuse
    items = [pki.write_site(tmp_path, kind, ['a.test']) for kind in ('rsa', 'ecdsa')]
    entries = [_certificates.inspect_certificate(item, 30, NOW, renewal_info=reader) for item in items]
    assert asked == ['https://ca.invalid/dir'] and [e['renewal_by'] for e in entries] == ['lifetime', 'lifetime']


def test_a_certificate_without_an_authority_key_identifier_is_not_asked_about(pki, tmp_path):
    from cryptography import x509

    from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_proto
    item = pki.write_site(tmp_path, 'rsa', ['a.test'])
    with open(item['cert'], 'rb') as handle:
        leaf = x509.load_pem_x509_certificates(handle.read())[0]
    assert _acme_proto.ari_id(leaf) == _acme_proto.cert_id(leaf)

    class NoAki(object):
        extensions = x509.Extensions([])
    assert _acme_proto.ari_id(NoAki()) is None
