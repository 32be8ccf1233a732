# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _sysctl
from ansible_collections.opsnotes.edge.plugins.modules import sysctl_batch

VALUES = {'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2,
          'net/ipv4/conf/lo/arp_ignore': 1, 'net.ipv4.conf.eth0.arp_ignore': '1'}


def test_applies_runtime_and_file_then_idempotent(run_module, fake_root, tmp_path):
    path = str(tmp_path / 'etc' / '90-x.conf')
    result, failed = run_module(sysctl_batch, dict(values=VALUES, path=path), fake_root)
    assert not failed and result['changed'] and result['file_changed']
    assert sorted(result['changed_keys']) == ['net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.all.arp_ignore',
                                              'net.ipv4.conf.eth0.arp_ignore', 'net.ipv4.conf.lo.arp_ignore']
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_announce') == '2'
    assert fake_root.get('net', 'ipv4', 'conf', 'lo', 'arp_ignore') == '1'
    assert _sysctl.read_sysctl_conf(path) == {k.replace('/', '.'): str(v) for k, v in VALUES.items()}
    assert result['settings']['net.ipv4.conf.all.arp_ignore'] == {'before': '0', 'after': '1'}
    assert result['values'] == result['settings']   # deprecated name, until 1.0.0

    result, failed = run_module(sysctl_batch, dict(values=VALUES, path=path), fake_root)
    assert not failed and not result['changed'] and result['changed_keys'] == [] and not result['file_changed']


def test_check_mode_changes_nothing_and_diffs(run_module, fake_root, tmp_path):
    path = str(tmp_path / '90-x.conf')
    result, failed = run_module(sysctl_batch, dict(values=VALUES, path=path), fake_root, check_mode=True)
    assert not failed and result['changed']
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    assert not (tmp_path / '90-x.conf').exists()
    runtime, persisted = result['diff']
    assert 'net.ipv4.conf.all.arp_ignore = 0' in runtime['before']
    assert 'net.ipv4.conf.all.arp_ignore = 1' in runtime['after']
    assert persisted['before'] == '' and 'net.ipv4.conf.all.arp_announce = 2' in persisted['after']


def test_missing_key_fails_before_any_write(run_module, fake_root, tmp_path):
    path = str(tmp_path / '90-x.conf')
    values = dict(VALUES, **{'net.ipv4.conf.eth9.arp_ignore': 1})
    result, failed = run_module(sysctl_batch, dict(values=values, path=path), fake_root)
    assert failed and result['missing'] == ['net.ipv4.conf.eth9.arp_ignore']
    assert 'nothing was changed' in result['msg']
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    assert not (tmp_path / '90-x.conf').exists()


def test_failed_write_restores_keys_already_written(run_module, fake_root, tmp_path, monkeypatch):
    path = str(tmp_path / '90-x.conf')
    real_write = _sysctl.write_sysctl

    def flaky(key, value, root='/'):
        if key == 'net.ipv4.conf.lo.arp_ignore' and str(value) == '1':
            raise _sysctl.SysctlError('cannot write %s = 1: Permission denied' % key)
        real_write(key, value, root)

    monkeypatch.setattr(_sysctl, 'write_sysctl', flaky)
    result, failed = run_module(sysctl_batch, dict(values=VALUES, path=path), fake_root)
    assert failed and 'restored the 2 key(s) already written' in result['msg']
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_announce') == '0'
    assert not (tmp_path / '90-x.conf').exists()


def test_a_file_that_cannot_be_written_restores_the_runtime_keys(run_module, fake_root, tmp_path, monkeypatch):
    def read_only(module, path, text, mode=0o644, owner=None, group=None):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(_sysctl, 'write_atomic', read_only)
    path = str(tmp_path / '90-x.conf')
    result, failed = run_module(sysctl_batch, dict(values=VALUES, path=path), fake_root)
    assert failed and 'Read-only file system' in result['msg'] and 'restored the 4 key(s)' in result['msg']
    # Runtime as before the call: it never disagrees with what boot would apply.
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    assert fake_root.get('net', 'ipv4', 'conf', 'lo', 'arp_ignore') == '0'
    assert not result['changed']


@pytest.mark.parametrize('values, match', [
    ({'net.ipv4.ip_forward': '1\x00'}, 'empty or multi-line'),
    ({'net.ipv4.ip_forward': '1\rkernel.x = 1'}, 'empty or multi-line'),
    ({'net..ipv4': 1}, 'invalid sysctl key'),
    ({'net.ipv4.ip_forward': ''}, 'empty or multi-line'),
    ({'net.ipv4.ip_forward': '1\nkernel.x = 1'}, 'empty or multi-line'),
])
def test_bad_values_refused(run_module, fake_root, values, match):
    result, failed = run_module(sysctl_batch, dict(values=values), fake_root)
    assert failed and match in result['msg']


def test_file_only_and_runtime_only(run_module, fake_root, tmp_path):
    path = str(tmp_path / '90-x.conf')
    result, failed = run_module(sysctl_batch, dict(values={'net.ipv4.ip_forward': True}, path=path, runtime=False),
                                fake_root)
    assert not failed and result['changed'] and result['changed_keys'] == []
    assert fake_root.get('net', 'ipv4', 'ip_forward') == '0'
    result, failed = run_module(sysctl_batch, dict(values={'net.ipv4.ip_forward': True}), fake_root)
    assert not failed and result['changed_keys'] == ['net.ipv4.ip_forward'] and not result['file_changed']
    assert fake_root.get('net', 'ipv4', 'ip_forward') == '1'


def test_runtime_false_requires_path(run_module):
    result, failed = run_module(sysctl_batch, dict(values={'a.b': 1}, runtime=False))
    assert failed and 'runtime is False but all of the following are missing: path' in result['msg']
