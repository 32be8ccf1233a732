# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ACME engine's key material on the host: private keys of a wanted type, and CSRs that match their key and
names. Each is kept when it already is what is wanted, else written anew (atomically, mode 0600 for keys and 0644 for
CSRs, owned by root). Key material never appears in a result or a message.

Needs the Python ``cryptography`` package on the target (Debian: python3-cryptography); it is imported on first use,
so a caller can install the package in the same process first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from ansible_collections.opsnotes.edge.plugins.module_utils._files import fix_mode, read_text, write_atomic

EC_CURVE = 'secp384r1'


def _crypto():
    try:
        from cryptography import x509
    except ImportError:
        # Installed by this very process (acme_config's packages) after Python listed its path entries.
        import importlib
        importlib.invalidate_caches()
        from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    return x509, hashes, serialization, ec, rsa


def key_spec(key_type, size=None):
    """The wanted key as a comparable tuple: ('rsa', bits) or ('ecdsa', curve name)."""
    return ('rsa', int(size)) if key_type == 'rsa' else ('ecdsa', EC_CURVE)


def fits(spec, wanted):
    """Whether a key of ``spec`` is a key of ``wanted``; ('rsa', None) wants an RSA key of any size (an ACME account
    key: made anew, it would be another account)."""
    return spec is not None and (spec == wanted or (wanted[1] is None and spec[0] == wanted[0]))


def spec_of(private_key):
    """The tuple of key_spec for a loaded private key, or None for another kind of key."""
    _x509, _hashes, _serialization, ec, rsa = _crypto()
    if isinstance(private_key, rsa.RSAPrivateKey):
        return ('rsa', private_key.key_size)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return ('ecdsa', private_key.curve.name)
    return None


def load_key(pem):
    """The private key of PEM text (str or bytes), or None when it is not one (unreadable, encrypted, garbage)."""
    serialization = _crypto()[2]
    try:
        return serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    except (ValueError, TypeError):
        return None


def generate_key(spec):
    """A new private key for ``spec`` (a key_spec tuple), as PEM text in the traditional OpenSSL format."""
    _x509, _hashes, serialization, ec, rsa = _crypto()
    if spec[0] == 'rsa':
        key = rsa.generate_private_key(public_exponent=65537, key_size=spec[1] or 4096)
    else:
        key = ec.generate_private_key(ec.SECP384R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@contextlib.contextmanager
def _directory_lock(path, check_mode):
    """Hold an exclusive lock on the directory of ``path`` (nothing in check mode, or when it does not exist yet):
    two runs that reach one host at once (the host itself, and another host that reads its account key) make at
    most one key."""
    directory = os.path.dirname(path) or '.'
    if check_mode or not os.path.isdir(directory):
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_key(module, path, spec, content=None):
    """Keep a private key at ``path``: the given PEM ``content`` (a key shared by another host), else one of
    ``spec`` (see fits; a new RSA key of no given size has 4096 bits). Returns the action: 'kept', 'mode' (only
    owner or mode fixed), 'created' or 'replaced' (a key of another type or size, or not a key). In check mode
    nothing is written. The read, the comparison and the write happen under a lock of the key's directory."""
    with _directory_lock(path, module.check_mode):
        old = read_text(path)
        if content is not None:
            wanted_ok = old is not None and old.strip() == content.strip()
        else:
            loaded = load_key(old) if old is not None else None
            wanted_ok = loaded is not None and fits(spec_of(loaded), spec)
        if wanted_ok:
            return 'mode' if fix_mode(module, path, 0o600, 'root') else 'kept'
        action = 'created' if old is None else 'replaced'
        if not module.check_mode:
            text = content if content is not None else generate_key(spec)
            write_atomic(module, path, text if text.endswith('\n') else text + '\n', 0o600, 0, 0)
        return action


def csr_problem(csr_pem, private_key, domains):
    """Why the CSR ``csr_pem`` does not fit ``private_key`` and ``domains`` (the first as the common name, all as
    subjectAltName), or None when it does."""
    x509, _hashes, serialization, _ec, _rsa = _crypto()
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        return 'not a CSR'
    if not csr.is_signature_valid:
        return 'its signature does not verify'
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if csr.public_key().public_bytes(*der) != private_key.public_key().public_bytes(*der):
        return 'it was made for another key'
    names = [a.value for a in csr.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)]
    if names != [domains[0]]:
        return 'its common name is %s, not %s' % (', '.join(names) or 'missing', domains[0])
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    if sorted(dns) != sorted(domains):
        return 'its names are %s, not %s' % (', '.join(dns) or 'none', ', '.join(domains))
    return None


def make_csr(private_key, domains):
    """A CSR (PEM text) for ``domains``: the first as common name, every one as a DNS subjectAltName."""
    x509, hashes, serialization, _ec, _rsa = _crypto()
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, domains[0])]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]), critical=False)
    return builder.sign(private_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def ensure_csr(module, path, key_path, domains, key_changed=False):
    """Keep a CSR at ``path`` for the key at ``key_path`` and ``domains``. Returns the action ('kept', 'mode',
    'created', 'replaced'). ``key_changed``: the key was (in check mode: would be) written anew in this run, so a
    CSR made for the previous key cannot fit it."""
    old = read_text(path)
    if module.check_mode and key_changed:
        return 'created' if old is None else 'replaced'
    key = load_key(read_text(key_path) or '')
    if key is None:
        raise ValueError('no readable private key at %s' % key_path)
    if old is not None and csr_problem(old, key, domains) is None:
        return 'mode' if fix_mode(module, path, 0o644, 'root') else 'kept'
    if not module.check_mode:
        write_atomic(module, path, make_csr(key, domains), 0o644, 0, 0)
    return 'created' if old is None else 'replaced'


# The SSH identity with which the hosts of an account group fetch certificates from the host that orders them.
FETCH_IDENTITY_INFO = b'opsnotes.edge acme fetch identity v1'
FETCH_IDENTITY_COMMENT = 'opsnotes-acme-fetch'


def fetch_identity(account_key_pem):
    """The Ed25519 key with which the hosts of an account group fetch their certificates from the one that orders,
    derived from the group's account key (HKDF-SHA256 over its DER form): every host that holds the account key
    computes the same identity, the ordering host its public half for authorized_keys, and the ACME key itself is
    never used for SSH. Returns the private key object."""
    serialization = _crypto()[2]
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    account = load_key(account_key_pem)
    if account is None:
        raise ValueError('the account key is not a readable private key')
    der = account.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=FETCH_IDENTITY_INFO).derive(der)
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def fetch_public_line(identity):
    """The public half of a fetch identity as an authorized_keys key (``ssh-ed25519 AAAA... opsnotes-acme-fetch``)."""
    serialization = _crypto()[2]
    public = identity.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return '%s %s' % (public.decode(), FETCH_IDENTITY_COMMENT)


def ensure_fetch_key(module, path, account_key_pem):
    """Keep the fetch identity derived from ``account_key_pem`` at ``path`` (OpenSSH format, 0600, root's). The file
    is compared by its key, not its text (OpenSSH's format holds random check bytes). Returns 'kept', 'mode',
    'created' or 'replaced'."""
    serialization = _crypto()[2]
    identity = fetch_identity(account_key_pem)
    raw = serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    with _directory_lock(path, module.check_mode):
        old = read_text(path)
        try:
            loaded = serialization.load_ssh_private_key(old.encode(), password=None) if old is not None else None
        except (ValueError, TypeError):
            loaded = None
        try:
            same = loaded is not None and loaded.private_bytes(*raw) == identity.private_bytes(*raw)
        except (ValueError, TypeError):     # another kind of key
            same = False
        if same:
            return 'mode' if fix_mode(module, path, 0o600, 'root') else 'kept'
        if not module.check_mode:
            text = identity.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()).decode()
            write_atomic(module, path, text, 0o600, 0, 0)
        return 'created' if old is None else 'replaced'
