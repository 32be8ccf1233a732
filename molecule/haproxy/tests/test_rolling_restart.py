# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rolling_restart.yml on the scenario's balancer and its two www echo servers: under load no request fails
and HAProxy never tries a server while it restarts; without the drain it does (the control). A session that
outlasts the drain timeout stops the run: the host stays drained and is not restarted. Bad values are refused
before any host is drained."""

from __future__ import annotations

import time

import helpers

LB, CLIENT = 'opsnotes-hap-lb', 'opsnotes-hap-client'
WWW = {'www1': 'opsnotes-hap-www1', 'www2': 'opsnotes-hap-www2'}
SOCKET = '/run/haproxy/opsnotes-admin.sock'
JOURNAL_HOSTS = [LB] + list(WWW.values())
PLAYBOOK = 'playbooks/rolling_restart.yml'
lb, client = helpers.host(LB), helpers.host(CLIENT)
# The scenario's server names are www1/www2, its hosts opsnotes-hap-www1/2; its echo servers answer on 8080.
ARGS = ['-e', 'rolling_restart_hosts=opsnotes-hap-www1:opsnotes-hap-www2',
        '-e', '{"rolling_restart_server": "{{ inventory_hostname | replace(\'opsnotes-hap-\', \'\') }}"}',
        '-e', 'rolling_restart_service=opsnotes-echo@8080.service',
        '-e', '{"rolling_restart_check_url": "http://{{ inventory_hostname }}:8080/"}']


def tried_while_down():
    """Per www server, HAProxy's count of failed connections plus retries: requests sent to a server not answering."""
    stat = helpers.haproxy_stat(lb, SOCKET)
    return {name: int(stat[('be_www', name)]['econ'] or 0) + int(stat[('be_www', name)]['wretr'] or 0)
            for name in WWW}


def main_pid(name):
    return helpers.host(WWW[name]).check_output('systemctl show -p MainPID --value opsnotes-echo@8080.service')


def runtime(args):
    return helpers.haproxy_server(LB, SOCKET, **args)


def under_load(seconds, action):
    """(what ``action()`` returned, the load client's summary of ``seconds`` of requests through the balancer)."""
    return helpers.load_while(client, 'http://%s/' % LB, seconds, action, out='/tmp/load-rr.json')


def test_a_rolling_restart_under_load_fails_no_request_and_tries_no_server_while_it_restarts():
    before, pids = tried_while_down(), {name: main_pid(name) for name in WWW}
    run, summary = under_load(25, lambda: helpers.ansible_playbook(PLAYBOOK, *ARGS))
    assert run.returncode == 0, run.stdout[-3000:]
    assert all(main_pid(name) != pids[name] for name in WWW)       # both restarted
    assert summary['ok'] > 100 and summary['failed'] == 0, summary
    assert tried_while_down() == before
    assert {s['status'] for s in helpers.haproxy_stat(lb, SOCKET).values() if s['pxname'] == 'be_www'} == {'UP'}
    # The second host waited for the first: one restart at a time.
    assert run.stdout.count('TASK [Restart opsnotes-echo@8080.service]') == 2


def test_negative_control_the_same_restart_without_the_drain_sends_requests_to_the_stopped_server():
    before = tried_while_down()

    def restart():
        for _attempt in range(3):
            helpers.host(WWW['www2']).check_output('systemctl restart opsnotes-echo@8080.service')
            time.sleep(1)
    _none, summary = under_load(8, restart)
    after = tried_while_down()
    print('restart without the drain: %s, failed connections + retries on www2: %d'
          % (summary, after['www2'] - before['www2']))
    assert after['www2'] > before['www2'], (before, after, summary)


def test_a_session_outlasting_the_drain_timeout_stops_the_run_and_leaves_the_host_drained():
    pid = main_pid('www2')
    runtime(dict(backend='be_www', server='www1', weight=0))        # the slow request surely lands on www2
    try:
        client.run('nohup curl -s -m 30 -H "Host: www.example.test" "http://%s/slow?sleep=20" >/dev/null 2>&1 &', LB)
        assert helpers.wait_for(lambda: helpers.haproxy_stat(lb, SOCKET)[('be_www', 'www2')]['scur'] == '1', 5) is not None
        code, failures = helpers.playbook_failures(PLAYBOOK, *ARGS[2:], '-e', 'rolling_restart_hosts=opsnotes-hap-www2',
                                                   '-e', 'rolling_restart_drain_timeout=2')
        assert code != 0
        assert [(h, task) for h, task, _msg in failures][-1] == ('opsnotes-hap-www2', 'Stop here, leaving it drained')
        assert 'opsnotes-hap-www2 (server www2) was not restarted and is left drained' in failures[-1][2]
        assert 'be_www/www2 still has 1 session(s) after 2s' in failures[-1][2]
        assert runtime(dict(backend='be_www', server='www2', weight=100))['after']['state'] == 'drain'
        assert main_pid('www2') == pid
    finally:
        runtime(dict(backend='be_www', server='www2', state='ready'))
        runtime(dict(backend='be_www', server='www1', weight=1))


def test_bad_values_are_refused_before_any_host_is_drained():
    cases = [
        (['-e', 'rolling_restart_service=nginx.service;reboot'], 'rolling_restart_service'),
        (['-e', 'rolling_restart_drain_timeout=soon'], 'rolling_restart_drain_timeout: must be whole seconds'),
        (['-e', '{"rolling_restart_balancers": ["nope"]}'], 'rolling_restart_balancers: nope is not a host'),
        (['-e', 'rolling_restart_tasks=/nonexistent/tasks.yml'], 'rolling_restart_tasks: /nonexistent/tasks.yml is not a file'),
        (['-e', 'rolling_restart_check_url=ftp://x/'], 'rolling_restart_check_url: ftp://x/ must be an http'),
        (['-e', 'rolling_restart_server=www9'], 'no backend has a server named www9'),
    ]
    for extra, message in cases:
        code, failures = helpers.playbook_failures(PLAYBOOK, *ARGS, *extra)
        assert code != 0 and failures and message in failures[0][2], (extra, failures)
        assert {s['status'] for s in helpers.haproxy_stat(lb, SOCKET).values() if s['pxname'] == 'be_www'} == {'UP'}
