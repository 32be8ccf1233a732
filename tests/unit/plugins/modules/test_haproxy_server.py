# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import haproxy_server


def args(fake, **kw):
    return dict(socket=fake.path, backend='be_www', server='www1', **kw)


def test_disable_then_idempotent_then_enable(run_module, fake_haproxy):
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='disabled'))
    assert not failed and result['changed'] and result['commands'] == ['set server be_www/www1 state maint']
    assert result['before']['state'] == 'ready' and result['after']['state'] == 'maint'
    assert result['diff'] == dict(before='be_www: state ready, weight 1\n', after='be_www: state maint, weight 1\n')
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='maint'))
    assert not result['changed'] and result['commands'] == []
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='enabled', weight=50))
    assert result['commands'] == ['set server be_www/www1 state ready', 'set weight be_www/www1 50']
    assert result['after'] == dict(state='ready', weight=50, scur=0, status='UP')


def test_check_mode_sends_nothing(run_module, fake_haproxy):
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='drain'), check_mode=True)
    assert result['changed'] and result['after']['state'] == 'drain'
    assert not any(c.startswith('set ') for c in fake_haproxy.commands)
    assert fake_haproxy.servers[('be_www', 'www1')]['state'] == 'ready'


def test_drain_waits_until_sessions_end(run_module, fake_haproxy, monkeypatch):
    fake_haproxy.servers[('be_www', 'www1')]['scur'] = 2
    ticks = []

    def sleep(seconds):
        ticks.append(seconds)
        if len(ticks) == 3:
            fake_haproxy.servers[('be_www', 'www1')]['scur'] = 0
    monkeypatch.setattr(haproxy_server.time, 'sleep', sleep)
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='drain', wait=True, wait_timeout=30))
    assert not failed and result['before']['scur'] == 2 and result['after']['scur'] == 0 and len(ticks) == 3


def test_wait_timeout_fails(run_module, fake_haproxy, monkeypatch):
    fake_haproxy.servers[('be_www', 'www1')]['scur'] = 1
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(haproxy_server.time, 'time', lambda: next(clock))
    monkeypatch.setattr(haproxy_server.time, 'sleep', lambda s: None)
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='drain', wait=True, wait_timeout=20))
    assert failed and result['msg'] == 'be_www/www1 still has 1 session(s) after 20s'


@pytest.mark.parametrize('extra, message', [
    (dict(backend='be_nope'), 'backend be_nope does not exist'),
    (dict(server='nope'), 'server nope does not exist in backend be_www'),
    (dict(server='a b'), "server: 'a b' must be a name without spaces"),
    (dict(weight=300), 'weight: 300 must be from 0 to 256'),
])
def test_errors(run_module, fake_haproxy, extra, message):
    params = dict(args(fake_haproxy, state='drain'), **extra)
    result, failed = run_module(haproxy_server, params)
    assert failed and message in result['msg']


def test_missing_socket(run_module, tmp_path):
    result, failed = run_module(haproxy_server, dict(socket=str(tmp_path / 'x.sock'), backend='b', server='s',
                                                     state='drain'))
    assert failed and result['msg'].startswith('cannot connect to the HAProxy admin socket')


def test_refused_command(run_module, fake_haproxy, monkeypatch):
    monkeypatch.setattr(fake_haproxy, 'answer', lambda line: 'Permission denied.\n' if line.startswith('set')
                        else type(fake_haproxy).answer(fake_haproxy, line))
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='drain'))
    assert failed and result['msg'] == 'HAProxy refused "set server be_www/www1 state drain": Permission denied.'


def test_without_a_backend_every_backend_holding_the_server_is_drained(run_module, fake_haproxy):
    fake_haproxy.servers[('be_api', 'www1')] = dict(state='ready', weight=5, scur=0, status='UP')
    result, failed = run_module(haproxy_server, dict(socket=fake_haproxy.path, server='www1', state='drain'))
    assert not failed and result['backends'] == ['be_api', 'be_www']
    assert result['commands'] == ['set server be_api/www1 state drain', 'set server be_www/www1 state drain']
    assert [s['after']['status'] for s in result['servers']] == ['DRAIN', 'DRAIN'] and 'before' not in result
    assert fake_haproxy.servers[('be_www', 'www2')]['state'] == 'ready'
    result, failed = run_module(haproxy_server, dict(socket=fake_haproxy.path, server='www1', state='drain'))
    assert not failed and not result['changed']


def test_a_server_no_backend_has_is_an_error(run_module, fake_haproxy):
    result, failed = run_module(haproxy_server, dict(socket=fake_haproxy.path, server='nope', state='drain'))
    assert failed and result['msg'] == 'no backend has a server named nope'


def test_ready_waits_until_the_health_checks_pass(run_module, fake_haproxy, monkeypatch):
    fake_haproxy.servers[('be_www', 'www1')].update(state='drain', status='DOWN')
    ticks = []

    def sleep(seconds):
        ticks.append(seconds)
        fake_haproxy.servers[('be_www', 'www1')]['status'] = ['DOWN 1/2', 'UP'][min(len(ticks), 2) - 1]
    monkeypatch.setattr(haproxy_server.time, 'sleep', sleep)
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='ready', wait=True, wait_timeout=30))
    assert not failed and result['after']['status'] == 'UP' and len(ticks) == 2


def test_ready_wait_timeout_names_the_server_and_its_status(run_module, fake_haproxy, monkeypatch):
    fake_haproxy.servers[('be_www', 'www1')].update(state='maint', status='DOWN')
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(haproxy_server.time, 'time', lambda: next(clock))
    monkeypatch.setattr(haproxy_server.time, 'sleep', lambda s: None)
    result, failed = run_module(haproxy_server, args(fake_haproxy, state='ready', wait=True, wait_timeout=20))
    assert failed and result['msg'] == 'be_www/www1 is DOWN, not UP after 20s'
    assert fake_haproxy.servers[('be_www', 'www1')]['state'] == 'ready'     # the state set stays
