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


# keepalived's virtual servers, as the role gives them (health checks and delays are not compared), matching the
# table of ipvs_tables.IPVSADM.
KEEPALIVED_VS = [
    dict(address='172.29.213.200', port=80, lb_algo='wlc', persistence_timeout=300, delay_loop=2,
         real_servers=[dict(address='172.29.213.11', port=80, check=dict(type='TCP_CHECK')),
                       dict(address='172.29.213.12', port=80, weight=1)]),
    dict(fwmark=1, lb_algo='wrr', persistence_timeout=60, real_servers=[dict(address='172.29.213.11', port=0, weight=2)]),
]


class FakeIpvs(Fake):
    def __init__(self, addresses, table):
        super().__init__(addresses)
        self.table = table

    def __call__(self, argv, **kwargs):
        if argv[1:] == ['-Ln', '--exact']:
            return 0, self.table, ''
        return super().__call__(argv, **kwargs)


@pytest.fixture
def ipvs_kernel(tmp_path, monkeypatch):
    from ansible_collections.opsnotes.edge.plugins.module_utils import _ipvs
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'ip_vs'))
    (tmp_path / 'ip_vs').write_text('')
    return tmp_path / 'ip_vs'


def test_the_ipvs_table_against_keepalived_virtual_servers(run_module, tmp_path, daemon, ipvs_kernel):
    from ipvs_tables import IPVSADM
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], virtual_servers=KEEPALIVED_VS),
                                run_command=FakeIpvs(['10.99.0.1'], IPVSADM))
    assert not failed and result['ok'], result['failures']
    ipvs = result['ipvs']
    assert ipvs['available'] and ipvs['source'] == 'ipvsadm' and ipvs['drift'] == [] and ipvs['down'] == []
    assert ipvs['extra'] == ['TCP [2001:db8::1]:443', 'UDP 172.29.213.200:53']
    live = {(s['address'], s['port']): s for s in ipvs['virtual_servers'] if s['fwmark'] is None}
    assert live[('172.29.213.200', 80)]['real_servers'][1] == dict(address='172.29.213.12', port=80, forward='dr',
                                                                   weight=1, active=3, inactive=12)


def test_a_real_server_its_check_took_out_is_down_not_drift_and_a_wrong_weight_is_drift(
        run_module, tmp_path, daemon, ipvs_kernel):
    from ipvs_tables import IPVSADM
    table = IPVSADM.replace('  -> 172.29.213.12:80             Route   1      3          12        \n', '')
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], virtual_servers=KEEPALIVED_VS),
                                run_command=FakeIpvs(['10.99.0.1'], table))
    assert not failed and result['ok'] and result['ipvs']['down'] == ['TCP 172.29.213.200:80 -> 172.29.213.12:80']
    # fail_on_down: the same table fails, naming the server.
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], virtual_servers=KEEPALIVED_VS,
                                                       fail_on_down=True),
                                run_command=FakeIpvs(['10.99.0.1'], table))
    assert failed and 'TCP 172.29.213.200:80 -> 172.29.213.12:80: not in the IPVS table' in result['msg']
    # A drained server (weight 0) and another scheduler are drift, and fail.
    table = IPVSADM.replace('Route   1      3', 'Route   0      3').replace('80 wlc persistent', '80 rr persistent')
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], virtual_servers=KEEPALIVED_VS),
                                run_command=FakeIpvs(['10.99.0.1'], table))
    assert failed and result['ipvs']['drift'] == ['TCP 172.29.213.200:80: scheduler rr, not wlc',
                                                  'TCP 172.29.213.200:80 -> 172.29.213.12:80: weight 0, not 1']


def test_virtual_servers_on_a_kernel_without_ipvs_fail(run_module, tmp_path, daemon, monkeypatch):
    from ansible_collections.opsnotes.edge.plugins.module_utils import _ipvs
    monkeypatch.setattr(_ipvs, 'PROC', str(tmp_path / 'none'))
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1'], virtual_servers=KEEPALIVED_VS),
                                run_command=FakeIpvs(['10.99.0.1'], ''))
    assert failed and not result['ipvs']['available']
    assert 'keepalived has virtual servers, but this kernel has no IPVS' in result['msg']
    # Control: without virtual servers the table is not read, and there is no ipvs key.
    result, failed = run_module(keepalived_check, args(tmp_path, instances=['vi1']),
                                run_command=FakeIpvs(['10.99.0.1'], ''))
    assert not failed and 'ipvs' not in result
