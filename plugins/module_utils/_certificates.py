# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Certificates: reading chains and keys, checking a chain, and the leaf a server sends to a client of one key type.

Needs the Python ``cryptography`` package on the target (Debian: python3-cryptography), which community.crypto's
ACME modules need there anyway.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import socket
import ssl

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import Directory, renewal_plan
from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import connect_arg, openssl_of

# TLS 1.2 cipher suites a client that only speaks ECDSA (or only RSA) would offer.
PROBE_CIPHERS = {
    'ecdsa': 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
    'rsa': 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305',
}


# TLS 1.3 signature algorithms a client that only verifies ECDSA (or only RSA) signatures would offer. An RSA client
# lists PKCS#1 next to PSS as every real one does: TLS 1.3 handshakes are signed with PSS, and HAProxy picks its RSA
# certificate only for a client that lists PKCS#1 (with PSS alone it sends its ECDSA one).
PROBE_SIGALGS = {
    'ecdsa': 'ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512',
    'rsa': 'RSA-PSS+SHA256:RSA+SHA256:RSA-PSS+SHA384:RSA+SHA384:RSA-PSS+SHA512:RSA+SHA512',
}
PEM_CERTIFICATE = re.compile(r'-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----', re.S)


# --- certificates ------------------------------------------------------------------------------------------------

def _x509():
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    return x509, serialization


def load_chain(text):
    """The certificates of a PEM bundle, in file order."""
    x509 = _x509()[0]
    blocks = re.findall(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', text, re.S)
    return [x509.load_pem_x509_certificate(block.encode()) for block in blocks]


def not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def key_description(public_key):
    """('rsa', 'rsa 3072') or ('ecdsa', 'ecdsa secp384r1'), ('other', name) otherwise."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    if isinstance(public_key, rsa.RSAPublicKey):
        return 'rsa', 'rsa %d' % public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return 'ecdsa', 'ecdsa %s' % public_key.curve.name
    return 'other', type(public_key).__name__


def public_der(public_key):
    serialization = _x509()[1]
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def dns_names(cert):
    x509 = _x509()[0]
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in ext.value.get_values_for_type(x509.DNSName)]


def signed_by(cert, issuer):
    """True when ``issuer``'s key made ``cert``'s signature and the names chain."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            key.verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        return False
    return True


def chain_problems(chain, now, anchors=None):
    """Problems with a leaf-first chain: order, signatures, validity; and with ``anchors``, trust up to a root."""
    problems = []
    if len(chain) < 2:
        problems.append('the file holds %d certificate(s): a fullchain is the leaf plus its intermediates'
                        % len(chain))
    for index, cert in enumerate(chain):
        if not_after(cert) < now or not_before(cert) > now:
            problems.append('certificate %d (%s) is not valid now (%s - %s)'
                            % (index, cert.subject.rfc4514_string(), not_before(cert), not_after(cert)))
        if index + 1 < len(chain) and not signed_by(cert, chain[index + 1]):
            problems.append('certificate %d (%s) is not signed by certificate %d (%s)'
                            % (index, cert.subject.rfc4514_string(), index + 1,
                               chain[index + 1].subject.rfc4514_string()))
    if anchors is not None and chain:
        last = chain[-1]
        if not any(signed_by(last, anchor) or last == anchor for anchor in anchors):
            problems.append('the chain does not lead to a trusted root (issuer of the last certificate: %s)'
                            % last.issuer.rfc4514_string())
    return problems


def served_leaf(address, port, server_name, key_type, timeout, openssl=None, run=None):
    """DER of the leaf certificate the server sends to a TLS 1.2 client offering only ``key_type`` suites. A server
    that refuses TLS 1.2 (Mozilla's modern profile) is asked as a TLS 1.3 client that accepts only ``key_type``
    signatures, with the ``openssl`` command and ``run(argv) -> (rc, out, err)`` when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(PROBE_CIPHERS[key_type])
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.getpeercert(binary_form=True)
    except ssl.SSLError:
        if not (openssl and run):
            raise
    return served_leaf_tls13(openssl, run, address, port, server_name, key_type)


def serial_of(der):
    """The serial number (lower-case hex) of a DER certificate."""
    return '%x' % _x509()[0].load_der_x509_certificate(der).serial_number


def served_leaf_tls13(openssl, run, address, port, server_name, key_type):
    """DER of the leaf a TLS 1.3 client offering only ``key_type`` signature algorithms gets (openssl s_client:
    Python's ssl module cannot choose the signature algorithms a client offers)."""
    argv = [openssl, 's_client', '-connect', connect_arg(address, port), '-servername', server_name, '-tls1_3',
            '-sigalgs', PROBE_SIGALGS[key_type]]
    _rc, out, err = run(argv)
    match = PEM_CERTIFICATE.search(out or '')
    if not match:
        lines = [line for line in ((err or '') + (out or '')).splitlines() if line.strip()]
        raise OSError('no TLS 1.2 handshake, and no TLS 1.3 handshake for an %s-only client: %s'
                      % (key_type.upper(), lines[-1] if lines else 'no answer'))
    return base64.b64decode(''.join(match.group(1).split()))


PRIVATE_KEY_RE = re.compile(r'-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----.+?-----END \1-----', re.S)


def private_key_source(item, cert_text):
    """Where the private key of ``item`` is: its ``key`` file; without one, as HAProxy looks, the certificate file
    itself when it holds a key, else CERT.key. Returns (path, the key's PEM bytes when already read, else None)."""
    if item.get('key') is not None:
        return item['key'], None
    match = PRIVATE_KEY_RE.search(cert_text)
    if match:
        return item['cert'], match.group(0).encode()
    return item['cert'] + '.key', None


def read_private_key(path, text=None):
    serialization = _x509()[1]
    if text is None:
        with open(path, 'rb') as handle:
            text = handle.read()
    return serialization.load_pem_private_key(text, password=None)


def inspect_certificate(item, renew_days, now, anchors=None, due_is_problem=True, renewal_info=None):
    """State of one certificate/key pair against what the site wants. ``item``: name, key_type, cert, key, domains.
    Without ``key_type`` the leaf's is taken, without ``domains`` the leaf's names, without ``key`` see
    private_key_source. ``due_is_problem``: a certificate that is due only (still usable) counts as a problem.
    ``renewal_info``: the CA's renewal information (renewal_reader), whose window then decides when it is due."""
    serialization = _x509()[1]
    result = dict(name=item['name'], key_type=item.get('key_type'), cert=item['cert'], exists=False, usable=False,
                  due=True, days_left=None, not_after=None, not_before=None, lifetime_hours=None, renew_at=None,
                  renewal_by=None, ari_window=None, serial=None, issuer=None, key=None,
                  key_matches=False,
                  domains_missing=list(item.get('domains') or []), chain_length=0, chain_valid=False,
                  problems=[])
    problems = result['problems']
    if not os.path.exists(item['cert']):
        problems.append('no certificate at %s yet' % item['cert'])
        return result
    result['exists'] = True
    try:
        with open(item['cert']) as handle:
            cert_text = handle.read()
        chain = load_chain(cert_text)
    except (OSError, ValueError) as exc:
        problems.append('cannot read %s: %s' % (item['cert'], exc))
        return result
    if not chain:
        problems.append('%s holds no PEM certificate' % item['cert'])
        return result
    leaf = chain[0]
    left = not_after(leaf) - now
    result.update(days_left=left.days, not_after=_stamp(not_after(leaf)),
                  not_before=_stamp(not_before(leaf)),
                  lifetime_hours=int((not_after(leaf) - not_before(leaf)).total_seconds() // 3600),
                  serial='%x' % leaf.serial_number, issuer=leaf.issuer.rfc4514_string(),
                  chain_length=len(chain), leaf_der=leaf.public_bytes(serialization.Encoding.DER))
    family, result['key'] = key_description(leaf.public_key())
    result['key_type'] = wanted_type = item.get('key_type') or family
    if family != wanted_type:
        problems.append('the certificate has a %s key, not %s' % (result['key'], wanted_type))
    where, text = private_key_source(item, cert_text)
    try:
        private = read_private_key(where, text)
        result['key_matches'] = public_der(private.public_key()) == public_der(leaf.public_key())
        if not result['key_matches']:
            problems.append('the certificate does not belong to the key %s' % where)
    except (OSError, ValueError, TypeError) as exc:
        problems.append('cannot read the key %s: %s' % (where, exc))
    names = dns_names(leaf)
    wanted_names = names if item.get('domains') is None else item['domains']
    result['domains'] = names
    result['domains_missing'] = [d for d in wanted_names if d.rstrip('.').lower() not in names]
    if result['domains_missing']:
        problems.append('the certificate does not cover %s' % ', '.join(result['domains_missing']))
    wanted = set(d.rstrip('.').lower() for d in wanted_names)
    extra = [n for n in names if n not in wanted]
    if extra:
        problems.append('the certificate also covers %s, no longer wanted' % ', '.join(extra))
    chain_issues = chain_problems(chain, now, anchors)
    result['chain_valid'] = not chain_issues
    problems.extend(chain_issues)
    result['usable'] = (result['key_matches'] and family == wanted_type and not_after(leaf) > now
                        and not_before(leaf) <= now)
    plan = renewal_plan(leaf, now, renew_days, renewal_info)
    result.update(renew_at=_stamp(plan['renew_at']), renewal_by=plan['by'], due=bool(problems) or plan['due'])
    if plan['window']:
        result['ari_window'] = dict(start=_stamp(plan['window']['start']), end=_stamp(plan['window']['end']),
                                    explanation=plan['window'].get('explanation'))
    if plan['due'] and not_after(leaf) > now and due_is_problem:
        problems.append(('%d days left: the CA asks for its renewal from %s (its ARI window: %s to %s)' % (
            left.days, result['renew_at'], result['ari_window']['start'], result['ari_window']['end']))
            if plan['window'] else
            '%d days left: due since %s (fewer than %d days, or less than a third of the lifetime)'
            % (left.days, result['renew_at'], renew_days))
    return result


def _stamp(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def renewal_reader(directory_url, timeout):
    """The function inspect_certificate asks the CA's renewal information with (one directory read for all the
    certificates of a run), or None without a directory URL. A CA without ARI, or one that does not answer, leaves
    the renewal to the lifetime rule."""
    return Directory(directory_url, timeout=timeout).renewal_info if directory_url else None


def names_of(item, entry):
    """The names to probe for a certificate item: its ``domains``, else those of the certificate found."""
    return entry.get('domains') or [] if item['domains'] is None else item['domains']


def probe_served(module, item, entry, address, port, timeout):
    """Per name of ``item``, whether the server at ``address``:``port`` sends a client of the entry's key type the
    certificate in the file (``entry`` from inspect_certificate, its ``leaf_der``); a mismatch or a failed
    connection is added to the entry's problems. Returns [{domain, matches, serial, error}]."""
    served = []
    openssl, run_command = openssl_of(module, timeout)
    if entry['key_type'] is None:         # no certificate to take it from, and none asked for
        return served
    for domain in names_of(item, entry):
        row = dict(domain=domain, matches=False, serial=None, error=None)
        try:
            der = served_leaf(address, port, domain, entry['key_type'], timeout, openssl, run_command)
            row['matches'] = der == entry.get('leaf_der')
            row['serial'] = serial_of(der)
        except (OSError, ssl.SSLError, ValueError) as exc:
            row['error'] = str(exc)
        if not row['matches']:
            entry['problems'].append('%s: a %s-only client %s' % (
                domain, entry['key_type'].upper(),
                'could not connect: %s' % row['error'] if row['error']
                else 'is served serial %s, not the certificate in the file' % row['serial']))
        served.append(row)
    return served


# The certificate items and the inspection options of the modules that inspect (acme_certificate_check,
# acme_config), as AnsibleModule argument specs.
CERTIFICATE_ITEM = dict(
    name=dict(type='str', required=True),
    key_type=dict(type='str', choices=['rsa', 'ecdsa']),
    cert=dict(type='path', required=True),
    key=dict(type='path', no_log=False),
    domains=dict(type='list', elements='str'),
)
INSPECT_ARGS = dict(
    renew_days=dict(type='int', default=30),
    directory_url=dict(type='str'),
    probe=dict(type='bool', default=False),
    probe_address=dict(type='str', default='127.0.0.1'),
    probe_port=dict(type='int', default=443),
    timeout=dict(type='float', default=5),
)


def inspect_all(module, params, anchors=None):
    """Each item of params['certificates'] inspected (inspect_certificate, now), and with params['probe'] what the
    server sends for it (probe_served). Returns (entries, one failure line per entry with problems)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    entries, renewal_info = [], renewal_reader(params.get('directory_url'), params['timeout'])
    for item in params['certificates']:
        entry = inspect_certificate(item, params['renew_days'], now, anchors, renewal_info=renewal_info)
        if params['probe']:
            entry['served'] = probe_served(module, item, entry, params['probe_address'], params['probe_port'],
                                           params['timeout'])
        entry.pop('leaf_der', None)
        entries.append(entry)
    failures = ['%s (%s): %s' % (e['name'], e['key_type'] or 'key type unknown', '; '.join(e['problems']))
                for e in entries if e['problems']]
    return entries, failures
