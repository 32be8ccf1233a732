# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small ACME CA (RFC 8555 with renewal information and profiles) for the client's unit tests, served over HTTP
on 127.0.0.1: it verifies every JWS (signature, nonce, URL, kid), validates http-01 through what the test's
responder published, signs the CSR with the test PKI's intermediate, and records the orders (with their profile and
``replaces``) as a CA would count them."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import uuid

import httpd
import pki
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils


def unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def public_key(jwk):
    if jwk['kty'] == 'RSA':
        return rsa.RSAPublicNumbers(int.from_bytes(unb64(jwk['e']), 'big'),
                                    int.from_bytes(unb64(jwk['n']), 'big')).public_key()
    curve = {'P-256': ec.SECP256R1(), 'P-384': ec.SECP384R1()}[jwk['crv']]
    return ec.EllipticCurvePublicNumbers(int.from_bytes(unb64(jwk['x']), 'big'), int.from_bytes(unb64(jwk['y']), 'big'),
                                         curve).public_key()


class FakeCA(object):
    def __init__(self, profiles=None, ari=True, eab=None):
        self.pki = pki.Pki()
        self.profiles, self.ari, self.eab = profiles or {}, ari, eab
        self.nonces, self.accounts, self.orders, self.authz = set(), {}, [], {}
        self.published = {}          # token -> key authorization, as the responder made it reachable
        self.bad_nonce_once = False
        self.windows = {}            # cert_id -> (start, end)
        self.refuse_replaces = False
        self.issued = []

    # -- JWS --
    def verify(self, url, body):
        jws = json.loads(body)
        protected = json.loads(unb64(jws['protected']))
        if self.bad_nonce_once or protected.get('nonce') not in self.nonces:
            self.bad_nonce_once = False
            return None, self.problem(400, 'badNonce', 'bad nonce')
        self.nonces.discard(protected['nonce'])
        assert protected['url'] == url, (protected['url'], url)
        if 'jwk' in protected:
            jwk = protected['jwk']
        else:
            jwk = self.accounts[protected['kid']]['jwk']
        key, data, signature = public_key(jwk), ('%s.%s' % (jws['protected'], jws['payload'])).encode(), \
            unb64(jws['signature'])
        if protected['alg'] == 'RS256':
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            size = len(signature) // 2
            digest = {'ES256': hashes.SHA256(), 'ES384': hashes.SHA384()}[protected['alg']]
            key.verify(utils.encode_dss_signature(int.from_bytes(signature[:size], 'big'),
                                                  int.from_bytes(signature[size:], 'big')), data, ec.ECDSA(digest))
        payload = json.loads(unb64(jws['payload'])) if jws['payload'] else None
        return (protected, jwk, payload), None

    def problem(self, status, kind, detail):
        return status, {'Content-Type': 'application/problem+json'}, json.dumps(
            {'type': 'urn:ietf:params:acme:error:' + kind, 'detail': detail}).encode()

    def nonce(self):
        value = uuid.uuid4().hex
        self.nonces.add(value)
        return value

    # -- resources --
    def directory(self, base):
        meta = {'termsOfService': base + '/terms'}
        if self.profiles:
            meta['profiles'] = self.profiles
        if self.eab:
            meta['externalAccountRequired'] = True
        found = {'newNonce': base + '/nonce', 'newAccount': base + '/account', 'newOrder': base + '/order',
                 'meta': meta}
        if self.ari:
            found['renewalInfo'] = base + '/renewal-info'
        return found

    def handle(self, method, path, body, base):
        url = base + path
        if path == '/dir':
            return 200, {}, json.dumps(self.directory(base)).encode()
        if path == '/nonce':
            return 200, {}, b''
        if path.startswith('/renewal-info/'):
            window = self.windows.get(path.rsplit('/', 1)[1])
            if not window:
                return self.problem(404, 'malformed', 'no such certificate')
            return 200, {'Retry-After': '21600'}, json.dumps({'suggestedWindow': {
                'start': window[0], 'end': window[1]}, 'explanationURL': 'https://ca.test/why'}).encode()
        verified, error = self.verify(url, body)
        if error:
            return error
        protected, jwk, payload = verified
        if path == '/account':
            kid = base + '/acct/' + hashlib.sha256(json.dumps(jwk, sort_keys=True).encode()).hexdigest()[:12]
            # RFC 8555 7.3.1: a key the CA knows gets its account back (no binding needed); onlyReturnExisting
            # for an unknown key is an error.
            if kid in self.accounts:
                return 200, {'Location': kid}, b'{"status": "valid"}'
            if payload.get('onlyReturnExisting'):
                return self.problem(400, 'accountDoesNotExist', 'no account for this key')
            if self.eab:
                binding = payload.get('externalAccountBinding')
                if not binding:
                    return self.problem(400, 'externalAccountRequired', 'EAB required')
                mac = hmac.new(unb64(self.eab[1]), ('%s.%s' % (binding['protected'], binding['payload'])).encode(),
                               hashlib.sha256).digest()
                assert json.loads(unb64(binding['protected']))['kid'] == self.eab[0]
                assert json.loads(unb64(binding['payload'])) == jwk and mac == unb64(binding['signature'])
            self.accounts[kid] = {'jwk': jwk, 'payload': payload}
            return 201, {'Location': kid}, b'{"status": "valid"}'
        account = self.accounts[protected['kid']]
        if path == '/order':
            if payload.get('replaces') and self.refuse_replaces:
                return self.problem(409, 'alreadyReplaced', 'that certificate was replaced already')
            if payload.get('profile') and payload['profile'] not in self.profiles:
                return self.problem(400, 'invalidProfile', 'no such profile')
            number = len(self.orders)
            names = [i['value'] for i in payload['identifiers']]
            for name in names:
                self.authz.setdefault(name, {'status': 'pending', 'token': uuid.uuid4().hex})
            self.orders.append(dict(payload, status='pending', names=names, account=protected['kid']))
            return 201, {'Location': '%s/order/%d' % (base, number)}, json.dumps(self.order_body(number, base)).encode()
        if path.startswith('/order/'):
            return 200, {}, json.dumps(self.order_body(int(path.rsplit('/', 1)[1]), base)).encode()
        if path.startswith('/authz/'):
            name = path.rsplit('/', 1)[1]
            state = self.authz[name]
            return 200, {}, json.dumps({'status': state['status'], 'identifier': {'type': 'dns', 'value': name},
                                        'challenges': [dict({'type': 'http-01', 'url': base + '/chall/' + name,
                                                             'token': state['token']},
                                                            **({'error': state['error']} if 'error' in state else {}))]}
                                       ).encode()
        if path.startswith('/chall/'):
            name = path.rsplit('/', 1)[1]
            state = self.authz[name]
            from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import jwk_thumbprint
            wanted = '%s.%s' % (state['token'], jwk_thumbprint(account['jwk']))
            if self.published.get(state['token']) == wanted:
                state['status'] = 'valid'
            else:
                state.update(status='invalid', error={'type': 'urn:ietf:params:acme:error:unauthorized',
                                                      'detail': 'got %r' % self.published.get(state['token'])})
            return 200, {}, b'{}'
        if path.startswith('/finalize/'):
            number = int(path.rsplit('/', 1)[1])
            csr = x509.load_der_x509_csr(unb64(payload['csr']))
            # The CSR's key and names, issued by the intermediate (key identifiers as real CAs write them).
            names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.pki.inter.subject)
                       .public_key(csr.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(pki.NOW - datetime.timedelta(hours=1))
                       .not_valid_after(pki.NOW + datetime.timedelta(days=6 if self.orders[number].get('profile')
                                                                     == 'shortlived' else 90))
                       .add_extension(names, critical=False)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                           self.pki.inter_key.public_key()), critical=False))
            leaf = builder.sign(self.pki.inter_key, hashes.SHA256())
            self.orders[number].update(status='valid', cert=pki.pem(leaf, self.pki.inter))
            self.issued.append(leaf)
            return 200, {}, json.dumps(self.order_body(number, base)).encode()
        if path.startswith('/cert/'):
            return 200, {'Content-Type': 'application/pem-certificate-chain'}, \
                self.orders[int(path.rsplit('/', 1)[1])]['cert'].encode()
        return self.problem(404, 'malformed', 'no such resource %s' % path)

    def order_body(self, number, base):
        order = self.orders[number]
        if order['status'] == 'pending' and all(self.authz[n]['status'] == 'valid' for n in order['names']):
            order['status'] = 'ready'
        if any(self.authz[n]['status'] == 'invalid' for n in order['names']):
            order['status'] = 'invalid'
        body = {'status': order['status'], 'identifiers': order['identifiers'],
                'authorizations': [base + '/authz/' + n for n in order['names']],
                'finalize': '%s/finalize/%d' % (base, number)}
        if order['status'] == 'valid':
            body['certificate'] = '%s/cert/%d' % (base, number)
        return body

    def serve(self):
        ca = self

        class Handler(httpd.QuietHandler):
            def answer(self, method):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                base = 'http://127.0.0.1:%d' % self.server.server_port
                status, headers, data = ca.handle(method, self.path, body, base)
                headers = dict(headers, **{'Replay-Nonce': ca.nonce()})
                if method == 'HEAD':
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                else:
                    self.reply(status, data, headers)

            def do_GET(self):
                self.answer('GET')

            def do_POST(self):
                self.answer('POST')

            def do_HEAD(self):
                self.answer('HEAD')
        return httpd.serving(Handler)
