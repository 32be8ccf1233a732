# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest
from pki import key, key_pem

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_keys


class Module(object):
    def __init__(self, check_mode=False):
        self.check_mode = check_mode


RSA = ('rsa', 2048)


def mode(path):
    return os.stat(path).st_mode & 0o7777


def test_key_is_created_kept_and_replaced_when_of_another_type(tmp_path):
    path = str(tmp_path / 'site' / 'rsa.key')
    assert _acme_keys.ensure_key(Module(), path, RSA) == 'created'
    first = open(path).read()
    assert first.startswith('-----BEGIN RSA PRIVATE KEY-----') and mode(path) == 0o600
    assert _acme_keys.spec_of(_acme_keys.load_key(first)) == RSA
    assert _acme_keys.ensure_key(Module(), path, RSA) == 'kept' and open(path).read() == first
    os.chmod(path, 0o644)
    assert _acme_keys.ensure_key(Module(), path, RSA) == 'mode' and mode(path) == 0o600
    # Another size, another type, or no key at all: made anew.
    assert _acme_keys.ensure_key(Module(), path, ('rsa', 3072)) == 'replaced'
    assert _acme_keys.spec_of(_acme_keys.load_key(open(path).read())) == ('rsa', 3072)
    assert _acme_keys.ensure_key(Module(), path, ('ecdsa', 'secp384r1')) == 'replaced'
    assert open(path).read().startswith('-----BEGIN EC PRIVATE KEY-----')
    open(path, 'w').write('garbage')
    assert _acme_keys.ensure_key(Module(), path, RSA) == 'replaced'
    assert _acme_keys.load_key(open(path).read()) is not None


def test_check_mode_writes_no_key(tmp_path):
    path = str(tmp_path / 'rsa.key')
    assert _acme_keys.ensure_key(Module(True), path, RSA) == 'created' and not os.path.exists(path)
    open(path, 'w').write('garbage')
    os.chmod(path, 0o644)
    assert _acme_keys.ensure_key(Module(True), path, RSA) == 'replaced' and open(path).read() == 'garbage'


def test_shared_key_content_is_installed_as_given(tmp_path):
    path = str(tmp_path / 'account.key')
    shared = key_pem(key('rsa'))
    assert _acme_keys.ensure_key(Module(), path, RSA, content=shared) == 'created'
    assert open(path).read() == shared and mode(path) == 0o600
    assert _acme_keys.ensure_key(Module(), path, RSA, content=shared) == 'kept'
    other = key_pem(key('rsa'))
    assert _acme_keys.ensure_key(Module(), path, RSA, content=other) == 'replaced' and open(path).read() == other


def test_csr_matches_its_key_and_names():
    private = key('ecdsa')
    csr = _acme_keys.make_csr(private, ['a.example.test', 'b.example.test'])
    assert _acme_keys.csr_problem(csr, private, ['a.example.test', 'b.example.test']) is None
    assert _acme_keys.csr_problem(csr, private, ['b.example.test', 'a.example.test']) == \
        'its common name is a.example.test, not b.example.test'
    assert _acme_keys.csr_problem(csr, private, ['a.example.test']) == \
        'its names are a.example.test, b.example.test, not a.example.test'
    assert _acme_keys.csr_problem(csr, key('ecdsa'), ['a.example.test', 'b.example.test']) == \
        'it was made for another key'
    assert _acme_keys.csr_problem('not pem', private, ['a.example.test']) == 'not a CSR'


def test_csr_is_created_kept_and_replaced(tmp_path):
    key_path, csr_path = str(tmp_path / 'ecdsa.key'), str(tmp_path / 'ecdsa.csr')
    names = ['www.example.test', 'example.test']
    with pytest.raises(ValueError, match='no readable private key'):
        _acme_keys.ensure_csr(Module(), csr_path, key_path, names)
    _acme_keys.ensure_key(Module(), key_path, ('ecdsa', 'secp384r1'))
    assert _acme_keys.ensure_csr(Module(), csr_path, key_path, names) == 'created' and mode(csr_path) == 0o644
    first = open(csr_path).read()
    assert _acme_keys.ensure_csr(Module(), csr_path, key_path, names) == 'kept' and open(csr_path).read() == first
    # Another name: made anew (check mode first: nothing written).
    assert _acme_keys.ensure_csr(Module(True), csr_path, key_path, names + ['x.example.test']) == 'replaced'
    assert open(csr_path).read() == first
    assert _acme_keys.ensure_csr(Module(), csr_path, key_path, names + ['x.example.test']) == 'replaced'
    # A key replaced in this run (check mode: not yet written) cannot fit the CSR of the old key.
    assert _acme_keys.ensure_csr(Module(True), csr_path, key_path, names, key_changed=True) == 'replaced'
    assert _acme_keys.ensure_csr(Module(True), str(tmp_path / 'new.csr'), key_path, names, key_changed=True) == \
        'created'


def test_an_account_key_of_any_rsa_size_is_kept(tmp_path):
    path = str(tmp_path / 'account.key')
    open(path, 'w').write(key_pem(key('rsa')))            # 2048 bits
    os.chmod(path, 0o600)
    assert _acme_keys.ensure_key(Module(), path, ('rsa', None)) == 'kept'
    open(path, 'w').write(key_pem(key('ecdsa')))
    assert _acme_keys.ensure_key(Module(), path, ('rsa', None)) == 'replaced'
    assert _acme_keys.spec_of(_acme_keys.load_key(open(path).read())) == ('rsa', 4096)


def test_two_runs_at_once_make_one_key(tmp_path):
    import threading
    path = str(tmp_path / 'account.key')
    actions, start = [], threading.Barrier(2)

    def run():
        start.wait()
        actions.append(_acme_keys.ensure_key(Module(), path, ('rsa', None)))

    threads = [threading.Thread(target=run) for _index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The second waited for the lock, then found the first one's key.
    assert sorted(actions) == ['created', 'kept']
    assert _acme_keys.spec_of(_acme_keys.load_key(open(path).read())) == ('rsa', 4096)


def test_the_fetch_identity_is_derived_from_the_account_key_and_is_not_it():
    from cryptography.hazmat.primitives import serialization
    one, two = _acme_keys.generate_key(('rsa', 2048)), _acme_keys.generate_key(('rsa', 2048))
    first = _acme_keys.fetch_identity(one)
    # The same account key gives the same identity on every host; another account another one.
    assert _acme_keys.fetch_public_line(first) == _acme_keys.fetch_public_line(_acme_keys.fetch_identity(one))
    assert _acme_keys.fetch_public_line(first) != _acme_keys.fetch_public_line(_acme_keys.fetch_identity(two))
    line = _acme_keys.fetch_public_line(first)
    assert line.startswith('ssh-ed25519 AAAA') and line.endswith(' opsnotes-acme-fetch')
    account_public = _acme_keys.load_key(one).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert account_public.split()[1] not in line
    with pytest.raises(ValueError):
        _acme_keys.fetch_identity('not a key')
