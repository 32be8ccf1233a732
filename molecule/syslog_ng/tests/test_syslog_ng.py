# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""syslog-ng, proven by log lines arriving: intact, under the right program, and none lost."""

from __future__ import annotations

import json
import time

import helpers

WEB, COLLECTOR = 'opsnotes-syslog-web', 'opsnotes-syslog-collector'
JOURNAL_HOSTS = [COLLECTOR, WEB]
SOURCE = '/srv/www/logs/access.log'
DEST = '/var/log/remote/$PROGRAM/$YEAR$MONTH$DAY/access_log'
PROGRAM = 'app.example.org'
FRAGMENT = '/etc/syslog-ng/conf.d/50-opsnotes.conf'


def probe(timeout=20):
    """Append a probe line on the web host, wait for it on the collector; returns the collector's probe result."""
    sent = helpers.ansible_host(WEB).ansible('opsnotes.edge.syslog_ng_check',
                                             'syntax=false probe_append=%s' % SOURCE, check=False)
    args = dict(syntax=False, probe_line=sent['probe']['line'], probe_sent_at=sent['probe']['sent_at'],
                probe_wait=DEST, probe_program=PROGRAM, probe_timeout=timeout, fail_on_problem=False)
    return helpers.ansible_host(COLLECTOR).ansible('opsnotes.edge.syslog_ng_check', json.dumps(args),
                                                   check=False)['probe']


def converge(*extra):
    run = helpers.ansible_playbook('molecule/syslog_ng/converge.yml', *extra)
    assert run.returncode == 0, run.stdout[-4000:]


def test_live_config_valid_and_daemon_running_on_both():
    for name in (WEB, COLLECTOR):
        result = helpers.ansible_host(name).ansible('opsnotes.edge.syslog_ng_check', '', check=False)
        assert result['syntax_ok'] and result['running'] and result['ok']


def test_a_line_arrives_intact_under_its_program_and_day():
    result = probe()
    assert result['ok'], result
    day = time.strftime('%Y%m%d')
    assert result['path'] == '/var/log/remote/%s/%s/access_log' % (PROGRAM, day)
    assert result['record'].endswith(' %s %s' % (PROGRAM, result['line']))   # first field intact
    assert result['latency'] < 10


def test_files_and_directories_get_the_configured_owners_and_modes():
    host = helpers.host(COLLECTOR)
    day = time.strftime('%Y%m%d')
    log = host.file('/var/log/remote/%s/%s/access_log' % (PROGRAM, day))
    assert (log.user, log.group, log.mode) == ('www-data', 'adm', 0o640)
    for path in ('/var/log/remote/%s' % PROGRAM, '/var/log/remote/%s/%s' % (PROGRAM, day)):
        directory = host.file(path)
        assert (directory.user, directory.group, directory.mode) == ('root', 'adm', 0o750)


def test_no_line_is_lost_while_the_collector_is_down():
    web, collector = helpers.host(WEB), helpers.host(COLLECTOR)
    tag = 'outage-%d' % time.time()
    collector.check_output('systemctl stop syslog-ng')
    try:
        for i in range(50):
            line = '198.51.100.%d - - [-] "GET /%s/%03d HTTP/1.1" 200 0' % (i + 1, tag, i)
            web.check_output('echo %s >> %s', line, SOURCE)
        time.sleep(4)          # the client keeps them in its reliable disk buffer meanwhile
    finally:
        collector.check_output('systemctl start syslog-ng')
    deadline, count = time.time() + 45, 0
    while time.time() < deadline:
        count = int(collector.run("cat /var/log/remote/%s/*/access_log | grep -c '/%s/'", PROGRAM, tag).stdout or 0)
        if count >= 50:
            break
        time.sleep(1)
    assert count == 50
    lines = collector.check_output("cat /var/log/remote/%s/*/access_log | grep '/%s/'", PROGRAM, tag).splitlines()
    assert sorted(line.split('/%s/' % tag)[1][:3] for line in lines) == ['%03d' % i for i in range(50)]


def test_the_probe_fails_when_no_parse_is_removed_the_trap():
    """Negative control: without no-parse syslog-ng parses the line as a syslog header and eats its first field."""
    converge('--limit', WEB, '-e', '{"syslog_ng_file_sources": [{"name": "s_access", "path": "%s", '
             '"program_override": "%s", "no_parse": false}]}' % (SOURCE, PROGRAM))
    try:
        result = probe(timeout=8)
    finally:
        converge('--limit', WEB)
    assert result['ok'] is False
    assert result['reason'].startswith('the line arrived without its first field')
    assert probe()['ok'] is True


def test_the_probe_fails_when_program_override_is_removed_too():
    converge('--limit', WEB, '-e', '{"syslog_ng_file_sources": [{"name": "s_access", "path": "%s"}]}' % SOURCE)
    try:
        result = probe(timeout=8)
    finally:
        converge('--limit', WEB)
    assert result['ok'] is False
    assert result['found_elsewhere'] and not result['found_elsewhere'][0].startswith('/var/log/remote/%s/' % PROGRAM)
    assert 'not under the expected program' in result['reason']


def test_a_config_that_fails_the_syntax_check_never_goes_live():
    collector = helpers.host(COLLECTOR)
    before = collector.check_output('md5sum %s', FRAGMENT)
    returncode, failures = helpers.playbook_failures(
        'molecule/syslog_ng/converge.yml', '--limit', COLLECTOR,
        '-e', '{"syslog_ng_filters": [{"name": "f_bad", "expression": "level(loud) and"}], "syslog_ng_log_paths": '
              '[{"sources": ["s_net"], "filters": ["f_bad"], "destinations": ["d_per_program"]}]}')
    assert returncode != 0
    assert 'fails syslog-ng --syntax-only; nothing was changed' in failures[0][2]
    assert '/etc/syslog-ng/conf.d/50-opsnotes.conf' in failures[0][2]      # the error names the live path
    assert collector.check_output('md5sum %s', FRAGMENT) == before
    assert probe()['ok'] is True


def test_a_config_syslog_ng_refuses_at_reload_is_rolled_back():
    """Passes --syntax-only but fails at init (port in use): syslog-ng keeps the old config, we restore the file."""
    collector = helpers.host(COLLECTOR)
    before = collector.check_output('md5sum %s', FRAGMENT)
    collector.check_output('systemd-run --unit opsnotes-port-squatter python3 -m http.server 6600')
    try:
        time.sleep(1)
        returncode, failures = helpers.playbook_failures(
            'molecule/syslog_ng/converge.yml', '--limit', COLLECTOR,
            '-e', '{"syslog_ng_network_sources": [{"name": "s_net", "transport": "tcp", "port": 6514}, '
                  '{"name": "s_squat", "transport": "tcp", "port": 6600}], '
                  '"syslog_ng_log_paths": [{"sources": ["s_net", "s_squat"], "destinations": ["d_per_program"]}]}')
    finally:
        collector.run('systemctl stop opsnotes-port-squatter')
    assert returncode != 0
    assert 'refused the new configuration at reload' in failures[0][2]
    assert collector.check_output('md5sum %s', FRAGMENT) == before
    assert collector.service('syslog-ng').is_running
    assert probe()['ok'] is True


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/syslog_ng/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
