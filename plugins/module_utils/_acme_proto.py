# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ACME protocol values: the account key's JWK thumbprint, the http-01 key authorization, and when to renew.

- RFC 7638: the thumbprint is base64url (unpadded) of SHA-256 over the public JWK with only its required members,
  in lexicographic order, without whitespace: e, kty, n for RSA; crv, kty, x, y for EC.
- RFC 8555 8.1 and 8.3: the http-01 reply to /.well-known/acme-challenge/<token> is "<token>.<thumbprint>", and
  tokens are base64url. A server that knows the thumbprint can answer every token without any token file.
- Renewal by lifetime: a certificate is due when fewer than ``renew_days`` remain or, for a short-lived one, when
  less than a third of its lifetime remains, whichever comes later (certificates are getting shorter: a fixed 30
  days would renew a 45-day certificate after 15 days; a third of the lifetime renews it after 30).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re

TOKEN_RE = re.compile(r'[A-Za-z0-9_-]+')
EC_CURVES = {'secp256r1': ('P-256', 32), 'secp384r1': ('P-384', 48), 'secp521r1': ('P-521', 66)}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _uint(number, length=None):
    length = length or max(1, (number.bit_length() + 7) // 8)
    return number.to_bytes(length, 'big')


def jwk_thumbprint(jwk):
    """RFC 7638 thumbprint of a public JWK dict (extra members are ignored)."""
    required = {'RSA': ('e', 'kty', 'n'), 'EC': ('crv', 'kty', 'x', 'y')}.get(jwk.get('kty'))
    if not required:
        raise ValueError('unsupported JWK key type %r' % (jwk.get('kty'),))
    canonical = json.dumps({k: jwk[k] for k in required}, sort_keys=True, separators=(',', ':'))
    return b64url(hashlib.sha256(canonical.encode('utf-8')).digest())


def public_jwk(private_key):
    """The public JWK of a ``cryptography`` RSA or EC private key."""
    numbers = private_key.public_key().public_numbers()
    if hasattr(numbers, 'n'):
        return {'kty': 'RSA', 'e': b64url(_uint(numbers.e)), 'n': b64url(_uint(numbers.n))}
    curve, size = EC_CURVES.get(numbers.curve.name, (None, None))
    if not curve:
        raise ValueError('unsupported EC curve %s' % numbers.curve.name)
    return {'kty': 'EC', 'crv': curve, 'x': b64url(_uint(numbers.x, size)), 'y': b64url(_uint(numbers.y, size))}


def account_thumbprint(pem):
    """Thumbprint of the account key in ``pem`` (bytes), which needs the ``cryptography`` package."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    return jwk_thumbprint(public_jwk(load_pem_private_key(pem, password=None)))


def key_authorization(token, thumbprint):
    """The http-01 reply for ``token``: '<token>.<thumbprint>'."""
    if not TOKEN_RE.fullmatch(token or ''):
        raise ValueError('%r is not an ACME token (base64url)' % (token,))
    return '%s.%s' % (token, thumbprint)


def renewal(not_before, not_after, now, renew_days):
    """(due, renew_at): what remains is fewer than ``renew_days``, or less than a third of the lifetime."""
    margin = min((not_after - not_before) / 3, datetime.timedelta(days=renew_days))
    renew_at = not_after - margin
    return now >= renew_at, renew_at
