# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): `ansible-playbook opsnotes.edge.rolling_restart` restarts nginx on
rs1 and rs2, one at a time, under requests from the client over TLS (every 50 ms) through both VIPs: HAProxy's, and
IPVS's (the directors' own kernels, direct routing). No request fails, and the drain itself is seen: no request sent
after a real server's drain (read from the playbook's own run: HAProxy's drain, then weight 0 in both directors' IPVS
tables) is answered by it, until its new nginx runs. Control: the same restart without the drain, under the same requests: the restarted
server answers requests up to the moment it stops (and some may fail), so the test can see the difference."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.200'
IPVS_VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.201'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The playbook as a user of the installed collection runs it (the checkout's collection link serves it otherwise).
PLAYBOOK = 'opsnotes.edge.rolling_restart'
BEFORE_STOP = 1.0
directors = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('director', 'director2')}
client = helpers.host('%s-client' % LAB)
real_servers = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('rs1', 'rs2')}


def ansible(*argv, env=None):
    return subprocess.run(list(argv) + ['-i', 'inventories/lab'], cwd=ROOT, capture_output=True, text=True,
                          check=False, env=dict(os.environ, **(env or {})))


def outage(name):
    """(stopped, running again) of the last restart of nginx on ``name``."""
    h = real_servers[name]
    return (helpers.unit_timestamp(h, 'nginx.service', 'InactiveEnterTimestamp'),
            helpers.unit_timestamp(h, 'nginx.service', 'ActiveEnterTimestamp'))


def answered_by(watch, name, start, end):
    return [t for t, body in watch.requests if body == 'served by %s' % name and start <= t <= end]


def all_up():
    """True when every real server is ready and UP on both directors' HAProxy."""
    stats = [helpers.haproxy_stat(h) for h in directors.values()]
    return all(stat.get(('be_web', name), {}).get('status') == 'UP' for stat in stats for name in real_servers)


def drained_at(stdout):
    """{host: when the playbook's last drain task (HAProxy's, then IPVS's) ended for it} from the JSON callback's task
    durations (the controller's clock, which the lab's containers and guests share)."""
    document = stdout if stdout.startswith('{') else stdout[stdout.index('\n{') + 1:]
    drained = {}
    for play in json.JSONDecoder().raw_decode(document)[0]['plays']:
        for task in play['tasks']:
            if task['task']['name'].startswith(('Drain it on every balancer', 'Weight 0 on every director')):
                end = datetime.datetime.strptime(task['task']['duration']['end'], '%Y-%m-%dT%H:%M:%S.%fZ')
                for host in task['hosts']:
                    drained[host] = end.replace(tzinfo=datetime.timezone.utc).timestamp()
    return drained


def test_a_rolling_restart_under_load_fails_no_request_and_no_server_is_asked_while_it_restarts():
    assert helpers.wait_for(all_up, 30) is not None
    # The requests end 10 s after the playbook (time for each real server to answer again), or after 15 minutes: far
    # longer than the playbook takes under them on a loaded machine (measured on a 2-core machine, the directors
    # user-mode Linux guests: 76 s without requests, 150 s with them, 290 s with the other tests' lane beside them).
    with helpers.VipWatch(client, directors, VIP, 900, port=443, sni='www.lab.test') as haproxy_watch, \
            helpers.VipWatch(client, directors, IPVS_VIP, 900, port=443, sni='www.lab.test') as ipvs_watch:
        started = time.time()
        run = ansible('ansible-playbook', PLAYBOOK, env=dict(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json'))
        finished = time.time()
        haproxy_watch.stop_after(10)
        ipvs_watch.stop_after(10)
    drained = drained_at(run.stdout)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for path, watch in (('HAProxy', haproxy_watch), ('IPVS', ipvs_watch)):
        assert finished < watch.requests[-1][0], 'the playbook outlasted the requests'
        failed = [t for t, body in watch.requests if body is None]
        print('lab rolling restart: %d requests through %s, %d failed, playbook %.1f s'
              % (len(watch.requests), path, len(failed), finished - started))
        assert len(watch.requests) > 100 and failed == [], (path, [round(t - started, 2) for t in failed], {
            name: [round(t - started, 2) for t in (drained.get(name, 0),) + outage(name)] for name in real_servers})
        for name in real_servers:
            stopped, running = outage(name)
            assert started < stopped < running < finished, (name, started, stopped, running, finished)
            # Drained before it stopped: no request sent after its drain reaches it until it runs again. (A
            # request sent before the drain may still be answered just before the stop: the drain can end well
            # under a second before it.)
            assert started < drained[name] < stopped, (name, started, drained.get(name), stopped)
            assert answered_by(watch, name, drained[name], running) == [], (
                path, name, [round(t - started, 3) for t in answered_by(watch, name, drained[name], running)],
                [round(t - started, 3) for t in (drained[name], stopped, running)])
            # ... and it is back: it answers again after the run.
            assert answered_by(watch, name, finished, watch.requests[-1][0]), (path, name)
    assert all_up()


def test_negative_control_the_same_restart_without_the_drain_sends_requests_to_the_stopping_server():
    assert helpers.wait_for(all_up, 30) is not None
    # The requests go on long enough for the ad-hoc command to start and restart nginx on a loaded machine too.
    with helpers.VipWatch(client, directors, VIP, 30, port=443, sni='www.lab.test') as haproxy_watch, \
            helpers.VipWatch(client, directors, IPVS_VIP, 30, port=443, sni='www.lab.test') as ipvs_watch:
        time.sleep(3)
        run = ansible('ansible', 'rs1', '-m', 'ansible.builtin.systemd_service', '-a', 'name=nginx.service state=restarted')
        finished = time.time()
        haproxy_watch.stop_after(3)
        ipvs_watch.stop_after(3)
    assert run.returncode == 0, run.stdout[-2000:]
    # From the moment its stop began (nginx closes its listeners then, and may take a while to finish): the second
    # before it is when a server that was not drained still gets requests.
    stopping = helpers.unit_timestamp(real_servers['rs1'], 'nginx.service', 'ActiveExitTimestamp')
    running = outage('rs1')[1]
    for path, watch in (('HAProxy', haproxy_watch), ('IPVS', ipvs_watch)):
        assert finished < watch.requests[-1][0], 'the restart outlasted the requests'
        failed = [t for t, body in watch.requests if body is None]
        late = answered_by(watch, 'rs1', stopping - BEFORE_STOP, running)
        print('lab restart without the drain through %s: %d requests, %d failed, %d answered by rs1 in the second '
              'before its stop' % (path, len(watch.requests), len(failed), len(late)))
        assert late, 'rs1 got no request through %s before its stop even without the drain: the test above could ' \
                     'not fail' % path
    assert helpers.wait_for(all_up, 30) is not None


def test_a_host_ipvs_balances_is_refused_before_anything_is_drained_when_a_director_cannot_drain_it():
    # Told that keepalived balances rs1 with IPVS in a virtual service the directors' tables do not have (HAProxy's
    # VIP), the playbook must refuse on the directors before it drains anything anywhere.
    rs1 = helpers.ip_of('%s-rs1' % LAB)
    servers = {'keepalived_virtual_servers': [{'address': VIP, 'port': 443, 'real_servers': [
        {'address': rs1, 'port': 443}]}]}
    run = ansible('ansible-playbook', PLAYBOOK, '-e', json.dumps(servers),
                  '-e', json.dumps({'rolling_restart_address': "{{ {'rs1': '%s'}.get(inventory_hostname, '') }}" % rs1}))
    assert run.returncode != 0
    assert 'failed: [rs1 -> director' in run.stdout and 'failed: [rs2' not in run.stdout, run.stdout[-3000:]
    assert '%s:443 is not in the IPVS table' % VIP in run.stdout, run.stdout[-3000:]
    assert all_up() and 'TASK [Drain it on every balancer' not in run.stdout


def test_check_mode_restarts_nothing_and_drains_nothing():
    assert helpers.wait_for(all_up, 30) is not None
    before = {name: outage(name) for name in real_servers}
    with helpers.VipWatch(client, directors, VIP, 15, port=443, sni='www.lab.test') as watch:
        run = ansible('ansible-playbook', PLAYBOOK, '--check')
    assert run.returncode == 0, run.stdout[-3000:]
    assert {name: outage(name) for name in real_servers} == before
    # Requests every 50 ms through the VIP: each real server answered at least every 1.5 s throughout (a drain,
    # even the shortest, lasts through a restart and a check), and none failed.
    for name in real_servers:
        times = [watch.requests[0][0]] + answered_by(watch, name, 0, float('inf')) + [watch.requests[-1][0]]
        assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 1.5, name
    assert all(body for _t, body in watch.requests) and all_up()
