# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest
from pki import Pki, pem

from ansible_collections.opsnotes.edge.plugins.modules import acme_config

CA_PEM = pem(Pki().root)


class Host(object):
    """run_command for dpkg-query, apt-get, update-ca-certificates and systemctl, with failures on demand."""

    def __init__(self, installed=(), fail=()):
        self.installed, self.fail, self.calls = set(installed), set(fail), []
        self.enabled, self.active = set(), set()

    def __call__(self, argv, **kwargs):
        tool, args = os.path.basename(argv[0]), list(argv[1:])
        self.calls.append([tool] + args)
        if tool == 'dpkg-query':
            return 0, ''.join('%s ii \n' % p for p in args[2:] if p in self.installed), ''
        verb = args[0] if args else tool
        if verb in self.fail or tool in self.fail:
            return 1, '', '%s refused' % verb
        if tool == 'apt-get' and verb == 'install':
            self.installed.update(a for a in args if not a.startswith('-') and a != 'install')
        if tool == 'systemctl':
            unit = args[-1]
            if verb == 'is-enabled':
                return (0 if unit in self.enabled else 1), '', ''
            if verb == 'is-active':
                return (0 if unit in self.active else 3), '', ''
            if verb == 'enable':
                self.enabled.add(unit)
            if verb == 'start':
                self.active.add(unit)
            if verb == 'show':
                return 0, ''.join('Id=%s\nActiveState=%s\n\n' % (u, 'active' if u in self.active else 'inactive')
                                  for u in args[args.index('--') + 1:]), ''
            if verb == 'disable':
                self.enabled.discard(unit)
                self.active.discard(unit)
        return 0, '', ''

    def systemctl(self):
        return [c[1:] for c in self.calls if c[0] == 'systemctl']


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setattr(acme_config, 'CA_DIR', str(tmp_path / 'ca'))
    base = tmp_path / 'ssl'
    units = tmp_path / 'units'
    args = dict(
        packages=['acme-tiny'],
        trusted_ca_certs=[CA_PEM],
        directories=[dict(path=str(base), mode='0700'), dict(path=str(base / 'shop'), mode='0700'),
                     dict(path=str(tmp_path / 'lib' / 'challenges'), mode='0755')],
        account_key=str(base / 'account.key'),
        keys=[dict(key=str(base / 'shop' / (kind + '.key')), key_type=kind, size=2048,
                   csr=str(base / 'shop' / (kind + '.csr')), domains=['shop.example.test', 'www.shop.example.test']) for kind in ('rsa', 'ecdsa')],
        files=[dict(path=str(tmp_path / 'sbin' / 'renew'), content='#!/bin/sh\nexit 0\n', mode='0755'),
               dict(path=str(units / 'renew.service'), content='[Service]\nExecStart=/x\n'),
               dict(path=str(units / 'renew.timer'), content='[Timer]\nOnCalendar=daily\n')],
        timer='renew', unit_dir=str(units), renewal_lock=str(tmp_path / 'renew.lock'),
        certificates=[dict(name='shop', key_type='ecdsa', cert=str(base / 'shop' / 'ecdsa.fullchain.pem'),
                           key=str(base / 'shop' / 'ecdsa.key'), domains=['shop.example.test'])],
    )
    return args, tmp_path


def test_converges_everything_in_one_call_then_only_reads(run_module, engine):
    args, tmp = engine
    host = Host()
    result, failed = run_module(acme_config, args, run_command=host)
    assert not failed and result['changed'], result
    assert result['packages_installed'] == ['acme-tiny'] and 'acme-tiny' in host.installed
    assert result['trust_changed'] == [str(tmp / 'ca' / 'opsnotes-acme-0.crt')]
    assert ['update-ca-certificates'] in host.calls
    assert oct(os.stat(tmp / 'ssl' / 'shop').st_mode & 0o777) == '0o700'
    assert oct(os.stat(tmp / 'lib' / 'challenges').st_mode & 0o777) == '0o755'
    assert oct(os.stat(tmp / 'lib').st_mode & 0o777) == '0o755'
    assert result['account_key'] == 'created' and len(result['account_thumbprint']) == 43
    assert [(k['key_action'], k['csr_action']) for k in result['key_actions']] == [('created', 'created')] * 2
    assert result['keys'] == result['key_actions']   # deprecated name, until 1.0.0
    assert (tmp / 'sbin' / 'renew').read_text() == '#!/bin/sh\nexit 0\n'
    assert oct(os.stat(tmp / 'sbin' / 'renew').st_mode & 0o777) == '0o755'
    assert result['timer_actions'] == ['daemon-reload', 'enable', 'start']
    assert host.systemctl()[-4:-1] == [['daemon-reload'], ['enable', 'renew.timer'], ['start', 'renew.timer']]
    # No certificate yet: due, not usable; never a key in the result.
    assert result['certificates'][0]['exists'] is False and result['certificates'][0]['due'] is True
    assert 'PRIVATE KEY' not in repr(result)

    host.calls = []
    again, failed = run_module(acme_config, args, run_command=host)
    assert not failed and again['changed'] is False, again
    assert again['account_thumbprint'] == result['account_thumbprint']
    assert [(k['key_action'], k['csr_action']) for k in again['keys']] == [('kept', 'kept')] * 2
    assert [c[0] for c in host.calls] == ['dpkg-query', 'systemctl', 'systemctl', 'systemctl']
    assert host.systemctl()[:2] == [['is-enabled', '--quiet', 'renew.timer'], ['is-active', '--quiet', 'renew.timer']]
    # The timer's state as systemd holds it after the call, for the role's verify step.
    assert host.systemctl()[2][0] == 'show' and host.systemctl()[2][-3:] == ['--', 'renew.timer', 'renew.service']
    assert '--timestamp=utc' in host.systemctl()[2]
    assert again['renewal_state'] == dict(timer=dict(Id='renew.timer', ActiveState='active'),
                                          service=dict(Id='renew.service', ActiveState='inactive'))


def test_check_mode_changes_nothing_and_says_what_it_would(run_module, engine):
    args, tmp = engine
    host = Host(installed=['acme-tiny'])
    result, failed = run_module(acme_config, dict(args, _ansible_diff=True), run_command=host, check_mode=True)
    assert not failed and result['changed'] and not result['pending'], result
    assert not (tmp / 'ssl').exists() and not (tmp / 'ca').exists() and not (tmp / 'units').exists()
    assert [(k['key_action'], k['csr_action']) for k in result['keys']] == [('created', 'created')] * 2
    assert result['timer_actions'] == ['daemon-reload', 'enable', 'start']
    assert [c[0] for c in host.calls] == ['dpkg-query', 'systemctl', 'systemctl', 'systemctl']
    assert result['renewal_state']['timer']['ActiveState'] == 'inactive'
    assert {d['after_header'] for d in result['diff']} >= {str(tmp / 'units' / 'renew.timer')}


def test_check_mode_with_missing_packages_stops_there(run_module, engine):
    args, tmp = engine
    host = Host()
    result, failed = run_module(acme_config, args, run_command=host, check_mode=True)
    assert not failed and result['pending'] and result['packages_installed'] == ['acme-tiny']
    assert [c[0] for c in host.calls] == ['dpkg-query'] and not (tmp / 'ssl').exists()


def test_a_refused_timer_puts_the_previous_renewal_files_back(run_module, engine):
    args, tmp = engine
    host = Host()
    assert not run_module(acme_config, args, run_command=host)[1]
    changed = dict(args, files=[dict(f, content=f['content'] + '# new\n') for f in args['files']])
    host.active.discard('renew.timer')
    host.fail.add('start')
    result, failed = run_module(acme_config, changed, run_command=host)
    assert failed and result['msg'].startswith('renewal step: systemctl start renew.timer failed: start refused')
    assert 'the renewal files were restored' in result['msg']
    assert 'steps completed before it: packages, trust, directories, keys' in result['msg']
    assert (tmp / 'units' / 'renew.timer').read_text() == '[Timer]\nOnCalendar=daily\n'
    assert (tmp / 'sbin' / 'renew').read_text() == '#!/bin/sh\nexit 0\n'
    # systemd loads the restored units again; nothing stands of the change: reported unchanged.
    assert host.systemctl()[-2:] == [['start', 'renew.timer'], ['daemon-reload']]
    assert result['changed'] is False and result['files_changed'] == [] and result['timer_actions'] == []


def test_a_refused_trust_update_puts_the_ca_files_back(run_module, engine):
    args, tmp = engine
    host = Host(installed=['acme-tiny'], fail=['update-ca-certificates'])
    result, failed = run_module(acme_config, args, run_command=host)
    assert failed and result['msg'].startswith('trust step: update-ca-certificates failed')
    assert 'the CA files were restored as they were' in result['msg'] and result['changed'] is False
    assert not (tmp / 'ca' / 'opsnotes-acme-0.crt').exists() and not (tmp / 'ssl').exists()


def test_the_trust_store_follows_the_list_and_keeps_other_consumers_files(run_module, engine):
    args, tmp = engine
    store = tmp / 'ca'
    store.mkdir()
    second = pem(Pki().root)
    # Before: a file of the single name every consumer had (this consumer's now), another consumer's, and a CA
    # the operator put there by hand.
    (store / 'opsnotes-acme-0.crt').write_text(CA_PEM)
    (store / 'opsnotes-acme-nginx_acme-0.crt').write_text(second)
    (store / 'local.crt').write_text(second)
    mine = dict(args, trust_name='opsnotes-acme-haproxy', trusted_ca_certs=[CA_PEM, second])
    host = Host(installed=['acme-tiny'])
    result, failed = run_module(acme_config, mine, run_command=host)
    assert not failed and result['changed']
    assert result['trust_changed'] == [str(store / n) for n in ('opsnotes-acme-haproxy-0.crt',
                                                                'opsnotes-acme-haproxy-1.crt', 'opsnotes-acme-0.crt')]
    assert result['trust_removed'] == [str(store / 'opsnotes-acme-0.crt')]
    assert sorted(os.listdir(store)) == ['local.crt', 'opsnotes-acme-haproxy-0.crt', 'opsnotes-acme-haproxy-1.crt',
                                         'opsnotes-acme-nginx_acme-0.crt']
    assert host.calls.count(['update-ca-certificates']) == 1
    # The same list again: nothing written, nothing removed, no update.
    host.calls = []
    result, failed = run_module(acme_config, mine, run_command=host)
    assert not failed and result['trust_changed'] == [] and ['update-ca-certificates'] not in host.calls
    # A CA taken off the list: check mode says so and keeps it; a refused update puts it back; then it is gone.
    fewer = dict(mine, trusted_ca_certs=[CA_PEM])
    result, failed = run_module(acme_config, fewer, run_command=host, check_mode=True)
    assert not failed and result['changed'] and result['trust_removed'] == [str(store / 'opsnotes-acme-haproxy-1.crt')]
    assert (store / 'opsnotes-acme-haproxy-1.crt').exists()
    result, failed = run_module(acme_config, fewer, run_command=Host(installed=['acme-tiny'],
                                                                     fail=['update-ca-certificates']))
    assert failed and 'the CA files were restored as they were' in result['msg']
    assert (store / 'opsnotes-acme-haproxy-1.crt').read_text() == second
    host.calls = []
    result, failed = run_module(acme_config, fewer, run_command=host)
    assert not failed and result['trust_removed'] == [str(store / 'opsnotes-acme-haproxy-1.crt')]
    assert host.calls.count(['update-ca-certificates']) == 1
    assert sorted(os.listdir(store)) == ['local.crt', 'opsnotes-acme-haproxy-0.crt', 'opsnotes-acme-nginx_acme-0.crt']
    # An empty list removes this consumer's last one; the others stay.
    result, failed = run_module(acme_config, dict(mine, trusted_ca_certs=[]), run_command=host)
    assert not failed and sorted(os.listdir(store)) == ['local.crt', 'opsnotes-acme-nginx_acme-0.crt']
    # A name that is not a file name is refused before anything is written.
    for bad in ('../etc/x', 'name\n', ''):
        result, failed = run_module(acme_config, dict(mine, trust_name=bad), run_command=host)
        assert failed and "trust step: trust_name %r must be letters" % bad in result['msg']


def test_timer_switched_off_is_stopped_and_removed(run_module, engine):
    args, tmp = engine
    host = Host()
    assert not run_module(acme_config, args, run_command=host)[1]
    off = dict(args, timer_enabled=False, files=args['files'][:2])
    result, failed = run_module(acme_config, off, run_command=host)
    assert not failed and result['timer_actions'] == ['disable', 'remove', 'daemon-reload'], result
    assert not (tmp / 'units' / 'renew.timer').exists() and 'renew.timer' not in host.enabled
    result, failed = run_module(acme_config, off, run_command=host)
    assert not failed and result['changed'] is False


def test_shared_account_key_and_certificate_inspection(run_module, engine):
    args, tmp = engine
    pki = Pki()
    host = Host(installed=['acme-tiny'])
    assert not run_module(acme_config, args, run_command=host)[1]
    shop = tmp / 'ssl' / 'shop'
    item = pki.write_site(shop, 'ecdsa', ['shop.example.test'])
    shared = (tmp / 'ssl' / 'account.key').read_text()
    other = dict(args, account_key=str(tmp / 'other.key'), account_key_content=shared,
                 certificates=[dict(item, name='shop')])
    result, failed = run_module(acme_config, other, run_command=host)
    assert not failed and result['account_key'] == 'created'
    assert (tmp / 'other.key').read_text() == shared
    # The site's key was replaced by the fixture's (PKCS#8, same type): kept, and its CSR made for the new key.
    assert result['keys'][1] == dict(key=str(shop / 'ecdsa.key'), key_action='kept', csr_action='replaced')
    cert = result['certificates'][0]
    assert cert['usable'] and cert['exists'] and cert['key_matches'] and cert['days_left'] >= 88
    assert cert['problems'] == [] and result['failures'] == [], cert


def test_return_account_key_makes_it_first_and_returns_it(run_module, engine):
    args, tmp = engine
    owner = dict(directories=[dict(path=str(tmp / 'owner'), mode='0700')], account_key=str(tmp / 'owner' / 'a.key'),
                 return_account_key=True, renewal_lock=args['renewal_lock'])
    result, failed = run_module(acme_config, owner, run_command=Host())
    assert not failed and result['account_key'] == 'created', result
    assert result['account_key_content'] == (tmp / 'owner' / 'a.key').read_text()
    assert result['account_key_content'].startswith('-----BEGIN RSA PRIVATE KEY-----')
    again, failed = run_module(acme_config, owner, run_command=Host())
    assert not failed and again['account_key'] == 'kept' and again['changed'] is False
    assert again['account_key_content'] == result['account_key_content']
    # Check mode before the key exists: nothing made, nothing returned.
    other = dict(owner, account_key=str(tmp / 'owner' / 'b.key'))
    checked, failed = run_module(acme_config, other, run_command=Host(), check_mode=True)
    assert not failed and 'account_key_content' not in checked and not (tmp / 'owner' / 'b.key').exists()


def test_keys_and_csrs_are_written_under_the_renewal_lock(run_module, engine):
    """The renewal script holds its lock (flock) while it orders and builds bundles: a key replaced in between would
    go into a bundle with another key's certificate. Keys and CSRs wait for it, and give up naming it."""
    import fcntl
    import threading
    args, tmp = engine
    held = os.open(args['renewal_lock'], os.O_WRONLY | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        result, failed = run_module(acme_config, dict(args, renewal_lock_timeout=1), run_command=Host(installed=['acme-tiny']))
        assert failed and result['msg'].startswith('keys step: a renewal has held %s for 1 s' % args['renewal_lock'])
        assert 'no key or CSR was touched' in result['msg'] and not (tmp / 'ssl' / 'shop' / 'rsa.key').exists()
        # Check mode writes nothing and does not wait.
        result, failed = run_module(acme_config, dict(args, renewal_lock_timeout=1), run_command=Host(installed=['acme-tiny']),
                                    check_mode=True)
        assert not failed and result['keys'][0]['key_action'] == 'created'
        # A renewal that ends while the call waits: the call goes on.
        threading.Timer(0.5, fcntl.flock, (held, fcntl.LOCK_UN)).start()
        result, failed = run_module(acme_config, dict(args, renewal_lock_timeout=10), run_command=Host(installed=['acme-tiny']))
        assert not failed and result['keys'][0]['key_action'] == 'created'
        # The call let the lock go: the renewal takes it at once.
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(held)


def test_files_absent_are_removed_with_the_change_and_put_back_when_it_is_refused(run_module, engine):
    """files_absent: the data file of an older version goes in the same step as the new files are written; check
    mode only names it; a refused timer puts it back with the rest."""
    args, tmp = engine
    host = Host()
    assert not run_module(acme_config, args, run_command=host)[1]
    legacy = tmp / 'renew.conf'
    legacy.write_text("DAYS=30\n")
    with_absent = dict(args, files_absent=[str(legacy), str(tmp / 'never-there.conf')])
    result, failed = run_module(acme_config, dict(with_absent, _ansible_diff=True), run_command=host,
                                check_mode=True)
    assert not failed and result['changed'] and result['files_changed'] == [str(legacy)] and legacy.exists()
    assert [d['before'] for d in result['diff'] if d['before_header'] == str(legacy)] == ['DAYS=30\n']
    changed = dict(with_absent, files=[dict(f, content=f['content'] + '# new\n') for f in args['files']])
    host.active.discard('renew.timer')
    host.fail.add('start')
    result, failed = run_module(acme_config, changed, run_command=host)
    assert failed and legacy.read_text() == 'DAYS=30\n'
    host.fail.discard('start')
    result, failed = run_module(acme_config, with_absent, run_command=host)
    assert not failed and result['files_changed'] == [str(legacy)] and not legacy.exists()
    again, failed = run_module(acme_config, with_absent, run_command=host)
    assert not failed and again['changed'] is False


def test_the_eab_hmac_key_is_written_root_only_and_never_shown(run_module, engine):
    """eab_hmac_key: into its file, mode 0600, with the renewal files; check mode writes nothing; the diff and the
    output never hold the key; a second run changes nothing; without a key the file goes."""
    args, tmp = engine
    host = Host()
    key_file, secret = tmp / 'eab.key', 'c2VjcmV0LWhtYWMta2V5LWZvci10aGUtdGVzdA'
    with_key = dict(args, eab_hmac_key=secret, eab_hmac_key_file=str(key_file), _ansible_diff=True)
    assert not run_module(acme_config, args, run_command=host)[1]
    result, failed = run_module(acme_config, with_key, run_command=host, check_mode=True)
    assert not failed and str(key_file) in result['files_changed'] and not key_file.exists()
    assert secret not in repr(result)
    result, failed = run_module(acme_config, with_key, run_command=host)
    assert not failed and key_file.read_text() == secret + '\n' and oct(key_file.stat().st_mode & 0o777) == '0o600'
    assert secret not in repr(result)
    assert [d['after'] for d in result['diff'] if d['after_header'] == str(key_file)] == [
        '(a secret: not shown) (changed)']
    again, failed = run_module(acme_config, with_key, run_command=host)
    assert not failed and again['changed'] is False
    # The control: another key is a change; no key removes the file.
    result, failed = run_module(acme_config, dict(with_key, eab_hmac_key='b3RoZXI'), run_command=host)
    assert not failed and result['changed'] and key_file.read_text() == 'b3RoZXI\n'
    result, failed = run_module(acme_config, dict(with_key, eab_hmac_key=''), run_command=host)
    assert not failed and result['changed'] and not key_file.exists()


class Accounts(object):
    """pwd/grp as the module reads them, and a useradd (through Host) that adds to them."""

    def __init__(self, monkeypatch, host):
        import collections
        self.users = {}
        entry = collections.namedtuple('entry', 'pw_name gr_gid')
        accounts = self

        class Pwd(object):
            @staticmethod
            def getpwnam(name):
                if name not in accounts.users:
                    raise KeyError(name)
                return entry(name, accounts.users[name])
            getgrnam = getpwnam
        monkeypatch.setattr(acme_config, 'pwd', Pwd)
        monkeypatch.setattr(acme_config, 'grp', Pwd)
        original = host.__call__

        def call(argv, **kwargs):
            if os.path.basename(argv[0]) == 'useradd':
                host.calls.append(['useradd'] + list(argv[1:]))
                self.users[argv[-1]] = 4242
                return 0, '', ''
            return original(argv, **kwargs)
        self.run_command = call


def test_the_ordering_host_serves_the_group_with_a_forced_command_and_a_key_derived_from_the_account(
        run_module, engine, monkeypatch):
    from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_keys
    args, tmp = engine
    host = Host(installed=args['packages'])
    accounts = Accounts(monkeypatch, host)
    monkeypatch.setattr(acme_config, 'ssh_host_keys', lambda: ['ssh-ed25519 AAAAhostkey'])
    home = tmp / 'fetch home'
    server = dict(args, fetch_server=dict(user='opsnotes-acme', home=str(home), export_dir=str(home / 'export')))
    # Check mode first: the user and the files are named, nothing is made.
    checked, failed = run_module(acme_config, server, run_command=accounts.run_command, check_mode=True)
    assert not failed and checked['fetch_server_changed'] == ['user opsnotes-acme'] and not home.exists()
    assert not any(call[0] == 'useradd' for call in host.calls)
    result, failed = run_module(acme_config, server, run_command=accounts.run_command)
    assert not failed, result
    useradd = [call for call in host.calls if call[0] == 'useradd']
    assert useradd == [['useradd', '--system', '--user-group', '--home-dir', str(home), '--no-create-home',
                        '--shell', '/bin/sh', '--password', '*', 'opsnotes-acme']]
    authorized = home / '.ssh' / 'authorized_keys'
    identity = _acme_keys.fetch_identity((tmp / 'ssl' / 'account.key').read_text())
    # The export path has a space: it is one single-quoted word of the forced command.
    assert authorized.read_text() == 'restrict,command="tar -C \'%s\' -cf - ." %s\n' % (
        home / 'export', _acme_keys.fetch_public_line(identity))
    assert oct(os.stat(authorized).st_mode & 0o777) == '0o644'
    export = os.stat(home / 'export')
    assert (export.st_uid, export.st_gid, oct(export.st_mode & 0o777)) == (0, 4242, '0o750')
    assert result['ssh_host_keys'] == ['ssh-ed25519 AAAAhostkey'] and result['changed']
    again, failed = run_module(acme_config, server, run_command=accounts.run_command)
    assert not failed and again['changed'] is False and again['fetch_server_changed'] == []
    # A line edited by hand is put back.
    authorized.write_text('ssh-ed25519 AAAAother\n')
    fixed, failed = run_module(acme_config, server, run_command=accounts.run_command)
    assert not failed and fixed['fetch_server_changed'] == [str(authorized)] and fixed['changed']


def test_a_fetching_host_keeps_the_key_derived_from_the_shared_account_key(run_module, engine):
    from cryptography.hazmat.primitives import serialization

    from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_keys
    args, tmp = engine
    owner = dict(directories=[dict(path=str(tmp / 'owner'), mode='0700')], account_key=str(tmp / 'owner' / 'a.key'),
                 return_account_key=True, renewal_lock=args['renewal_lock'])
    shared = run_module(acme_config, owner, run_command=Host())[0]['account_key_content']
    fetcher = dict(directories=[dict(path=str(tmp / 'f'), mode='0700')], account_key=str(tmp / 'f' / 'account.key'),
                   account_key_content=shared, fetch_key=str(tmp / 'f' / 'id_ed25519'),
                   renewal_lock=args['renewal_lock'])
    checked, failed = run_module(acme_config, fetcher, run_command=Host(), check_mode=True)
    assert not failed and checked['fetch_key'] == 'created' and not (tmp / 'f' / 'id_ed25519').exists()
    result, failed = run_module(acme_config, fetcher, run_command=Host())
    assert not failed and result['fetch_key'] == 'created' and result['changed']
    text = (tmp / 'f' / 'id_ed25519').read_text()
    assert text.startswith('-----BEGIN OPENSSH PRIVATE KEY-----') and shared not in text
    assert oct(os.stat(tmp / 'f' / 'id_ed25519').st_mode & 0o777) == '0o600'
    loaded = serialization.load_ssh_private_key(text.encode(), password=None)
    # The key the ordering host authorizes, from its own copy of the account key.
    assert _acme_keys.fetch_public_line(loaded) == _acme_keys.fetch_public_line(_acme_keys.fetch_identity(shared))
    # Idempotent, though OpenSSH's format holds random bytes: compared by the key.
    again, failed = run_module(acme_config, fetcher, run_command=Host())
    assert not failed and again['fetch_key'] == 'kept' and again['changed'] is False
    assert (tmp / 'f' / 'id_ed25519').read_text() == text
    # Another key in its place is replaced (a control: the comparison can fail).
    (tmp / 'f' / 'id_ed25519').write_text('not a key\n')
    fixed, failed = run_module(acme_config, fetcher, run_command=Host())
    assert not failed and fixed['fetch_key'] == 'replaced'
