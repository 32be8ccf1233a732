# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy

from fake_ipvsadm import FakeIpvsadm

from ansible_collections.opsnotes.edge.plugins.modules import ipvs_real_server

TABLE = dict(services=[
    dict(protocol='TCP', address='192.0.2.10', port=80, real_servers=[
        dict(address='10.0.0.11', port=80, weight=3, active=0, inactive=4),
        dict(address='10.0.0.12', port=80, weight=1, active=2, inactive=0)]),
    dict(protocol='TCP', address='192.0.2.10', port=443, real_servers=[
        dict(address='10.0.0.11', port=443, weight=3, u=100, l=50, forward='Tunnel', active=1),
        dict(address='10.0.0.12', port=443, weight=1)]),
    dict(protocol='FWM', fwmark=7, real_servers=[dict(address='2001:db8::11', port=0, weight=2)]),
    dict(protocol='UDP', address='2001:db8::1', port=53, real_servers=[]),
])


class Runner(object):
    """run_command backed by the fake ipvsadm; ``during`` is called before each listing, as time passing. The host
    holds ``held`` (ip -o addr show): by default every virtual address of TABLE, as the director holding the VIPs."""

    def __init__(self, state=None, during=None, held=('192.0.2.10', '2001:db8::1')):
        self.fake = FakeIpvsadm(copy.deepcopy(state or TABLE))
        self.calls, self.during, self.held = [], during, held

    def __call__(self, argv, **kwargs):
        if argv[0] == '/usr/bin/ip':
            return 0, ''.join('2: eth0    inet%s %s/%d scope global eth0\\\n' % ('6' if ':' in a else '', a,
                                                                                 128 if ':' in a else 24)
                              for a in self.held), ''
        self.calls.append(argv[1:])
        if self.during and argv[1:2] == ['-Ln']:
            self.during(self.fake.state, len(self.calls))
        return self.fake.run(argv[1:])

    def real(self, service, address):
        return [r for r in self.fake.state['services'][service]['real_servers'] if r['address'] == address][0]


def test_drain_sets_weight_0_everywhere_keeping_forwarding_and_thresholds(run_module):
    runner = Runner()
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', state='drain'), run_command=runner)
    assert not failed and result['changed']
    assert result['commands'] == ['ipvsadm -e -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 0 -x 0 -y 0',
                                  'ipvsadm -e -t 192.0.2.10:443 -r 10.0.0.11:443 -i -w 0 -x 100 -y 50']
    assert runner.real(1, '10.0.0.11') == dict(address='10.0.0.11', port=443, weight=0, u=100, l=50,
                                               forward='Tunnel', active=1)
    assert runner.real(0, '10.0.0.12')['weight'] == 1
    assert [s['service'] for s in result['servers']] == ['TCP 192.0.2.10:80', 'TCP 192.0.2.10:443']
    assert result['servers'][0]['before'] == dict(weight=3, active=0, inactive=4)
    assert result['servers'][0]['after']['weight'] == 0
    assert 'weight 3' in result['diff']['before'] and 'weight 0' in result['diff']['after']
    # Again: nothing to do, nothing run but the listing.
    runner.calls[:] = []
    again = Runner(runner.fake.state)
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', state='drain'), run_command=again)
    assert not failed and not result['changed'] and again.calls == [['-Ln', '--exact']]


def test_check_mode_runs_no_edit(run_module):
    runner = Runner()
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', port=80, state='drain', wait=True),
                                run_command=runner, check_mode=True)
    assert not failed and result['changed'] and len(result['commands']) == 1
    assert result['servers'][0]['after']['weight'] == 0 and runner.real(0, '10.0.0.11')['weight'] == 3
    assert all(call[0] == '-Ln' for call in runner.calls)


def test_drain_waits_for_active_connections_to_end(run_module):
    def during(state, count):
        if count > 6:
            state['services'][1]['real_servers'][0]['active'] = 0
    runner = Runner(during=during)
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', state='drain', wait=True, wait_timeout=30),
                                run_command=runner)
    assert not failed and result['waited'] > 0
    assert [s['after']['active'] for s in result['servers']] == [0, 0]


def test_drain_times_out_naming_the_service_and_stays_drained(run_module):
    runner = Runner()
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.12', state='drain', wait=True, wait_timeout=1),
                                run_command=runner)
    assert failed
    assert result['msg'] == 'TCP 192.0.2.10:80 -> 10.0.0.12:80 still has 2 active connection(s) after 1s'
    assert runner.real(0, '10.0.0.12')['weight'] == 0 and runner.real(1, '10.0.0.12')['weight'] == 0


def test_ready_restores_the_weight_and_waits_for_keepalived_to_add_it_back(run_module):
    state = copy.deepcopy(TABLE)
    state['services'][1]['real_servers'] = state['services'][1]['real_servers'][1:]  # its health check failed

    def during(state, count):
        if count > 5 and len(state['services'][1]['real_servers']) == 1:
            # keepalived adds it back at the weight keepalived.conf gives it
            state['services'][1]['real_servers'].append(dict(address='10.0.0.11', port=443, weight=3))
    runner = Runner(state, during)
    args = dict(address='10.0.0.11', virtual_address='192.0.2.10', virtual_port=443, state='ready', weight=3)
    result, failed = run_module(ipvs_real_server, args, run_command=runner)
    assert failed and result['msg'].startswith('no virtual service holds 10.0.0.11 in TCP 192.0.2.10:443')
    result, failed = run_module(ipvs_real_server, dict(args, wait=True, wait_timeout=30), run_command=runner)
    assert not failed and not result['changed'] and result['absent'] == []
    assert result['servers'][0]['after']['weight'] == 3
    # Back at another weight than keepalived's: set once it is there.
    runner = Runner(state, during)
    result, failed = run_module(ipvs_real_server, dict(args, weight=5, wait=True, wait_timeout=30),
                                run_command=runner)
    assert not failed and result['changed'] and result['commands'] == [
        'ipvsadm -e -t 192.0.2.10:443 -r 10.0.0.11:443 -g -w 5 -x 0 -y 0']
    assert runner.real(1, '10.0.0.11')['weight'] == 5


def test_ready_times_out_when_the_health_check_keeps_failing(run_module):
    state = copy.deepcopy(TABLE)
    state['services'][0]['real_servers'] = state['services'][0]['real_servers'][1:]
    args = dict(address='10.0.0.11', virtual_address='192.0.2.10', virtual_port=80, state='ready', weight=1,
                wait=True, wait_timeout=1)
    result, failed = run_module(ipvs_real_server, args, run_command=Runner(state))
    assert failed and result['msg'] == ('TCP 192.0.2.10:80: the real server is not in the table (its health check '
                                        'fails?) after 1s')


def test_firewall_mark_and_ipv6(run_module):
    runner = Runner()
    result, failed = run_module(ipvs_real_server, dict(address='2001:0db8::0011', fwmark=7, state='drain'),
                                run_command=runner)
    assert not failed and result['commands'] == ['ipvsadm -e -f 7 -6 -r [2001:db8::11]:0 -g -w 0 -x 0 -y 0']
    assert runner.real(2, '2001:db8::11')['weight'] == 0


def test_a_real_server_in_no_service_has_nothing_to_drain(run_module):
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.99', state='drain'), run_command=Runner())
    assert not failed and not result['changed'] and result['servers'] == []


def test_errors_are_named(run_module):
    cases = [
        (dict(address='web1', state='drain'), "address: 'web1' is not an IP address"),
        (dict(address='10.0.0.11', virtual_address='192.0.2.10', state='drain'),
         'virtual_address and virtual_port: give both, or neither'),
        (dict(address='10.0.0.11', virtual_address='192.0.2.10', virtual_port=8080, state='drain'),
         'TCP 192.0.2.10:8080 is not in the IPVS table'),
        (dict(address='10.0.0.11', state='ready', weight=0), 'weight: state=ready needs the weight to restore, '
                                                             'from 1 to 65535'),
    ]
    for args, msg in cases:
        result, failed = run_module(ipvs_real_server, args, run_command=Runner())
        assert failed and result['msg'] == msg
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', state='drain'),
                                run_command=Runner(dict(TABLE, unavailable=True)))
    assert failed and result['msg'].startswith("ipvsadm -Ln --exact failed: Can't initialize ipvs")
    state = copy.deepcopy(TABLE)
    state['services'][0]['real_servers'][0]['forward'] = 'Bypass'
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', port=80, state='drain'),
                                run_command=Runner(state))
    assert failed and result['msg'] == 'TCP 192.0.2.10:80 -> 10.0.0.11:80: forwarding bypass cannot be edited'


def test_missing_ipvsadm(run_module, monkeypatch):
    from ansible.module_utils import basic
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: None)
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.11', state='drain'))
    assert failed and result['msg'].startswith('ipvsadm is not installed')


def test_drain_does_not_wait_for_the_connections_of_a_vip_this_director_does_not_hold(run_module):
    # After a failover the former holder still lists the connections it forwarded, ESTABLISHED until IPVS's TCP
    # timeout: nothing reaches it any more, so they never end. Here the host holds 192.0.2.10 no longer.
    runner = Runner(held=('198.51.100.1',))
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.12', state='drain', wait=True, wait_timeout=30),
                                run_command=runner)
    assert not failed and result['waited'] < 5
    assert result['stale'] == ['TCP 192.0.2.10:80 -> 10.0.0.12:80 (2 active connection(s)): this host does not hold '
                               '192.0.2.10']
    assert runner.real(0, '10.0.0.12')['weight'] == 0
    # Control: the director holding the VIP waits for the same connections (and times out here, naming them).
    runner = Runner()
    result, failed = run_module(ipvs_real_server, dict(address='10.0.0.12', state='drain', wait=True, wait_timeout=1),
                                run_command=runner)
    assert failed and result['msg'] == 'TCP 192.0.2.10:80 -> 10.0.0.12:80 still has 2 active connection(s) after 1s'
