# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rolling_restart.yml where keepalived also balances the web hosts with IPVS. This kernel has no IPVS,
so the scenario's balancer stands in for a director with a fake ipvsadm (tests/unit/fake_ipvsadm.py: a table in a
JSON file, edited as ipvsadm edits it, with each real server's active connections set by the test). What this
proves is the playbook's order against ipvsadm's interface, not the kernel's scheduling: the host gets weight 0
before anything else, is not restarted while it has active connections, and gets its configured weight back after
it serves again; a connection outlasting the drain timeout stops the run with the host left at weight 0; a director
without IPVS is refused before anything is drained."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import helpers
import pytest

LB = 'opsnotes-hap-lb'
WWW = {'www1': 'opsnotes-hap-www1', 'www2': 'opsnotes-hap-www2'}
SOCKET = '/run/haproxy/opsnotes-admin.sock'
JOURNAL_HOSTS = [LB] + list(WWW.values())
PLAYBOOK = 'playbooks/rolling_restart.yml'
STATE = '/run/fake-ipvsadm.json'
VIP, PORT, WEIGHT = '192.0.2.80', 8080, 3
lb = helpers.host(LB)


@pytest.fixture(scope='module')
def addresses():
    """The fake ipvsadm on the balancer, and the www hosts' addresses (their addresses among the real servers)."""
    with open(os.path.join(helpers.PROJECT, 'tests', 'unit', 'fake_ipvsadm.py')) as handle:
        put('/usr/local/lib/fake_ipvsadm.py', handle.read())
    put('/usr/local/sbin/ipvsadm', '#!/bin/sh\nexec python3 /usr/local/lib/fake_ipvsadm.py "$@"\n', mode='0755')
    # The director holding the VIP: the drain waits for the active connections of a virtual service whose address
    # the director holds (one that does not forwards nothing).
    lb.check_output('ip addr add %s/32 dev lo', VIP)
    yield {name: helpers.ip_of(container) for name, container in WWW.items()}
    lb.run('ip addr del %s/32 dev lo', VIP)
    lb.run('rm -f /usr/local/sbin/ipvsadm /usr/local/lib/fake_ipvsadm.py %s', STATE)


def table(addresses, active=0, unavailable=False):
    """A table with the virtual service of both www hosts; www2 holds ``active`` connections."""
    reals = [dict(address=addresses[name], port=PORT, weight=WEIGHT, active=active if name == 'www2' else 0)
             for name in WWW]
    return dict(services=[dict(protocol='TCP', address=VIP, port=PORT, real_servers=reals)], unavailable=unavailable)


def put(path, text, mode='0644'):
    """Write a file on the balancer at once (the fake reads it while the test writes)."""
    subprocess.run(['docker', 'exec', '-i', LB, 'sh', '-c', 'cat > "$0.new" && chmod %s "$0.new" && mv "$0.new" "$0"'
                    % mode, path], input=text, text=True, check=True)


def write(state):
    put(STATE, json.dumps(state))


def read():
    return json.loads(lb.check_output('cat %s', STATE))


def www2(state):
    return [r for r in state['services'][0]['real_servers'] if r['port'] == PORT][1]


def args(addresses, *extra):
    """The playbook's values: the balancer is also the director, keepalived_virtual_servers as in its inventory."""
    servers = [dict(address=VIP, port=PORT, real_servers=[dict(address=addresses[n], port=PORT, weight=WEIGHT)
                                                          for n in WWW])]
    by_host = {container: addresses[name] for name, container in WWW.items()}
    return ['-e', 'rolling_restart_hosts=opsnotes-hap-www2',
            '-e', '{"rolling_restart_server": "{{ inventory_hostname | replace(\'opsnotes-hap-\', \'\') }}"}',
            '-e', 'rolling_restart_service=opsnotes-echo@8080.service',
            '-e', '{"rolling_restart_check_url": "http://{{ inventory_hostname }}:8080/"}',
            '-e', json.dumps(dict(rolling_restart_directors=[LB], keepalived_virtual_servers=servers)),
            '-e', json.dumps({'rolling_restart_address': '{{ %s[inventory_hostname] }}' % json.dumps(by_host)})
            ] + list(extra)


def started():
    """When www2's echo server last started (seconds since the epoch), and its PID."""
    www = helpers.host(WWW['www2'])
    return (helpers.unit_timestamp(www, 'opsnotes-echo@8080.service', 'ExecMainStartTimestamp'),
            www.check_output('systemctl show -p MainPID --value opsnotes-echo@8080.service'))


def haproxy_ready():
    for name in WWW:
        helpers.haproxy_server(LB, SOCKET, backend='be_www', server=name, state='ready')


def test_weight_0_first_no_restart_while_connections_last_then_its_weight_back(addresses):
    write(table(addresses, active=2))
    _since, pid = started()
    result = {}
    runner = threading.Thread(target=lambda: result.update(run=helpers.ansible_playbook(PLAYBOOK, *args(addresses))))
    runner.start()
    try:
        drained = helpers.wait_for(lambda: www2(read())['weight'] == 0 or not runner.is_alive(), 60)
        assert drained is not None and runner.is_alive(), 'www2 never got weight 0'
        time.sleep(4)                                    # its 2 connections still last: the run must wait
        assert started()[1] == pid and runner.is_alive(), 'www2 was restarted while it had active connections'
        state = read()
        state['services'][0]['real_servers'][1]['active'] = 0
        write(state)
        cleared = time.time()
    finally:
        runner.join(300)
        print(result['run'].stdout[-3000:])
    run = result['run']
    assert run.returncode == 0, run.stdout[-3000:]
    since, new_pid = started()
    assert new_pid != pid and since > cleared - 0.5, (since, cleared)
    state = read()
    assert www2(state)['weight'] == WEIGHT and state['services'][0]['real_servers'][0]['weight'] == WEIGHT
    assert [line.split(' -w ')[1].split()[0] for line in state['log']] == ['0', str(WEIGHT)]
    assert all(' -r %s:%d ' % (addresses['www2'], PORT) in line for line in state['log'])


def test_a_connection_outlasting_the_drain_timeout_stops_the_run_at_weight_0(addresses):
    write(table(addresses, active=1))
    _since, pid = started()
    try:
        code, failures = helpers.playbook_failures(PLAYBOOK, *args(addresses, '-e', 'rolling_restart_drain_timeout=2'))
        assert code != 0 and failures[-1][1] == 'Stop here, leaving it drained', failures
        assert ('TCP %s:%d -> %s:%d still has 1 active connection(s) after 2s' % (VIP, PORT, addresses['www2'], PORT)
                in failures[-1][2]), failures[-1][2]
        assert www2(read())['weight'] == 0 and started()[1] == pid
    finally:
        haproxy_ready()


def test_a_director_without_ipvs_is_refused_before_anything_is_drained(addresses):
    write(table(addresses, unavailable=True))
    code, failures = helpers.playbook_failures(PLAYBOOK, *args(addresses))
    assert code != 0 and failures, failures
    assert failures[0][1] == "Find this host's real server on every director that balances it with IPVS"
    assert "Can't initialize ipvs" in failures[0][2]
    assert {s['status'] for s in helpers.haproxy_stat(lb, SOCKET).values() if s['pxname'] == 'be_www'} == {'UP'}
    assert read().get('log', []) == []           # no edit: the fake writes its log on an edit only
