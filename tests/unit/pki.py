# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A throw-away PKI for the ACME unit tests: root -> intermediate -> RSA and ECDSA leaves, as PEM files."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def key(kind):
    return rsa.generate_private_key(65537, 2048) if kind == 'rsa' else ec.generate_private_key(ec.SECP384R1())


def cert(subject_key, cn, issuer_key=None, issuer_cert=None, names=(), days=(-1, 90), ca=False):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=days[0]))
               .not_valid_after(NOW + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    # Key identifiers, as real CAs write them (strict verifiers, Python 3.13's among them, require the AKI; ACME's
    # renewal information names a certificate by it).
    # Key usage, as real CAs write it: Python 3.13's strict verification refuses a CA certificate without it.
    if ca:
        usage = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False)
    else:
        usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                              key_encipherment=isinstance(subject_key, rsa.RSAPrivateKey), data_encipherment=False,
                              key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False,
                              decipher_only=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    builder = builder.add_extension(usage, critical=True)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key((issuer_key or subject_key).public_key()), critical=False)
    return builder.sign(issuer_key or subject_key, hashes.SHA256())


def pem(*certs):
    return ''.join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(private):
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


class Pki(object):
    def __init__(self):
        self.root_key = key('rsa')
        self.root = cert(self.root_key, 'Test Root', days=(-10, 3650), ca=True)
        self.inter_key = key('rsa')
        self.inter = cert(self.inter_key, 'Test Intermediate', self.root_key, self.root, days=(-10, 1000), ca=True)

    def leaf(self, kind, names, days=(-1, 90)):
        private = key(kind)
        return private, cert(private, names[0], self.inter_key, self.inter, names=names, days=days)

    def write_site(self, directory, kind, names, days=(-1, 90), chain=True, key_of=None):
        """Write <kind>.key and <kind>.fullchain.pem; returns the item the check module takes."""
        private, leaf = self.leaf(kind, names, days)
        key_path = directory / ('%s.key' % kind)
        cert_path = directory / ('%s.fullchain.pem' % kind)
        key_path.write_text(key_pem(key_of or private))
        cert_path.write_text(pem(leaf, self.inter) if chain else pem(leaf))
        return dict(name='site', key_type=kind, cert=str(cert_path), key=str(key_path), domains=list(names))
