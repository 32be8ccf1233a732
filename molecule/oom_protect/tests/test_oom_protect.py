# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""OOM protection, proven on live processes: values read back from /proc, and honest about refusals."""

from __future__ import annotations

import helpers

CONTAINER = 'opsnotes-oom-host'
HOST = helpers.host(CONTAINER)
JOURNAL_HOSTS = [CONTAINER]
DROPIN = '50-opsnotes-oom-protect.conf'
REFUSED = ('EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE, '
           'which this host (or container) does not grant')


def scores(pids):
    return {pid: int(HOST.file('/proc/%d/oom_score_adj' % pid).content_string) for pid in pids}


def unit_pids(unit):
    return [int(p) for p in HOST.check_output(
        'cat /sys/fs/cgroup/systemd$(systemctl show -p ControlGroup --value %s)/cgroup.procs', unit).split()]


def test_dropins_written_and_loaded_by_systemd():
    for unit, value in (('rsyslog.service', -900), ('opsnotes-batch.service', 700)):
        dropin = HOST.file('/etc/systemd/system/%s.d/%s' % (unit, DROPIN))
        assert dropin.contains('^OOMScoreAdjust=%d$' % value)
        assert dropin.mode == 0o644
        assert HOST.check_output('systemctl show -p OOMScoreAdjust --value %s', unit) == str(value)


def test_a_unit_only_named_by_another_is_not_taken_for_installed():
    # opsnotes-batch.service has After=keepalived.service; keepalived is a default target but not installed.
    assert 'not-found' in HOST.check_output('systemctl show -p LoadState --value keepalived.service')
    assert not HOST.file('/etc/systemd/system/keepalived.service.d').exists


def test_positive_score_applied_live_to_every_process_of_the_unit_without_restart():
    pids = unit_pids('opsnotes-batch.service')
    assert len(pids) == 2
    assert set(scores(pids).values()) == {700}
    # MainPID is the one prepare started: the role did not restart the unit
    started = int(HOST.check_output('systemctl show -p ExecMainStartTimestampMonotonic --value opsnotes-batch'))
    active = int(HOST.check_output('systemctl show -p ActiveEnterTimestampMonotonic --value opsnotes-batch'))
    assert started <= active


def test_processes_outside_systemd_by_pidfile_and_long_name():
    pid = int(HOST.file('/run/opsnotes-pidfile-demo.pid').content_string)
    assert scores([pid]) == {pid: 300}
    workers = [int(p) for p in HOST.check_output('pgrep -x opsnotes-long-w').split()]
    assert len(workers) == 2 and set(scores(workers).values()) == {400}


def test_negative_score_refused_without_cap_sys_resource_is_reported_honestly():
    result = helpers.ansible_host(CONTAINER).ansible(
        'opsnotes.edge.oom_score', 'unit=rsyslog.service score_adj=-900', check=False)
    rsyslogd = int(HOST.check_output('systemctl show -p MainPID --value rsyslog'))
    assert result['changed'] is False
    assert result['cap_sys_resource'] is False
    assert result['status'] == 'limited' and result['ok'] is False
    assert result['unprotected'] == [dict(pid=rsyslogd, comm='rsyslogd', expected=-900, oom_score_adj=0,
                                          reason=REFUSED)]
    target = result['targets'][0]
    assert target['selector'] == 'unit=rsyslog.service' and target['unit_score_adj'] == -900
    assert scores([rsyslogd]) == {rsyslogd: 0}


def test_strict_mode_fails_with_the_reason():
    returncode, failures = helpers.playbook_failures('molecule/oom_protect/converge.yml',
                                                     '-e', 'oom_protect_strict=true')
    assert returncode != 0
    assert len(failures) == 1
    host, task, msg = failures[0]
    assert host == CONTAINER
    assert task == 'opsnotes.edge.oom_protect : Verify the live scores and the loaded drop-ins | oom_protect'
    assert 'rsyslogd: ' + REFUSED in msg
    assert msg.endswith('(set oom_protect_strict: false to report this and go on)')


def test_report_lists_the_sacrificial_processes_as_first_victims():
    result = helpers.ansible_host(CONTAINER).ansible('opsnotes.edge.oom_score', 'report_top=3', check=False)
    assert [row['oom_score_adj'] for row in result['top'][:2]] == [700, 700]
    assert result['top'][0]['oom_score'] >= result['top'][2]['oom_score']


def test_durable_the_unit_restarts_with_its_score():
    HOST.check_output('systemctl restart opsnotes-batch.service')
    pids = unit_pids('opsnotes-batch.service')
    assert pids and set(scores(pids).values()) == {700}


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/oom_protect/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_a_dropped_sacrificial_unit_loses_its_dropin():
    run = helpers.ansible_playbook('molecule/oom_protect/converge.yml', '-e', '{"oom_protect_sacrificial": []}')
    try:
        assert run.returncode == 0, run.stdout[-4000:]
        assert not HOST.file('/etc/systemd/system/opsnotes-batch.service.d/%s' % DROPIN).exists
        assert HOST.check_output('systemctl show -p OOMScoreAdjust --value opsnotes-batch') == '0'
        assert HOST.file('/etc/systemd/system/rsyslog.service.d/%s' % DROPIN).exists
    finally:
        run = helpers.ansible_playbook('molecule/oom_protect/converge.yml')
    assert run.returncode == 0, run.stdout[-4000:]


def test_a_run_limited_by_tags_reads_the_installed_units_and_keeps_every_dropin():
    # rsyslog is protected by the defaults, which apply to installed units only: the drop-ins call itself asks
    # systemd which are (systemctl show LoadState), so a run limited to the apply tag changes nothing.
    snapshot = 'md5sum /etc/systemd/system/*.service.d/%s' % DROPIN
    before = HOST.check_output(snapshot)
    assert 'rsyslog.service.d' in before
    run = helpers.ansible_playbook('molecule/oom_protect/converge.yml', '--tags', 'oom_protect_apply')
    assert run.returncode == 0, run.stdout[-4000:]
    assert 'Write the OOMScoreAdjust drop-ins | oom_protect' in run.stdout
    assert HOST.check_output(snapshot) == before
    # Negative control: with rsyslog's unit file gone (the package removed), the same run removes its drop-in.
    unit = HOST.check_output('systemctl show -p FragmentPath --value rsyslog.service')
    try:
        HOST.run_expect([0], 'mv %s /root/rsyslog.service.away && systemctl daemon-reload' % unit)
        run = helpers.ansible_playbook('molecule/oom_protect/converge.yml', '--tags', 'oom_protect_apply')
        assert run.returncode == 0, run.stdout[-4000:]
        assert not HOST.file('/etc/systemd/system/rsyslog.service.d/%s' % DROPIN).exists, run.stdout[-3000:]
    finally:
        HOST.run('mv /root/rsyslog.service.away %s; systemctl daemon-reload' % unit)
        run = helpers.ansible_playbook('molecule/oom_protect/converge.yml')
    assert run.returncode == 0, run.stdout[-4000:]
    assert HOST.check_output(snapshot) == before
    assert HOST.check_output(snapshot) == before


def test_earlyoom_runs_with_the_role_s_avoid_and_prefer_and_keeps_the_packaged_options():
    pid = HOST.check_output('pidof earlyoom')
    argv = HOST.file('/proc/%s/cmdline' % pid).content_string.split('\0')
    assert argv[:3] == ['/usr/bin/earlyoom', '-r', '3600'], argv       # /etc/default/earlyoom's EARLYOOM_ARGS
    # The default services' names whether installed or not (a stable drop-in), the sacrificial names to prefer.
    assert argv[3:7] == ['--avoid', '^(haproxy|keepalived|rsyslogd|syslog-ng)$', '--prefer',
                         '^(opsnotes-long-w|sleep)$'], argv
    policy = HOST.check_output('systemctl show -p OOMPolicy --value opsnotes-batch.service')
    assert policy == 'kill'
    assert HOST.check_output('systemctl show -p ManagedOOMPreference --value rsyslog.service') == 'avoid'


def test_oom_score_names_earlyoom_and_a_protected_process_it_would_not_avoid():
    result = helpers.ansible_host(CONTAINER).ansible(
        'opsnotes.edge.oom_score', 'unit=rsyslog.service', check=True)
    assert result['active_killers'] == ['kernel', 'earlyoom'] and result['exposed'] == []
    # Control: a protected process earlyoom's --avoid does not name is exposed, and the status says drift.
    result = helpers.ansible_host(CONTAINER).ansible(
        'opsnotes.edge.oom_score', 'name=opsnotes-long-worker score_adj=-5', check=True)
    assert result['status'] == 'drift'
    assert {(e['killer'], e['comm']) for e in result['exposed']} == {('earlyoom', 'opsnotes-long-w')}
