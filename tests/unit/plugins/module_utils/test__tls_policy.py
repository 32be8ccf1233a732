# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The TLS policy judge against real TLS servers on 127.0.0.1 (Python's ssl, configured strict or lax), and its
key exchange group questions with a stand-in for the openssl command."""

from __future__ import annotations

import ssl

import pytest
from pki import Pki
from tlsserver import TlsServer, intermediate, lax

from ansible_collections.opsnotes.edge.plugins.module_utils import _tls_policy as p

NAME = 'a.example.org'


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    item = Pki().write_site(tmp_path_factory.mktemp('pki'), 'rsa', [NAME])
    return item['cert'], item['key']


def tls12_only(context):
    intermediate(context)
    context.maximum_version = ssl.TLSVersion.TLSv1_2


def judge(pair, configure, **extra):
    server = TlsServer([pair], configure)
    try:
        return p.judge('127.0.0.1', server.port, NAME, **extra)
    finally:
        server.close()


def test_a_server_on_the_profile_passes(pair):
    result = judge(pair, intermediate)
    assert result['ok'] and result['findings'] == [] and result['ciphers'] == []
    assert result['versions'] == {'TLSv1': False, 'TLSv1.1': False, 'TLSv1.2': True, 'TLSv1.3': True}
    assert result['untested'] == ['key exchange groups: no openssl command']
    assert p.summary(result) == ('Mozilla intermediate: TLSv1.2 and TLSv1.3 only; untested: key exchange groups: '
                                 'no openssl command')


def test_a_lax_server_is_named_for_each_thing_it_accepts(pair):
    result = judge(pair, lax)
    assert not result['ok']
    assert result['versions'] == {'TLSv1': True, 'TLSv1.1': True, 'TLSv1.2': True, 'TLSv1.3': True}
    assert result['findings'][:2] == ['accepts TLSv1', 'accepts TLSv1.1']
    # Every suite it named is outside the profile, and they are all different.
    assert result['ciphers'] and not set(result['ciphers']) & set(p.INTERMEDIATE['ciphers'])
    assert len(set(result['ciphers'])) == len(result['ciphers']) <= p.MAX_CIPHERS
    assert 'ECDHE-RSA-AES128-SHA' in result['ciphers']
    listed = result['findings'][2]
    assert listed.startswith('accepts TLS 1.2 suites outside the profile: ')
    assert listed.endswith('and %d more' % (len(result['ciphers']) - 5)) if len(result['ciphers']) > 5 else True
    assert p.summary(result).startswith('not Mozilla intermediate: accepts TLSv1; accepts TLSv1.1; accepts TLS 1.2')


def tls13_only(context):
    intermediate(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_3


def test_the_modern_profile_wants_tls13_only(pair):
    result = judge(pair, tls13_only, profile=p.MODERN)
    assert result['ok'] and result['versions']['TLSv1.2'] is False and result['profile'] == 'modern'
    assert p.summary(result).startswith('Mozilla modern: TLSv1.3 only')
    # The control: a server on the intermediate profile is not modern, and its TLS 1.2 suites are not listed again.
    result = judge(pair, intermediate, profile=p.MODERN)
    assert result['findings'] == ['accepts TLSv1.2'] and result['ciphers'] == []


def test_a_server_without_tls13_is_named(pair):
    result = judge(pair, tls12_only)
    assert result['findings'] == ['refuses TLSv1.3'] and result['versions']['TLSv1.3'] is False


def test_nothing_listens():
    result = p.judge('127.0.0.1', 9, NAME, timeout=1)
    assert not result['ok'] and result['versions'] == {}
    assert result['findings'] == ['cannot connect to 127.0.0.1:9: [Errno 111] Connection refused']


class FakeOpenssl(object):
    """openssl s_client as the judge calls it: ``accepts`` are the (version flag, group) it completes."""

    def __init__(self, accepts=(), unknown=()):
        self.accepts, self.unknown, self.calls = set(accepts), set(unknown), []

    def __call__(self, argv):
        self.calls.append(argv)
        flag, group = argv[argv.index('-groups') - 1], argv[argv.index('-groups') + 1]
        if group in self.unknown:
            return 1, '', 'Call to SSL_CONF_cmd(-groups, %s) failed' % group
        if (flag, group) in self.accepts:
            return 0, '', 'CONNECTION ESTABLISHED\nProtocol version: TLSv1.3\n'
        return 1, '', 'SSL alert number 40\n'


def test_groups_outside_the_profile_are_named(pair):
    fake = FakeOpenssl(accepts={('-tls1_3', 'X448'), ('-tls1_2', 'secp521r1')}, unknown={'secp521r1x'})
    result = judge(pair, intermediate, openssl='/usr/bin/openssl', run=fake)
    assert result['groups'] == ['X448 (TLSv1.3)', 'secp521r1 (TLSv1.2)']
    assert result['findings'] == ['accepts key exchange groups outside the profile: X448 (TLSv1.3), secp521r1 (TLSv1.2)']
    argv = fake.calls[0]
    assert argv[:6] == ['/usr/bin/openssl', 's_client', '-connect', argv[3], '-servername', NAME]
    assert [c[c.index('-groups') - 1] for c in fake.calls] == ['-tls1_3', '-tls1_3', '-tls1_2', '-tls1_2']
    assert all(c[-2:] == ['-cipher', 'ECDHE:@SECLEVEL=0'] for c in fake.calls if '-tls1_2' in c)


def test_a_group_this_openssl_cannot_offer_is_untested_not_compliant(pair):
    result = judge(pair, intermediate, openssl='/usr/bin/openssl', run=FakeOpenssl(unknown={'X448'}))
    assert result['ok'] and result['groups'] == []
    assert result['untested'] == ['TLSv1.3 X448: this openssl cannot offer it', 'TLSv1.2 X448: this openssl cannot offer it']


def test_ipv6_addresses_are_bracketed_for_openssl():
    fake = FakeOpenssl()
    assert p.group_accepted('openssl', '2001:db8::1', 443, NAME, 'TLSv1.3', 'X448', fake) is False
    assert fake.calls[0][3] == '[2001:db8::1]:443'


def test_untestable_versions_are_reported(monkeypatch, pair):
    real = p.handshake

    def handshake(address, port, server_name, version, ciphers=None, timeout=5.0):
        if version == 'TLSv1':
            raise p.Untestable('TLSv1: unsupported protocol')
        return real(address, port, server_name, version, ciphers, timeout)
    monkeypatch.setattr(p, 'handshake', handshake)
    result = judge(pair, intermediate)
    assert result['versions']['TLSv1'] is None and 'TLSv1: unsupported protocol' in result['untested']
    assert result['ok']
