# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ACME protocol of the collection: the values its modules compute, and the client its renewal script runs.

This file is also a program: the acme role installs it on the host as /usr/local/lib/opsnotes-acme-client.py, and
/usr/local/sbin/opsnotes-acme-renew runs it (``due`` and ``order``, see main()). So it needs nothing but the
standard library and python3-cryptography, and imports cryptography only where a key or certificate is read.

- RFC 7638: the thumbprint is base64url (unpadded) of SHA-256 over the public JWK with only its required members,
  in lexicographic order, without whitespace: e, kty, n for RSA; crv, kty, x, y for EC.
- RFC 8555 8.1 and 8.3: the http-01 reply to /.well-known/acme-challenge/<token> is "<token>.<thumbprint>", and
  tokens are base64url. A server that knows the thumbprint can answer every token without any token file.
- RFC 8555: the client (Client) creates or finds the account (with External Account Binding, 7.3.4, for a CA that
  requires it), places the order, answers each http-01 challenge, finalizes with the CSR and downloads the
  fullchain. Every request is a JWS signed with the account key (RS256, ES256 or ES384), each with a fresh nonce.
- RFC 9773 (ACME Renewal Information, ARI): a CA that offers ``renewalInfo`` says when each certificate should be
  renewed (a suggested window, moved earlier before a mass revocation); the renewal follows it and names the
  certificate it replaces in the new order (``replaces``), which Let's Encrypt exempts from its rate limits.
- ACME profiles (draft-aaron-acme-profiles): the order may name one of the profiles the CA lists in its directory's
  ``meta.profiles`` (Let's Encrypt: classic, tlsserver, shortlived).
- Renewal without ARI, by lifetime: a certificate is due when fewer than ``renew_days`` remain or when less than a
  third of its lifetime remains, whichever comes later (a 45-day certificate after 30 days), or half of it for a
  lifetime under 10 days (a 160-hour certificate after 80 hours).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

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


SHORT_LIFETIME = datetime.timedelta(days=10)


def renewal(not_before, not_after, now, renew_days):
    """(due, renew_at) by lifetime: what remains is fewer than ``renew_days``, or less than a third of the lifetime
    (half of it under 10 days), whichever comes later."""
    lifetime = not_after - not_before
    margin = min(lifetime / (2 if lifetime < SHORT_LIFETIME else 3), datetime.timedelta(days=renew_days))
    renew_at = not_after - margin
    return now >= renew_at, renew_at


def window_time(start, end, cert_id):
    """The time in an ARI window [start, end] at which this certificate renews: a point fixed by the certificate
    (its ID hashed), so that runs every few hours agree, and a fleet's certificates spread over the window."""
    fraction = int.from_bytes(hashlib.sha256(cert_id.encode('ascii')).digest()[:8], 'big') / 2.0 ** 64
    return start + (end - start) * fraction


def ari_id(cert):
    """cert_id, or None for a certificate without an authority key identifier (no CA can say anything of it)."""
    from cryptography import x509
    try:
        return cert_id(cert)
    except (x509.ExtensionNotFound, ValueError):
        return None


def renewal_plan(cert, now, renew_days, renewal_info=None):
    """When the certificate ``cert`` (cryptography) renews: {due, renew_at, by, window}. With ``renewal_info`` (a
    function of an ARI identifier, as Directory.renewal_info) and a window from the CA, the point of that window
    fixed for this certificate decides (window_time; ``by`` 'ari'); otherwise its lifetime (renewal(); ``by``
    'lifetime', ``window`` None)."""
    identifier = ari_id(cert) if renewal_info is not None else None
    window = None
    if identifier:
        try:
            window = renewal_info(identifier)
        except (AcmeError, ValueError, LookupError):
            window = None
    if window:
        at = window_time(window['start'], window['end'], identifier)
        return dict(due=now >= at, renew_at=at, by='ari', window=window)
    is_due, at = renewal(*(_validity(cert) + (now, renew_days)))
    return dict(due=is_due, renew_at=at, by='lifetime', window=None)


RFC3339_RE = re.compile(r'(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))$')


def parse_time(text):
    """An RFC 3339 time (any number of fraction digits, as Go writes them) as an aware UTC datetime."""
    match = RFC3339_RE.match(str(text or '').strip())
    if not match:
        raise ValueError('%r is not an RFC 3339 time' % (text,))
    parts = [int(part) for part in match.group(1, 2, 3, 4, 5, 6)]
    micro = int((match.group(7) or '0')[:6].ljust(6, '0'))
    value = datetime.datetime(*parts, microsecond=micro, tzinfo=datetime.timezone.utc)
    if match.group(8):
        offset = datetime.timedelta(hours=int(match.group(9)), minutes=int(match.group(10)))
        value -= offset if match.group(8) == '+' else -offset
    return value


def cert_id(cert):
    """RFC 9773 4.1: the certificate's ARI identifier, base64url(authority key identifier) "." base64url(serial
    number, DER content octets). ``cert``: a cryptography x509 Certificate with an AKI."""
    from cryptography import x509
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial = cert.serial_number
    return '%s.%s' % (b64url(aki), b64url(serial.to_bytes((serial.bit_length() + 8) // 8, 'big')))


# --- the client --------------------------------------------------------------------------------------------------

USER_AGENT = 'opsnotes-acme-renew (opsnotes.edge)'
HTTP01_PATH = '/.well-known/acme-challenge/'


class AcmeError(Exception):
    """What went wrong, in one line: the CA's problem document (type and detail, with its subproblems), or the
    transport's failure."""

    def __init__(self, message, problem=None):
        super(AcmeError, self).__init__(message)
        self.problem = problem or {}

    @property
    def type(self):
        return str(self.problem.get('type') or '').rsplit(':', 1)[-1]

    @classmethod
    def of(cls, what, status, body):
        try:
            problem = json.loads(body.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        detail = problem.get('detail') or body[:300].decode('utf-8', 'replace').strip()
        subs = ['%s: %s' % ((sub.get('identifier') or {}).get('value', '?'), sub.get('detail', ''))
                for sub in problem.get('subproblems') or [] if isinstance(sub, dict)]
        kind = str(problem.get('type') or '').rsplit(':', 1)[-1]
        more = ' (%s)' % '; '.join(subs) if subs else ''
        return cls('%s: HTTP %s%s: %s%s' % (what, status, ' ' + kind if kind else '', detail, more), problem)


def _signer(key):
    """(alg, sign(bytes) -> signature) for a cryptography RSA or EC (P-256, P-384) private key (RFC 7518)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg, digest, size = {'secp256r1': ('ES256', hashes.SHA256, 32),
                             'secp384r1': ('ES384', hashes.SHA384, 48)}.get(key.curve.name, (None, None, None))
        if not alg:
            raise AcmeError('the account key is on the curve %s: P-256, P-384 or RSA are signed' % key.curve.name)

        def sign(data):
            r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(digest())))
            return r.to_bytes(size, 'big') + s.to_bytes(size, 'big')
        return alg, sign
    return 'RS256', lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


class Directory(object):
    """A CA's directory and what can be asked without an account: its renewal information (ARI) and profiles.
    ``fetch`` is replaced in tests."""

    def __init__(self, directory_url, timeout=30, fetch=None):
        self.directory_url, self.timeout = directory_url, timeout
        self.fetch = fetch or urllib.request.build_opener().open
        self._nonce, self._directory, self._no_ari = None, None, False
        # The windows asked in this run, by certificate: one certificate on several binds is asked once.
        self._windows = {}

    # -- transport --
    def _request(self, url, data=None, method='GET', headers=None):
        request = urllib.request.Request(url, data=data, method=method,
                                         headers=dict({'User-Agent': USER_AGENT}, **(headers or {})))
        try:
            response = self.fetch(request, timeout=self.timeout)
            status, answer_headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, answer_headers, body = exc.code, exc.headers, exc.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise AcmeError('%s %s: %s' % (method, url, getattr(exc, 'reason', exc))) from None
        if answer_headers is not None and answer_headers.get('Replay-Nonce'):
            self._nonce = answer_headers['Replay-Nonce']
        return status, answer_headers, body

    def directory(self):
        if self._directory is None:
            status, _headers, body = self._request(self.directory_url)
            if status != 200:
                raise AcmeError.of('reading the directory %s' % self.directory_url, status, body)
            try:
                self._directory = json.loads(body.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                raise AcmeError('%s is not an ACME directory' % self.directory_url) from None
            if not isinstance(self._directory, dict) or 'newOrder' not in self._directory:
                raise AcmeError('%s is not an ACME directory (no newOrder)' % self.directory_url)
        return self._directory

    # -- renewal information --
    def renewal_info(self, identifier):
        """The CA's suggested window for the certificate ``identifier`` (cert_id) as {start, end, explanation}, or
        None when the CA offers no ARI or does not answer (renewal then goes by lifetime). A directory that cannot
        be read is not asked again for the next certificate, nor is a certificate asked twice."""
        if self._no_ari:
            return None
        if identifier not in self._windows:
            self._windows[identifier] = self._renewal_info(identifier)
        return self._windows[identifier]

    def _renewal_info(self, identifier):
        try:
            base = self.directory().get('renewalInfo')
        except AcmeError:
            self._no_ari = True
            return None
        if not base:
            return None
        try:
            status, _headers, body = self._request(base.rstrip('/') + '/' + identifier)
            if status != 200:
                return None
            info = json.loads(body.decode('utf-8'))
            window = info['suggestedWindow']
            start, end = parse_time(window['start']), parse_time(window['end'])
        except (AcmeError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        if end < start:
            return None
        return dict(start=start, end=end, explanation=info.get('explanationURL'))

    def profiles(self):
        return (self.directory().get('meta') or {}).get('profiles') or {}


class Client(Directory):
    """One account at one CA, for one run. ``key``: the account's private key (cryptography). ``fetch`` and
    ``sleep`` are replaced in tests."""

    def __init__(self, directory_url, key, timeout=30, poll_timeout=120, fetch=None, sleep=time.sleep):
        super(Client, self).__init__(directory_url, timeout, fetch)
        self.poll_timeout, self.sleep = poll_timeout, sleep
        self.jwk = public_jwk(key)
        self.thumbprint = jwk_thumbprint(self.jwk)
        self.alg, self._sign = _signer(key)
        self.kid = None

    def _jws(self, url, payload, use_kid):
        protected = {'alg': self.alg, 'nonce': self._nonce, 'url': url}
        if use_kid:
            protected['kid'] = self.kid
        else:
            protected['jwk'] = self.jwk
        protected64 = b64url(json.dumps(protected).encode('utf-8'))
        payload64 = '' if payload is None else b64url(json.dumps(payload).encode('utf-8'))
        signature = self._sign(('%s.%s' % (protected64, payload64)).encode('ascii'))
        return json.dumps({'protected': protected64, 'payload': payload64, 'signature': b64url(signature)}).encode()

    def post(self, url, payload, what, use_kid=True, expect=(200, 201)):
        """A signed POST (``payload`` None: POST-as-GET); a bad nonce is retried twice with the fresh one."""
        for attempt in range(3):
            if not self._nonce:
                status, _headers, body = self._request(self.directory()['newNonce'], method='HEAD')
                if not self._nonce:
                    raise AcmeError.of('getting a nonce', status, body)
            data = self._jws(url, payload, use_kid)
            self._nonce = None
            status, headers, body = self._request(url, data, 'POST', {'Content-Type': 'application/jose+json'})
            if status in expect:
                return headers, body
            error = AcmeError.of(what, status, body)
            if error.type != 'badNonce' or attempt == 2:
                raise error
        raise AcmeError('%s: no answer' % what)      # not reached

    def get(self, url, what):
        return json.loads(self.post(url, None, what)[1].decode('utf-8'))

    # -- account --
    def register(self, contact=None, eab_kid=None, eab_hmac_key=None):
        """Create the account, or find it (the CA answers 200 for a key it knows); its URL is the kid of every
        later request."""
        url = self.directory()['newAccount']
        payload = {'termsOfServiceAgreed': True}
        if contact:
            payload['contact'] = [contact]
        if eab_kid:
            payload['externalAccountBinding'] = self.external_account_binding(url, eab_kid, eab_hmac_key)
        elif (self.directory().get('meta') or {}).get('externalAccountRequired'):
            # Only a new account needs the binding: the account this key already has is found without it
            # (RFC 8555 7.3.1), as on a host whose other consumer made it.
            try:
                headers, _body = self.post(url, {'onlyReturnExisting': True}, 'finding the account', use_kid=False)
            except AcmeError as exc:
                if exc.type != 'accountDoesNotExist':
                    raise
                raise AcmeError('%s requires External Account Binding for a new account: give its key ID and HMAC '
                                'key' % self.directory_url) from None
            self.kid = headers.get('Location')
            if not self.kid:
                raise AcmeError('the CA gave the account no URL (Location)')
            return self.kid
        headers, _body = self.post(url, payload, 'creating or finding the account', use_kid=False)
        self.kid = headers.get('Location')
        if not self.kid:
            raise AcmeError('the CA gave the account no URL (Location)')
        return self.kid

    def external_account_binding(self, url, kid, hmac_key):
        """RFC 8555 7.3.4: the account key, signed (HS256) with the MAC key the CA gave out of band (base64url)."""
        protected = b64url(json.dumps({'alg': 'HS256', 'kid': kid, 'url': url}).encode('utf-8'))
        payload = b64url(json.dumps(self.jwk).encode('utf-8'))
        try:
            key = base64.urlsafe_b64decode(str(hmac_key) + '=' * (-len(str(hmac_key)) % 4))
        except (ValueError, TypeError):
            raise AcmeError('the External Account Binding HMAC key is not base64url') from None
        signature = hmac.new(key, ('%s.%s' % (protected, payload)).encode('ascii'), hashlib.sha256).digest()
        return {'protected': protected, 'payload': payload, 'signature': b64url(signature)}

    # -- issuance --
    def _poll(self, url, pending, what):
        deadline = time.monotonic() + self.poll_timeout
        while True:
            headers, body = self.post(url, None, what)
            state = json.loads(body.decode('utf-8'))
            if state.get('status') not in pending:
                return state
            if time.monotonic() > deadline:
                raise AcmeError('%s: still %s after %d s' % (what, state.get('status'), self.poll_timeout))
            try:
                wait = min(max(int((headers or {}).get('Retry-After') or 1), 1), 10)
            except ValueError:
                wait = 1
            self.sleep(wait)

    def order(self, csr_der, domains, respond, profile=None, replaces=None, log=None):
        """The fullchain (PEM text) for the CSR ``csr_der`` and its ``domains``. ``respond(domain, token,
        key_authorization)`` makes the http-01 answer reachable and returns the function that takes it away again.
        With ``replaces`` (a cert_id), the order names the certificate it renews; a CA that refuses that is asked
        once more without it."""
        log = log or (lambda message: None)
        if profile:
            offered = self.profiles()
            if profile not in offered:
                raise AcmeError('the CA offers no profile %r (it offers: %s)'
                                % (profile, ', '.join(sorted(offered)) or 'none'))
        payload = {'identifiers': [{'type': 'dns', 'value': domain} for domain in domains]}
        if profile:
            payload['profile'] = profile
        naming = dict(payload, replaces=replaces) if replaces else payload
        try:
            headers, body = self.post(self.directory()['newOrder'], naming, 'placing the order', expect=(201,))
        except AcmeError as exc:
            if not replaces:
                raise
            log('the CA refused the order naming the certificate it replaces (%s): ordering without it' % exc)
            headers, body = self.post(self.directory()['newOrder'], payload, 'placing the order', expect=(201,))
        order_url = headers.get('Location')
        state = json.loads(body.decode('utf-8'))
        for authz_url in state.get('authorizations') or []:
            self._authorize(authz_url, respond)
        state = self._poll(order_url, ('pending',), 'waiting for the order to be ready')
        if state.get('status') == 'ready':
            self.post(state['finalize'], {'csr': b64url(csr_der)}, 'finalizing the order')
            state = self._poll(order_url, ('ready', 'processing'), 'waiting for the certificate')
        if state.get('status') != 'valid' or not state.get('certificate'):
            detail = (state.get('error') or {}).get('detail', 'no certificate')
            raise AcmeError('the order ended %s: %s' % (state.get('status'), detail), state.get('error'))
        _headers, pem = self.post(state['certificate'], None, 'downloading the certificate')
        return pem.decode('utf-8')

    def _authorize(self, url, respond):
        authz = self.get(url, 'reading an authorization')
        if authz.get('status') == 'valid':
            return
        domain = (authz.get('identifier') or {}).get('value')
        challenge = [c for c in authz.get('challenges') or [] if c.get('type') == 'http-01']
        if not challenge:
            raise AcmeError('%s: the CA offers no http-01 challenge' % domain)
        challenge = challenge[0]
        undo = respond(domain, challenge['token'], key_authorization(challenge['token'], self.thumbprint))
        try:
            self.post(challenge['url'], {}, 'answering the challenge for %s' % domain)
            authz = self._poll(url, ('pending',), 'waiting for the validation of %s' % domain)
        finally:
            undo()
        if authz.get('status') != 'valid':
            errors = [c.get('error') or {} for c in authz.get('challenges') or [] if c.get('error')]
            raise AcmeError('%s: the CA could not validate it: %s' % (
                domain, '; '.join('%s %s' % (str(e.get('type', '')).rsplit(':', 1)[-1], e.get('detail', ''))
                                  for e in errors) or authz.get('status')), errors[0] if errors else None)


# --- the program (run by the renewal script) -----------------------------------------------------------------------

def _read_pem(path, kind):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    with open(path, 'rb') as handle:
        data = handle.read()
    if kind == 'key':
        return load_pem_private_key(data, password=None)
    if kind == 'csr':
        return x509.load_pem_x509_csr(data)
    return x509.load_pem_x509_certificate(data)


def _names(obj):
    from cryptography import x509
    try:
        names = obj.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted(set(name.lower() for name in names.get_values_for_type(x509.DNSName)))


def _public(obj):
    from cryptography.hazmat.primitives import serialization
    return obj.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _utc(when):
    return when.strftime('%Y-%m-%d %H:%M:%S UTC')


def _validity(cert):
    """(not_before, not_after) as aware UTC datetimes, with cryptography before and after 42."""
    if hasattr(cert, 'not_valid_after_utc'):
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    return (cert.not_valid_before.replace(tzinfo=datetime.timezone.utc),
            cert.not_valid_after.replace(tzinfo=datetime.timezone.utc))


def due(cert_path, csr_path, renew_days, client=None, now=None):
    """Why the certificate at ``cert_path`` (for the CSR) must be renewed now, or None. With a ``client`` whose CA
    offers ARI, its window decides; otherwise the lifetime (renewal())."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        cert = _read_pem(cert_path, 'cert')
        not_after = _validity(cert)[1]
    except (OSError, ValueError):
        return 'no readable certificate'
    if csr_path:
        csr = _read_pem(csr_path, 'csr')
        if _public(cert) != _public(csr):
            return "its key is not the CSR's"
        if _names(cert) != _names(csr):
            return "its names are not the CSR's"
    plan = renewal_plan(cert, now, renew_days, client.renewal_info if client is not None else None)
    if not plan['due']:
        return None
    window = plan['window']
    if window:
        return 'the CA asks for its renewal from %s (ARI window %s to %s)%s' % (
            _utc(plan['renew_at']), _utc(window['start']), _utc(window['end']),
            ', see %s' % window['explanation'] if window.get('explanation') else '')
    return 'expires %s, renewal was due from %s' % (_utc(not_after), _utc(plan['renew_at']))


def _bundle_parts(pem):
    """The certificates (leaf first) and the private key of a bundle's PEM bytes."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    blocks = re.findall(rb'-----BEGIN ([A-Z ]+)-----\r?\n.*?-----END \1-----', pem, re.S)
    certs = [x509.load_pem_x509_certificate(m.group(0)) for m in
             re.finditer(rb'-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----', pem, re.S)]
    key_re = rb'-----BEGIN ([A-Z ]*)PRIVATE KEY-----\r?\n.*?-----END \1PRIVATE KEY-----'
    keys = [m.group(0) for m in re.finditer(key_re, pem, re.S)]
    if not certs or len(keys) != 1 or len(blocks) != len(certs) + 1:
        raise ValueError('not one or more certificates and one private key')
    return certs, load_pem_private_key(keys[0], password=None)


def bundle_verdict(new_path, current_path, names, key_type, now=None):
    """Whether a fetched bundle (fullchain and key) may replace the one in place: ('install', why), ('keep', why) or
    ('refuse', why). It must hold a certificate for exactly ``names`` with a ``key_type`` key that it certifies, still
    valid; and it replaces the current one only when that one is unusable or older (an ordering host restored from a
    backup must not take the fleet back to an older certificate)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        with open(new_path, 'rb') as handle:
            certs, key = _bundle_parts(handle.read())
    except (OSError, ValueError) as exc:
        return 'refuse', 'not a bundle (%s)' % exc
    leaf = certs[0]
    kinds = {'rsa': rsa.RSAPrivateKey, 'ecdsa': ec.EllipticCurvePrivateKey}
    if not isinstance(key, kinds.get(key_type, ())):
        return 'refuse', 'its key is not a %s key' % key_type
    if _public(leaf) != _public(key):
        return 'refuse', 'its certificate does not certify its key'
    wanted = sorted(set(name.lower() for name in names))
    if _names(leaf) != wanted:
        return 'refuse', 'it is for %s, not %s' % (', '.join(_names(leaf)) or 'no names', ', '.join(wanted))
    not_before, not_after = _validity(leaf)
    if not_after <= now:
        return 'refuse', 'it expired %s' % _utc(not_after)
    try:
        with open(current_path, 'rb') as handle:
            current = _bundle_parts(handle.read())[0][0]
    except (OSError, ValueError):
        return 'install', 'serial %x, valid until %s' % (leaf.serial_number, _utc(not_after))
    if current.serial_number == leaf.serial_number:
        return 'keep', 'the same certificate'
    if _validity(current)[0] > not_before:
        return 'keep', 'older than the one in place (issued %s, the one in place %s)' % (
            _utc(not_before), _utc(_validity(current)[0]))
    return 'install', 'serial %x, valid until %s' % (leaf.serial_number, _utc(not_after))


def http01_responder(webroot, port=80, timeout=10, fetch=None):
    """respond() for Client.order: the token file in ``webroot`` (for a server that serves it), then the answer
    fetched from http://<domain>/ as the CA will (through the same balancer or NAT): when it is not the key
    authorization, the order stops before the CA is asked to validate (a failed validation counts against the
    CA's limits). A stateless server (nginx_acme, HAProxy) answers any token by itself."""
    fetch = fetch or urllib.request.build_opener().open

    def respond(domain, token, answer):
        path = os.path.join(webroot, token)
        with open(path, 'w') as handle:
            handle.write(answer)
        os.chmod(path, 0o644)

        def undo():
            try:
                os.unlink(path)
            except OSError:
                pass
        url = 'http://%s%s%s%s' % (domain, '' if port == 80 else ':%d' % port, HTTP01_PATH, token)
        try:
            got = fetch(urllib.request.Request(url, headers={'User-Agent': USER_AGENT}), timeout=timeout).read()
            got = got.decode('utf-8', 'replace').strip()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            got = 'no answer (%s)' % getattr(exc, 'reason', exc)
        if got != answer:
            undo()
            raise AcmeError('wrote the token to %s, but %s answered %r: the CA would fail too, so it was not asked'
                            % (webroot, url, got[:100]))
        return undo
    return respond


def _option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else default


def main(argv, out=sys.stdout, err=sys.stderr):
    """due --cert FILE --csr FILE --days N [--directory URL --account-key FILE]: why the certificate must be
    renewed, on ``out``, and status 0; status 3 when it need not be (any other status: the caller cannot tell, and
    renews).
    order --account-key FILE --csr FILE --webroot DIR --directory URL [--contact URI] [--profile NAME]
    [--replaces FILE] [--eab-kid ID (--eab-hmac-key-file FILE | --eab-hmac-key KEY)]: the fullchain on ``out``;
    status 1 and one line naming the failure on ``err``. The HMAC key is best read from a file (root's): an
    argument is visible to every user of the host while the order runs.
    bundle --new FILE --current FILE --names NAME,... --key-type rsa|ecdsa: whether a fetched bundle replaces the
    current one (bundle_verdict), on ``out``: status 0 install, 3 keep the current one, 1 refused.
    Status 2 on a usage error."""
    command = argv[0] if argv else ''
    if command == 'bundle':
        verdict, why = bundle_verdict(_option(argv, '--new'), _option(argv, '--current', ''),
                                      [n for n in _option(argv, '--names', '').split(',') if n],
                                      _option(argv, '--key-type'))
        out.write(why + '\n')
        return {'install': 0, 'keep': 3}.get(verdict, 1)
    if command == 'due':
        try:
            client = None
            if _option(argv, '--directory') and _option(argv, '--account-key'):
                # Renewal information is read without signing; the client is made with the account key all the same.
                client = Client(_option(argv, '--directory'), _read_pem(_option(argv, '--account-key'), 'key'))
            why = due(_option(argv, '--cert'), _option(argv, '--csr'), int(_option(argv, '--days', '30')), client)
        except (AcmeError, OSError, ValueError, TypeError) as exc:
            # Renewing is the safe side: the order then fails, naming the problem.
            why = 'cannot tell whether it is due (%s: %s)' % (type(exc).__name__, exc)
        if why:
            out.write(why + '\n')
            return 0
        return 3
    try:
        if command == 'order':
            from cryptography.hazmat.primitives import serialization
            client = Client(_option(argv, '--directory'), _read_pem(_option(argv, '--account-key'), 'key'))
            csr = _read_pem(_option(argv, '--csr'), 'csr')
            replaces = None
            if _option(argv, '--replaces') and client.directory().get('renewalInfo'):
                try:
                    old = _read_pem(_option(argv, '--replaces'), 'cert')
                    replaces = ari_id(old) if _names(old) == _names(csr) else None
                except (OSError, ValueError, LookupError):
                    replaces = None
            hmac_key = _option(argv, '--eab-hmac-key')
            if _option(argv, '--eab-hmac-key-file'):
                with open(_option(argv, '--eab-hmac-key-file')) as handle:
                    hmac_key = handle.read().strip()
            client.register(_option(argv, '--contact'), _option(argv, '--eab-kid'), hmac_key)
            pem = client.order(csr.public_bytes(serialization.Encoding.DER), _names(csr),
                               http01_responder(_option(argv, '--webroot')), profile=_option(argv, '--profile'),
                               replaces=replaces, log=lambda message: err.write(message + '\n'))
            out.write(pem)
            return 0
    except AcmeError as exc:
        err.write('AcmeError: %s\n' % exc)
        return 1
    except (OSError, ValueError, TypeError) as exc:
        err.write('%s: %s\n' % (type(exc).__name__, exc))
        return 1
    err.write('usage: %s due|order ... (see main())\n' % os.path.basename(sys.argv[0]))
    return 2


if __name__ == '__main__':
    raise SystemExit(main(sys.argv[1:]))
