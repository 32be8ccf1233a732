# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_proto as p

# RFC 7638 section 3.1: the example RSA key and its thumbprint.
RFC7638_JWK = {
    'kty': 'RSA', 'alg': 'RS256', 'kid': '2011-04-29', 'e': 'AQAB',
    'n': '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj'
         'hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ'
         'vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK'
         'nqDKgw',
}


def test_rfc7638_vector():
    assert p.jwk_thumbprint(RFC7638_JWK) == 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'


def test_the_jwk_of_an_rsa_key_gives_the_same_thumbprint_as_its_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = p.public_jwk(key)
    assert jwk['e'] == 'AQAB' and set(jwk) == {'kty', 'e', 'n'}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    assert p.account_thumbprint(pem) == p.jwk_thumbprint(jwk)
    # The n member is the modulus, big-endian, without leading zero bytes.
    assert int.from_bytes(__import__('base64').urlsafe_b64decode(jwk['n'] + '=='), 'big') == key.public_key(
    ).public_numbers().n


@pytest.mark.parametrize('curve, name, size', [(ec.SECP256R1(), 'P-256', 32), (ec.SECP384R1(), 'P-384', 48)])
def test_ec_members_are_padded_to_the_field_size_and_ordered(curve, name, size):
    key = ec.generate_private_key(curve)
    jwk = p.public_jwk(key)
    assert jwk['crv'] == name and len(p.b64url(b'\0' * size)) == len(jwk['x']) == len(jwk['y'])
    canonical = '{"crv":"%s","kty":"EC","x":"%s","y":"%s"}' % (name, jwk['x'], jwk['y'])
    assert p.jwk_thumbprint(dict(jwk, kid='ignored')) == p.b64url(hashlib.sha256(canonical.encode()).digest())
    assert json.loads(canonical) == jwk


def test_key_authorization_and_token_alphabet():
    assert p.key_authorization('abc_DEF-123', 'TH') == 'abc_DEF-123.TH'
    for bad in ('', 'a.b', '../x', 'a b', 'x\n', 'a/b'):
        with pytest.raises(ValueError):
            p.key_authorization(bad, 'TH')
    with pytest.raises(ValueError, match='unsupported'):
        p.jwk_thumbprint({'kty': 'oct', 'k': 'x'})


DAY = datetime.timedelta(days=1)
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('lifetime_days, renew_days, renew_after_days', [
    (90, 30, 60),      # Let's Encrypt today: a third of 90 is 30
    (45, 30, 30),      # 45-day certificates: a fixed 30 days would renew after 15; a third renews after 30
    (6, 30, 3),        # short-lived (under 10 days): renewed at half the lifetime
    (160 / 24, 30, 80 / 24),   # Let's Encrypt's shortlived profile, 160 hours: after 80
    (10, 30, 10 * 2 / 3),      # 10 days is not short: a third left
    (1825, 30, 1795),  # Pebble's 5-year certificates: 30 days before the end
])
def test_renewal_by_lifetime(lifetime_days, renew_days, renew_after_days):
    not_after = START + lifetime_days * DAY
    due, renew_at = p.renewal(START, not_after, START, renew_days)
    assert not due and renew_at == START + renew_after_days * DAY
    assert p.renewal(START, not_after, renew_at - datetime.timedelta(seconds=1), renew_days)[0] is False
    assert p.renewal(START, not_after, renew_at, renew_days)[0] is True
