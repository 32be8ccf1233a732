# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""acme_certificate_check on files from a throw-away PKI, probing a real TLS server on 127.0.0.1 that holds an
RSA and an ECDSA certificate side by side, as nginx does."""

from __future__ import annotations

import pytest
from pki import Pki, pem
from tlsserver import TlsServer, intermediate, lax

from ansible_collections.opsnotes.edge.plugins.modules import acme_certificate_check

NAMES = ['a.example.org', 'www.a.example.org']


@pytest.fixture(scope='module')
def pki():
    return Pki()


@pytest.fixture
def site(pki, tmp_path):
    return [pki.write_site(tmp_path, kind, NAMES) for kind in ('rsa', 'ecdsa')]


def run(run_module, certificates, **extra):
    return run_module(acme_certificate_check, dict(certificates=certificates, **extra))


def test_good_site_with_both_key_types_served(run_module, site):
    server = TlsServer([(item['cert'], item['key']) for item in site])
    try:
        result, failed = run(run_module, site, probe=True, probe_port=server.port)
    finally:
        server.close()
    assert not failed and result['ok'] and result['failures'] == [], result
    rsa, ecdsa = result['certificates']
    assert rsa['key'] == 'rsa 2048' and ecdsa['key'] == 'ecdsa secp384r1'
    for entry in (rsa, ecdsa):
        assert entry['usable'] and not entry['due'] and entry['chain_valid'] and entry['key_matches']
        assert [s['domain'] for s in entry['served']] == NAMES and all(s['matches'] for s in entry['served'])
        assert all(s['serial'] == entry['serial'] for s in entry['served'])
        assert 'leaf_der' not in entry


def test_server_with_only_the_rsa_pair_fails_the_ecdsa_probe(run_module, site):
    server = TlsServer([(site[0]['cert'], site[0]['key'])])
    try:
        result, failed = run(run_module, site, probe=True, probe_port=server.port)
    finally:
        server.close()
    assert failed and not result['ok']
    rsa, ecdsa = result['certificates']
    assert rsa['problems'] == [] and all(s['matches'] for s in rsa['served'])
    assert not ecdsa['served'][0]['matches'] and 'ECDSA-only client could not connect' in ecdsa['problems'][0]
    assert result['failures'][0].startswith('site (ecdsa): a.example.org: an ECDSA-only client') or \
        'ECDSA-only client' in result['failures'][0]


def test_server_serving_another_certificate_is_caught(run_module, pki, site, tmp_path):
    other_dir = tmp_path / 'other'
    other_dir.mkdir()
    other = pki.write_site(other_dir, 'ecdsa', NAMES)
    server = TlsServer([(other['cert'], other['key'])])
    try:
        result, failed = run(run_module, site[1:], probe=True, probe_port=server.port)
    finally:
        server.close()
    assert failed and 'is served serial' in result['msg'] and 'not the certificate in the file' in result['msg']


def test_ca_file_checks_the_chain_to_a_root(run_module, pki, site, tmp_path):
    roots = tmp_path / 'roots.pem'
    roots.write_text(pem(pki.root))
    result, failed = run(run_module, site, ca_file=str(roots))
    assert not failed and all(c['chain_valid'] for c in result['certificates'])
    roots.write_text(pem(Pki().root))
    result, failed = run(run_module, site, ca_file=str(roots))
    assert failed and 'does not lead to a trusted root' in result['msg']
    result, failed = run(run_module, site, ca_file=str(tmp_path / 'missing.pem'))
    assert failed and 'cannot read ca_file' in result['msg']


def test_missing_certificates_are_due_and_reported_without_failing(run_module, tmp_path):
    item = dict(name='new', key_type='rsa', cert=str(tmp_path / 'none.pem'), key=str(tmp_path / 'none.key'),
                domains=NAMES)
    result, failed = run(run_module, [item], fail_on_error=False)
    assert not failed and not result['ok'] and result['changed'] is False
    entry = result['certificates'][0]
    assert entry['due'] and not entry['exists'] and not entry['usable']
    assert result['failures'] == ['new (rsa): no certificate at %s yet' % item['cert']]


def test_renew_days_window(run_module, pki, tmp_path):
    item = pki.write_site(tmp_path, 'rsa', NAMES, days=(-70, 20))
    result, failed = run(run_module, [item], renew_days=10)
    assert not failed and not result['certificates'][0]['due']
    result, failed = run(run_module, [item], renew_days=30)
    assert failed and result['certificates'][0]['due'] and result['certificates'][0]['usable']
    assert 'days left: due since' in result['msg'] and 'a third of the lifetime' in result['msg']


def test_a_short_lived_certificate_is_renewed_by_its_lifetime(run_module, pki, tmp_path):
    # 45 days: with 25 left a fixed 30 days would renew it already; a third of its lifetime (15 days) does not.
    item = pki.write_site(tmp_path, 'rsa', NAMES, days=(-20, 25))
    result, failed = run(run_module, [item], renew_days=30)
    entry = result['certificates'][0]
    assert not failed and not entry['due'] and entry['renew_at'] < entry['not_after']
    item = pki.write_site(tmp_path, 'rsa', NAMES, days=(-31, 14))
    result, failed = run(run_module, [item], renew_days=30)
    assert failed and result['certificates'][0]['due']


def test_the_account_thumbprint(run_module, pki, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import jwk_thumbprint, public_jwk
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / 'account.key'
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    item = pki.write_site(tmp_path, 'rsa', NAMES, days=(-1, 89))
    result, failed = run(run_module, [item], account_key=str(path))
    assert not failed and result['account_thumbprint'] == jwk_thumbprint(public_jwk(key))
    result, failed = run(run_module, [item], account_key=str(tmp_path / 'missing.key'), fail_on_error=False)
    assert result['account_thumbprint'] is None and not result['ok'] and 'account key' in result['failures'][-1]


@pytest.mark.parametrize('configure, ok', [(intermediate, True), (lax, False)])
def test_policy_judges_each_site_once(run_module, site, configure, ok):
    server = TlsServer([(item['cert'], item['key']) for item in site], configure)
    try:
        result, failed = run(run_module, site, probe=True, probe_port=server.port, policy='intermediate',
                             fail_on_error=False)
    finally:
        server.close()
    assert not failed and result['ok'] is ok
    [verdict] = result['policies']                       # two certificates, one site
    assert verdict['name'] == 'site' and verdict['server_name'] == NAMES[0] and verdict['ok'] is ok
    assert verdict['address'] == '127.0.0.1:%d' % server.port
    if ok:
        assert result['failures'] == [] and verdict['summary'].startswith('Mozilla intermediate: TLSv1.2 and TLSv1.3 only')
    else:
        assert result['failures'] == ['site: ' + verdict['summary']]
        assert verdict['summary'].startswith('not Mozilla intermediate: accepts TLSv1; accepts TLSv1.1; accepts TLS 1.2')


def test_no_policy_without_probe_or_with_none(run_module, site):
    assert 'policies' not in run(run_module, site, policy='intermediate', fail_on_error=False)[0]
    server = TlsServer([(item['cert'], item['key']) for item in site])
    try:
        result, _failed = run(run_module, site, probe=True, probe_port=server.port)
    finally:
        server.close()
    assert 'policies' not in result


def test_an_haproxy_bundle_needs_no_key_type_domains_or_key(run_module, pki, tmp_path):
    """A bundle with the key after the chain, and one with its key in FILE.key (HAProxy's two ways): the key type
    and the names come from the certificate. Served by a TLS server, both pass the probe."""
    import pki as helpers
    import tlsserver
    items, pairs = [], []
    for kind in ('ecdsa', 'rsa'):
        key, leaf = pki.leaf(kind, ['www.example.test', 'example.test'])
        bundle = tmp_path / ('%s.pem' % kind)
        bundle.write_text(helpers.pem(leaf, pki.inter) + (helpers.key_pem(key) if kind == 'ecdsa' else ''))
        if kind == 'rsa':
            (tmp_path / 'rsa.pem.key').write_text(helpers.key_pem(key))
        (tmp_path / ('%s.crt' % kind)).write_text(helpers.pem(leaf, pki.inter))
        (tmp_path / ('%s.key' % kind)).write_text(helpers.key_pem(key))
        pairs.append((str(tmp_path / ('%s.crt' % kind)), str(tmp_path / ('%s.key' % kind))))
        items.append(dict(name='www', cert=str(bundle)))
    server = tlsserver.TlsServer(pairs)
    try:
        result, failed = run(run_module, items, probe=True, probe_port=server.port)
    finally:
        server.close()
    assert not failed, result
    assert [(c['key_type'], c['key_matches'], c['domains']) for c in result['certificates']] == [
        ('ecdsa', True, ['www.example.test', 'example.test']), ('rsa', True, ['www.example.test', 'example.test'])]
    assert all(row['matches'] for c in result['certificates'] for row in c['served'])
    # Without the key anywhere: named, with the place it was looked for.
    (tmp_path / 'rsa.pem.key').unlink()
    result, failed = run(run_module, items[1:])
    assert failed and 'cannot read the key %s.key' % items[1]['cert'] in result['msg']
    result, failed = run(run_module, [dict(name='gone', cert=str(tmp_path / 'none.pem'))], probe=True)
    assert failed and 'gone (key type unknown): no certificate at' in result['msg']


def _leaf_id(item):
    from cryptography import x509

    from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import cert_id
    with open(item['cert'], 'rb') as handle:
        return cert_id(x509.load_pem_x509_certificates(handle.read())[0])


def _stamp(delta_days):
    import datetime
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=delta_days)
    return when.strftime('%Y-%m-%dT%H:%M:%S.123456789Z')      # nine fraction digits, as Go writes them


def test_the_ca_s_renewal_window_decides_when_it_offers_one(run_module, pki, tmp_path):
    """ARI (RFC 9773): the window the CA suggests for this certificate decides, both ways, and is returned; a CA
    without ARI, one that does not know the certificate, or one that does not answer leaves it to the lifetime."""
    import fake_acme
    # 20 days left of 90: due by the lifetime rule (fewer than 30 days).
    item = pki.write_site(tmp_path, 'rsa', NAMES, days=(-70, 20))
    ca = fake_acme.FakeCA()
    with ca.serve() as server:
        directory = 'http://127.0.0.1:%d/dir' % server.server_port
        # The CA wants it renewed in 5 to 7 days: not due yet, whatever the lifetime says.
        ca.windows[_leaf_id(item)] = (_stamp(5), _stamp(7))
        result, failed = run(run_module, [item], directory_url=directory)
        entry = result['certificates'][0]
        assert not failed and not entry['due'] and entry['renewal_by'] == 'ari', result
        assert entry['ari_window']['start'] <= entry['renew_at'] <= entry['ari_window']['end']
        assert entry['ari_window']['explanation'] == 'https://ca.test/why'
        # The CA moves the window into the past (a revocation ahead): due now, and the failure names the window.
        ca.windows[_leaf_id(item)] = (_stamp(-2), _stamp(-1))
        result, failed = run(run_module, [item], directory_url=directory)
        assert failed and result['certificates'][0]['due'] and 'the CA asks for its renewal from' in result['msg']
        # A certificate the CA does not know (404): the lifetime decides.
        ca.windows.clear()
        result, failed = run(run_module, [item], directory_url=directory, renew_days=10)
        entry = result['certificates'][0]
        assert not failed and entry['renewal_by'] == 'lifetime' and entry['ari_window'] is None
    # A CA without ARI.
    with fake_acme.FakeCA(ari=False).serve() as server:
        result, failed = run(run_module, [item], directory_url='http://127.0.0.1:%d/dir' % server.server_port)
        assert failed and result['certificates'][0]['renewal_by'] == 'lifetime' and 'a third of' in result['msg']
    # A CA that does not answer (nothing listens there any more): the lifetime, and no failure of its own.
    result, failed = run(run_module, [item], directory_url=directory, renew_days=10, timeout=2)
    assert not failed and result['certificates'][0]['renewal_by'] == 'lifetime'
