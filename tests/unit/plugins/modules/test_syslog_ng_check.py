# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import time

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import syslog_ng_check as m

LINE = '203.0.113.9 - - [21/Nov/2026:06:00:00 +0000] "GET /opsnotes-probe-%s HTTP/1.1" 200 0' % ('a' * 32)
DAY = time.strftime('%Y%m%d')


def commands(syntax_rc=0, running=True):
    def run(argv, **kwargs):
        if argv[1] == '--syntax-only':
            return syntax_rc, '', 'syslog-ng: Error setting capabilities\n' + ('Error parsing config' if syntax_rc else '')
        if argv[1] == 'stats':
            return (0, '', '') if running else (1, '', 'Error connecting')
        raise AssertionError(argv)
    return run


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_expand():
    when = time.mktime((2026, 11, 21, 6, 7, 8, 0, 0, -1))
    assert m.expand('/r/$PROGRAM/$YEAR$MONTH${DAY}/$HOUR-${R_MIN}-$S_SEC', 'app.x', None, when) == \
        '/r/app.x/20261121/06-07-08'
    assert m.expand('/r/$PROGRAM/$HOST/$FACILITY.log', None, None, when) == '/r/*/*/*.log'
    assert m.expand('/r/$HOST', None, 'web[1]', when) == '/r/web[[]1]'


def test_make_line_has_marker_and_first_field():
    marker, line = m.make_line()
    assert marker in line and line.startswith('203.0.113.') and len(marker) == len('opsnotes-probe-') + 32


def test_syntax_and_running(run_module):
    result, failed = run_module(m, dict(), run_command=commands())
    assert not failed and result['ok'] and result['syntax_ok'] and result['running']
    assert 'Error setting capabilities' not in result['syntax_output']
    result, failed = run_module(m, dict(), run_command=commands(syntax_rc=1, running=False))
    assert failed and result['msg'] == ('syntax check failed: Error parsing config; '
                                        'syslog-ng is not running (syslog-ng-ctl stats failed)')
    result, failed = run_module(m, dict(fail_on_error=False), run_command=commands(running=False))
    assert not failed and result['ok'] is False


def test_append_then_wait_finds_the_intact_line(run_module, tmp_path):
    source = tmp_path / 'access.log'
    result, failed = run_module(m, dict(syntax=False, probe_append=str(source)))
    sent = result['probe']
    assert source.read_text() == sent['line'] + '\n'
    write(tmp_path / 'remote' / 'app.x' / DAY / 'access_log', '06:00:00 web app.x %s\n' % sent['line'])
    args = dict(syntax=False, probe_line=sent['line'], probe_sent_at=sent['sent_at'], probe_program='app.x',
                probe_wait=str(tmp_path / 'remote/$PROGRAM/$YEAR$MONTH$DAY/access_log'), probe_timeout=2)
    result, failed = run_module(m, args)
    assert not failed and result['ok'] and result['probe']['ok']
    assert result['probe']['path'] == str(tmp_path / 'remote' / 'app.x' / DAY / 'access_log')
    assert result['probe']['latency'] >= 0


def test_one_call_append_and_wait_on_the_same_host(run_module, tmp_path, monkeypatch):
    source = tmp_path / 'access.log'
    dest = tmp_path / 'out' / 'app.x.log'
    real_find = m.find

    def deliver(paths, marker):     # stands in for syslog-ng copying the line
        write(dest, '%s app.x %s\n' % (DAY, source.read_text().strip()))
        return real_find(paths, marker)
    monkeypatch.setattr(m, 'find', deliver)
    result, failed = run_module(m, dict(syntax=False, probe_append=str(source), probe_program='app.x',
                                        probe_wait=str(tmp_path / 'out/$PROGRAM.log'), probe_timeout=2))
    assert not failed and result['probe']['ok']


def wait_args(tmp_path, timeout=0.5):
    return dict(syntax=False, probe_line=LINE, probe_sent_at=time.time(), probe_program='app.x',
                probe_wait=str(tmp_path / 'remote/$PROGRAM/$YEAR$MONTH$DAY/access_log'), probe_timeout=timeout,
                fail_on_error=False)


def test_first_field_eaten(run_module, tmp_path):
    write(tmp_path / 'remote' / 'app.x' / DAY / 'access_log', '06:00:00 web app.x %s\n' % LINE.split(' ', 1)[1])
    result, failed = run_module(m, wait_args(tmp_path))
    assert result['ok'] is False
    assert result['probe']['reason'] == ("the line arrived without its first field '203.0.113.9': it was parsed as a "
                                         "syslog header (no-parse missing on the source?)")


def test_arrived_under_another_program(run_module, tmp_path):
    other = tmp_path / 'remote' / '203.0.113.9' / DAY / 'access_log'
    write(other, '06:00:00 web 203.0.113.9 %s\n' % LINE.split(' ', 1)[1])
    result, failed = run_module(m, wait_args(tmp_path))
    assert result['probe']['found_elsewhere'] == [str(other)]
    assert "not under the expected program 'app.x'" in result['probe']['reason']


def test_never_arrived_and_fails_by_default(run_module, tmp_path):
    args = dict(wait_args(tmp_path, timeout=0.3), fail_on_error=True)
    result, failed = run_module(m, args)
    assert failed and result['msg'].startswith('probe failed: the line did not arrive within 0.3s in ')


def test_probe_line_without_marker_and_missing_line(run_module, tmp_path):
    result, failed = run_module(m, dict(wait_args(tmp_path), probe_line='no marker here'))
    assert result['probe']['reason'] == 'probe_line holds no opsnotes-probe marker'
    result, failed = run_module(m, dict(syntax=False, probe_wait='/x'))
    assert failed and result['msg'] == 'probe_wait needs probe_line or probe_append'


@pytest.mark.parametrize('key', ['probe_line', 'probe_program', 'probe_host'])
def test_wait_options_need_probe_wait(run_module, key):
    result, failed = run_module(m, {key: 'x', 'syntax': False})
    assert failed and 'probe_wait' in result['msg']


def test_append_to_unwritable_file(run_module, tmp_path):
    result, failed = run_module(m, dict(syntax=False, probe_append=str(tmp_path / 'missing-dir' / 'x.log')))
    assert failed and result['msg'].startswith('cannot append the probe line to')
    assert json.dumps(result)      # the result stays serialisable


def arrived(tmp_path, line):
    write(tmp_path / 'remote' / 'app.x' / DAY / 'access_log', '06:00:00 web app.x %s\n' % line)


def test_the_line_names_the_client(run_module, tmp_path):
    arrived(tmp_path, LINE)
    result, failed = run_module(m, dict(wait_args(tmp_path), probe_client='203.0.113.9'))
    assert not failed and result['ok'] and result['probe']['ok']
    assert result['probe']['client'] == '203.0.113.9' and result['probe']['addresses'] == ['203.0.113.9']


def test_a_line_that_names_the_proxy_instead_of_the_client_fails(run_module, tmp_path):
    """The request's line arrived intact, but a balancer on the way did not pass the client's address on."""
    request = 'GET /?opsnotes-probe-%s HTTP/1.1' % ('b' * 32)
    arrived(tmp_path, '10.0.0.2 - - [21/Nov/2026:06:00:00 +0000] "%s" 200 12 "-" "curl"' % request)
    args = dict(wait_args(tmp_path), probe_line=request, probe_client='192.0.2.33', fail_on_error=True)
    result, failed = run_module(m, args)
    assert failed and result['ok'] is False and result['probe']['ok'] is False
    assert result['probe']['addresses'] == ['10.0.0.2']
    assert result['probe']['reason'].startswith('the line names 10.0.0.2, not the client 192.0.2.33: a proxy on the way')
    # The same line from the client itself passes: only the address made the difference.
    arrived(tmp_path, '192.0.2.33 - - [21/Nov/2026:06:00:00 +0000] "%s" 200 12 "-" "curl"' % request)
    result, failed = run_module(m, args)
    assert not failed and result['probe']['ok']


def test_probe_client_must_be_an_address(run_module, tmp_path):
    arrived(tmp_path, LINE)
    result, failed = run_module(m, dict(wait_args(tmp_path), probe_client='203.0.113.9; rm'))
    assert result['ok'] is False and result['probe']['reason'] == "probe_client '203.0.113.9; rm' is not an IP address"


@pytest.mark.parametrize('record, addresses', [
    ('06:00:00 web app.x 192.0.2.1 - -', ['192.0.2.1']),
    ('peer 192.0.2.1:443, "192.0.2.2" [2001:db8::1]:8443 (::1); fe80::1',
     ['192.0.2.1', '192.0.2.2', '2001:db8::1', '::1', 'fe80::1']),
    ('1.2.3.4.5 192.0.2.1/24 06:00:00 21/Nov/2026:06:00:00 x192.0.2.9 2001:DB8::1', ['2001:db8::1']),
    ('192.0.2.1 192.0.2.1', ['192.0.2.1']),
])
def test_addresses_in(record, addresses):
    assert m.addresses_in(record) == addresses
