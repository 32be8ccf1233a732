# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import keepalived_check

DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'keepalived_master.data')
# A stand-in for keepalived: on SIGUSR1 it copies the dump it was given into the data file, as keepalived writes its
# own on its DATA signal.
DAEMON = r'''
import shutil, signal, sys, time
source, target = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGUSR1, lambda *a: shutil.copy(source, target))
print('ready', flush=True)
while True:
    time.sleep(1)
'''


@pytest.fixture
def daemon(tmp_path):
    source = tmp_path / 'source.data'
    source.write_text(open(DATA).read())
    proc = subprocess.Popen([sys.executable, '-c', DAEMON, str(source), str(tmp_path / 'keepalived.data')],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'ready'
    (tmp_path / 'keepalived.pid').write_text('%d\n' % proc.pid)
    yield source
    proc.kill()
    proc.wait()


class Fake(object):
    def __init__(self, addresses, config_rc=0):
        self.addresses, self.config_rc = addresses, config_rc

    def __call__(self, argv, **kwargs):
        if argv[1:] == ['--signum=DATA']:
            return 0, '%d\n' % signal.SIGUSR1, ''
        if argv[1] == '--config-test':
            return (0, '', '') if self.config_rc == 0 else (5, '', 'auth_pass s3cret: Non-existent interface')
        if argv[1:] == ['-o', 'addr', 'show']:
            return 0, ''.join('2: eth0    inet %s/24 scope global eth0\\\n' % a for a in self.addresses), ''
        raise AssertionError(argv)


def args(tmp_path, **extra):
    return dict(path=str(tmp_path / 'keepalived.conf'), pid_file=str(tmp_path / 'keepalived.pid'),
                data_file=str(tmp_path / 'keepalived.data'), wait=2, **extra)


def test_a_master_holding_its_vip(run_module, tmp_path, daemon):
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1']),
                                run_command=Fake(['172.20.0.2', '10.99.0.1']))
    assert not failed and result['ok'] and result['running'] and result['config_ok']
    assert result['instances'] == [dict(name='vi1', state='MASTER', wantstate='MASTER', priority=100,
                                        effective_priority=100, interface='eth0', vips=['10.99.0.1'],
                                        held=['10.99.0.1'])]


def test_drift_a_master_without_its_vip_a_missing_instance_a_broken_file(run_module, tmp_path, daemon):
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1', 'VI_DB']),
                                run_command=Fake(['172.20.0.2'], config_rc=5))
    assert failed and not result['ok']
    assert 'vi1: MASTER without 10.99.0.1 on this host' in result['msg']
    assert 'VI_DB: keepalived runs no such VRRP instance' in result['msg']
    assert 'fails keepalived --config-test' in result['msg'] and 's3cret' not in result['msg']
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], fail_on_error=False),
                                run_command=Fake(['172.20.0.2']))
    assert not failed and not result['ok'] and len(result['failures']) == 1


def test_a_backup_holding_the_vip_is_two_holders(run_module, tmp_path, daemon):
    daemon.write_text(open(DATA).read().replace('State = MASTER', 'State = BACKUP')
                      .replace('Last transition = 1795340643', 'Last transition = 1000000000'))
    result, failed = run_module(keepalived_check, args(tmp_path), run_command=Fake(['10.99.0.1']))
    assert failed and 'vi1: BACKUP but holds 10.99.0.1 (two holders?)' in result['msg']


def test_not_running(run_module, tmp_path):
    (tmp_path / 'keepalived.pid').write_text('999999999\n')
    result, failed = run_module(keepalived_check, args(tmp_path), run_command=Fake([]))
    assert failed and not result['running'] and 'keepalived is not running' in result['msg']
