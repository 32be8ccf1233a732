# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""keepalived on two directors, proven live: exactly one holds the VIP and only it answers ARP; the VIP moves to the
other within 3 s when keepalived or the tracked HAProxy stops on the holder, under continuous requests from the
client whose longest gap is measured (the control: with no peer to take over, the same probe sees the outage); a
director that comes back never makes two holders; a reload keeps the VIP where it is (the control: a restart
moves it); a configuration keepalived refuses never goes live; bad input changes nothing."""

from __future__ import annotations

import json
import time

import helpers
import pytest

DIRS = ['opsnotes-ka-dir1', 'opsnotes-ka-dir2']
VIP = '172.29.216.200'
hosts = {name: helpers.host(name) for name in DIRS}
client = helpers.host('opsnotes-ka-client')
MAX_GAP = 3.0
# The scenario's script (molecule.yml), kept when a test adds another.
CHK_HAPROXY = {'name': 'chk_haproxy', 'script': ['/usr/bin/pgrep', '-x', 'haproxy'], 'interval': 1, 'timeout': 2,
               'fall': 1, 'rise': 2}


def holders():
    return helpers.vip_holders(hosts, VIP)


def watch(seconds):
    return helpers.VipWatch(client, hosts, VIP, seconds)


def settled_holder():
    assert helpers.wait_for(lambda: len(holders()) == 1, 15) is not None, holders()
    holder = holders()[0]
    return holder, [name for name in DIRS if name != holder][0]


def test_one_director_holds_the_vip_and_only_it_answers_arp():
    holder, peer = settled_holder()
    assert helpers.arp_responders(client, VIP) == {helpers.mac(hosts[holder])}
    # Control: with the VIP on the peer too, arping sees two answers (it can tell).
    hosts[peer].check_output('ip addr add %s/32 dev eth0', VIP)
    try:
        assert helpers.arp_responders(client, VIP) == {helpers.mac(hosts[holder]), helpers.mac(hosts[peer])}
    finally:
        hosts[peer].check_output('ip addr del %s/32 dev eth0', VIP)


@pytest.mark.parametrize('service', ['keepalived', 'haproxy'])
def test_the_vip_moves_within_3s_when_the_holder_fails_and_stays_when_it_returns(service):
    """keepalived stopped, or HAProxy (tracked: the instance goes to FAULT) stopped, on the holder: the peer takes the
    VIP with gratuitous ARP (the client's neighbour entry follows without a flush) within 3 s, requests go on, and
    its notify hook logs it. The failed director comes back as BACKUP (nopreempt): never two holders."""
    holder, peer = settled_holder()
    mark = helpers.journal_cursor(hosts[peer])
    with watch(16) as watched:
        hosts[holder].check_output('systemctl stop %s', service)
        moved = helpers.wait_for(lambda: holders() == [peer], MAX_GAP)
        time.sleep(3)
        hosts[holder].check_output('systemctl start %s', service)
        time.sleep(6)
    assert moved is not None and moved <= MAX_GAP, holders()
    assert holders() == [peer]
    assert watched.two_holders() == []
    gap = watched.longest_gap()
    print('%s stopped on %s: VIP on %s after %.2fs, longest request gap %.2fs' % (service, holder, peer, moved, gap))
    assert gap <= MAX_GAP, gap
    assert watched.served_by() == {holder, peer}
    assert 'lladdr %s' % helpers.mac(hosts[peer]) in client.check_output('ip neigh show %s', VIP)
    assert 'VI_WEB MASTER on %s' % peer in helpers.journal_since(hosts[peer], mark)


def test_with_no_peer_to_take_over_the_probe_sees_the_outage():
    """The control of the gap measurement: HAProxy stopped on the holder while keepalived is stopped on the peer."""
    holder, peer = settled_holder()
    hosts[peer].check_output('systemctl stop keepalived')
    try:
        with watch(9) as watched:
            hosts[holder].check_output('systemctl stop haproxy')
            time.sleep(6)
            hosts[holder].check_output('systemctl start haproxy')
    finally:
        hosts[holder].check_output('systemctl start haproxy')
        hosts[peer].check_output('systemctl start keepalived')
    assert watched.longest_gap() > MAX_GAP
    settled_holder()


def converge(*extra):
    run = helpers.ansible_playbook('molecule/keepalived/converge.yml', *extra)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run.stdout


def test_a_reload_keeps_the_vip_where_it_is():
    """A changed configuration (one more script defined) is reloaded with SIGHUP: the holder stays MASTER, no VRRP
    transition is logged, and requests go on without a gap. The control: a restart of keepalived on the holder
    moves the VIP to the peer."""
    holder, peer = settled_holder()
    marks = {name: helpers.journal_cursor(host) for name, host in hosts.items()}
    extra = json.dumps({'keepalived_vrrp_scripts': [CHK_HAPROXY, {'name': 'unused', 'script': ['/bin/true'], 'interval': 5}]})
    try:
        with watch(8) as watched:
            out = converge('-e', extra)
            time.sleep(2)
        assert 'changed: [%s]' % holder in out
        assert holders() == [holder]
        assert watched.two_holders() == [] and watched.served_by() == {holder}
        assert watched.longest_gap() < 1.0, watched.longest_gap()
        for name, host in hosts.items():
            log = helpers.journal_since(host, marks[name])
            assert 'Reloading' in log or 'reload' in log.lower(), log[-2000:]
            assert 'Entering MASTER STATE' not in log and 'Entering BACKUP STATE' not in log, log[-2000:]
    finally:
        converge()
    hosts[holder].check_output('systemctl restart keepalived')
    assert helpers.wait_for(lambda: holders() == [peer], MAX_GAP + 2) is not None, holders()


def test_a_configuration_keepalived_refuses_never_goes_live():
    """An interface that passes the lint but not keepalived --config-test (it does not exist on the host): the module
    fails naming the check, and the live file and keepalived's process are as before."""
    holder, _peer = settled_holder()
    host = hosts[holder]
    before = host.check_output('md5sum /etc/keepalived/keepalived.conf; systemctl show -p MainPID keepalived')
    args = json.dumps({'config': {'vrrp_instances': [{'name': 'VI_BAD', 'interface': 'eth9', 'virtual_router_id': 9,
                                                      'priority': 100, 'virtual_ipaddresses': ['192.0.2.9/32']}]}})
    run = helpers.ansible_host(holder).ansible('opsnotes.edge.keepalived_config', args, check=False)
    assert 'fails keepalived --config-test; nothing was changed' in run.get('msg', ''), run
    assert not run.get('validated') and not run.get('changed')
    assert 'eth9' in run['msg']
    assert host.check_output('md5sum /etc/keepalived/keepalived.conf; systemctl show -p MainPID keepalived') == before
    assert holders() == [holder]


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/keepalived/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
