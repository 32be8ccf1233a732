# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _oom
from ansible_collections.opsnotes.edge.plugins.modules import oom_score

REFUSED = ('EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE, '
           'which this host (or container) does not grant')


def add(root, pid, comm, cmdline, adj=0, unit=None):
    root.write('proc/%d/comm' % pid, comm + '\n')
    root.write('proc/%d/cmdline' % pid, '\0'.join(cmdline) + '\0')
    root.write('proc/%d/oom_score_adj' % pid, '%d\n' % adj)
    root.write('proc/%d/oom_score' % pid, '%d\n' % max(0, 100 + adj))
    root.write('proc/%d/stat' % pid, '%d (%s) S 1 1 1\n' % (pid, comm))
    root.write('proc/%d/cgroup' % pid, '1:name=systemd:/system.slice/%s\n' % (unit or 'other.scope'))


@pytest.fixture
def host(fake_root, monkeypatch):
    add(fake_root, 120, 'rsyslogd', ['/usr/sbin/rsyslogd'], unit='rsyslog.service')
    add(fake_root, 130, 'sleep', ['sleep', 'infinity'], unit='batch.service')
    add(fake_root, 131, 'sleep', ['sleep', '1000'], unit='batch.service')
    fake_root.write('proc/self/status', 'CapEff:\t00000000a82435fb\n')   # no CAP_SYS_RESOURCE
    real_write = _oom.write_score

    def kernel(pid, value, root='/'):
        """Like the kernel without CAP_SYS_RESOURCE: refuse values below min(current, 0)."""
        current = int(fake_root.read('proc/%d/oom_score_adj' % pid))
        if not _oom.has_capability(_oom.CAP_SYS_RESOURCE, root) and value < min(current, 0):
            return _oom.permission_reason(errno.errorcode[errno.EACCES], value)
        return real_write(pid, value, root)
    monkeypatch.setattr(oom_score, 'write_score', kernel)
    return fake_root


SHOW = ['show', '--property=OOMScoreAdjust', '--property=ControlGroup', '--property=OOMPolicy',
        '--property=ManagedOOMPreference', '--property=LoadState', '--']


def systemctl(values, journal=''):
    """systemctl show (each unit's OOMScoreAdjust from ``values``, or its properties where the value is a dict; its
    cgroup under system.slice) and journalctl -k (``journal``: its JSON lines)."""
    def run(argv, **kwargs):
        if argv[0].endswith('/journalctl'):
            assert argv[1:] == ['-k', '-b', '-o', 'json', '--no-pager', '-g', 'Killed process']
            return (0, journal, '') if journal else (1, '', '-- No entries --')
        assert argv[1:-1] == SHOW
        unit = argv[-1]
        shown = dict(OOMScoreAdjust=0, ControlGroup='/system.slice/' + unit, OOMPolicy='stop',
                     ManagedOOMPreference='none', LoadState='loaded')
        value = values.get(unit, 0)
        shown.update(value if isinstance(value, dict) else dict(OOMScoreAdjust=value))
        return 0, ''.join('%s=%s\n' % item for item in shown.items()), ''
    return run


def run(run_module, host, args, check_mode=False, unit_values=None, journal=''):
    return run_module(oom_score, args, host, run_command=systemctl(unit_values or {}, journal), check_mode=check_mode)


def test_positive_applied_to_every_process_then_idempotent(run_module, host):
    args = dict(targets=[dict(unit='batch.service', score_adj=700)])
    result, failed = run(run_module, host, args, unit_values={'batch.service': 700})
    assert not failed and result['changed'] and result['status'] == 'ok' and result['ok']
    assert host.read('proc/130/oom_score_adj') == '700\n' and host.read('proc/131/oom_score_adj') == '700\n'
    target = result['targets'][0]
    assert target['matched'] == 2 and target['unit_score_adj'] == 700
    assert target['processes'][0]['before'] == 0 and target['processes'][0]['oom_score_adj'] == 700
    assert result['diff'] == dict(before='130 sleep: 0\n131 sleep: 0\n', after='130 sleep: 700\n131 sleep: 700\n')
    result, failed = run(run_module, host, args, unit_values={'batch.service': 700})
    assert not result['changed'] and result['diff']['after'] == ''


def test_negative_without_cap_is_reported_not_claimed(run_module, host):
    result, failed = run(run_module, host, dict(unit='rsyslog.service', score_adj=-900),
                         unit_values={'rsyslog.service': -900})
    assert not failed and result['changed'] is False
    assert result['status'] == 'limited' and result['ok'] is False and result['cap_sys_resource'] is False
    assert result['unprotected'] == [dict(pid=120, comm='rsyslogd', expected=-900, oom_score_adj=0, reason=REFUSED)]
    assert host.read('proc/120/oom_score_adj') == '0\n'


def test_with_cap_sys_resource_negative_values_apply(run_module, host):
    host.write('proc/self/status', 'CapEff:\t000001ffffffffff\n')
    result, failed = run(run_module, host, dict(unit='rsyslog.service', score_adj=-900))
    assert result['status'] == 'ok' and result['changed'] and result['cap_sys_resource'] is True
    assert host.read('proc/120/oom_score_adj') == '-900\n'


def test_strict_fails_with_the_reason(run_module, host):
    result, failed = run(run_module, host, dict(unit='rsyslog.service', score_adj=-900, strict=True))
    assert failed and result['msg'] == '1 process(es) could not be set: 120 rsyslogd: ' + REFUSED


def test_check_mode_predicts_without_writing(run_module, host):
    targets = [dict(unit='batch.service', score_adj=500), dict(unit='rsyslog.service', score_adj=-900)]
    result, failed = run(run_module, host, dict(targets=targets), check_mode=True)
    assert not failed and result['changed'] is True and result['status'] == 'limited'
    assert host.read('proc/130/oom_score_adj') == '0\n'
    assert result['unprotected'][0]['reason'] == REFUSED + ' (not written: read-only run)'
    assert result['diff']['after'] == '130 sleep: 500\n131 sleep: 500\n'


def test_drift_when_a_value_does_not_stick(run_module, host, monkeypatch):
    monkeypatch.setattr(oom_score, 'write_score', lambda pid, value, root='/': None)   # kernel ignores us
    result, failed = run(run_module, host, dict(pid=130, score_adj=300))
    assert result['status'] == 'drift' and result['unprotected'][0]['reason'] == 'value did not stick'


def test_read_only_report_top_and_unmatched(run_module, host):
    host.write('proc/131/oom_score_adj', '800\n')
    host.write('proc/131/oom_score', '900\n')
    result, failed = run(run_module, host, dict(targets=[dict(name='rsyslogd'), dict(pidfile='/nonexistent/x.pid')],
                                                report_top=2))
    assert not failed and not result['changed'] and result['status'] == 'ok'
    assert result['targets'][0]['processes'][0]['expected'] is None
    assert result['unmatched'] == ['pidfile=/nonexistent/x.pid']
    assert [row['pid'] for row in result['top']] == [131, 120]
    assert result['top'][0] == dict(pid=131, comm='sleep', oom_score=900, oom_score_adj=800, cmdline='sleep 1000')


def test_a_unit_not_installed_is_left_out_only_where_the_target_says_if_installed(run_module, host):
    """The services a role protects where installed: systemd's LoadState decides, in the same call."""
    absent = dict(LoadState='not-found', ControlGroup='', OOMScoreAdjust='')
    args = dict(targets=[dict(unit='batch.service', score_adj=700, if_installed=True),
                         dict(unit='earlyoom.service', score_adj=-100, if_installed=True),
                         dict(unit='gone.service', score_adj=500)])
    result, failed = run(run_module, host, args, unit_values={'earlyoom.service': absent, 'gone.service': absent})
    assert not failed, result
    assert result['not_installed'] == ['earlyoom.service']
    assert [t['selector'] for t in result['targets']] == ['unit=batch.service', 'unit=gone.service']
    assert result['targets'][0]['matched'] == 2 and result['changed']
    # The control: without if_installed, a unit systemd does not have is reported as matching nothing.
    assert result['unmatched'] == ['unit=gone.service']


@pytest.mark.parametrize('args, message', [
    (dict(targets=[dict(pid=1, if_installed=True)]), 'targets[0].if_installed: only a unit target'),
    (dict(targets=[dict(unit='a/b.service', score_adj=1)]), "targets[0].unit: 'a/b.service' is not a service unit"),
    (dict(targets=[dict(pid=1, name='x')]), 'targets[0] needs exactly one of'),
    (dict(unit='a.service', score_adj=2000), 'targets[0].score_adj: 2000 must be an integer from -1000 to 1000'),
    (dict(pid=1, name='x'), 'parameters are mutually exclusive'),
    (dict(targets=[], pid=1), 'parameters are mutually exclusive'),
])
def test_bad_input(run_module, host, args, message):
    result, failed = run(run_module, host, args)
    assert failed and message in result['msg']


def test_unit_score_without_systemctl(run_module, host):
    result, failed = run_module(oom_score, dict(unit='batch.service'), host,
                                run_command=lambda argv, **kw: (1, '', 'Failed to connect to bus'))
    assert result['targets'][0]['unit_score_adj'] is None


KILLS = '\n'.join([
    '{"MESSAGE": "Memory cgroup out of memory: Killed process 77 (tiny) total-vm:1kB, anon-rss:1kB, file-rss:0kB, '
    'shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0", "__REALTIME_TIMESTAMP": "1796566200000000"}',
    '{"MESSAGE": "Out of memory: Killed process 4242 (batch) total-vm:900kB, anon-rss:800kB, file-rss:0kB, '
    'shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:1000", "__REALTIME_TIMESTAMP": "1796566202000000"}',
    '{"MESSAGE": "a line the search matched that is no kill: Killed process", "__REALTIME_TIMESTAMP": "1"}',
])


def test_the_kernel_s_last_oom_kill_and_each_unit_s_kills(run_module, host):
    host.write('sys/fs/cgroup/system.slice/batch.service/memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n')
    host.write('sys/fs/cgroup/system.slice/rsyslog.service/memory.events', 'oom 0\noom_kill 0\n')
    args = dict(targets=[dict(unit='rsyslog.service'), dict(unit='batch.service')])
    result, failed = run(run_module, host, args, journal=KILLS)
    assert not failed and result['oom_kills_since_boot'] == 2
    assert result['last_oom_kill'] == dict(pid=4242, comm='batch', oom_score_adj=1000, kind='system',
                                           time='2026-12-06T14:10:02Z')
    assert [t['oom_kills'] for t in result['targets']] == [0, 2]
    # Control: a host whose journal has no kernel messages (a container's), and no memory.events (cgroup v1).
    result, failed = run(run_module, host, dict(targets=[dict(unit='other.service')]))
    assert not failed and result['last_oom_kill'] is None and result['oom_kills_since_boot'] == 0
    assert result['targets'][0]['oom_kills'] is None


def test_names_the_active_killers_and_the_protected_processes_they_may_still_pick(run_module, host):
    host.write('proc/self/status', 'CapEff:\t000001ffffffffff\n')      # may lower scores
    add(host, 300, 'earlyoom', ['/usr/bin/earlyoom', '-r', '3600', '--avoid', '^(rsyslogd)$', '--prefer', '^(x)$'])
    units = {'rsyslog.service': dict(OOMScoreAdjust=-900, OOMPolicy='continue', ManagedOOMPreference='avoid')}
    args = dict(targets=[dict(unit='rsyslog.service', score_adj=-900), dict(unit='batch.service', score_adj=700)])
    result, failed = run(run_module, host, args, unit_values=units)
    assert not failed and result['status'] == 'ok' and result['active_killers'] == ['kernel', 'earlyoom']
    assert result['killers'][2] == dict(name='earlyoom', active=True, pid=300, avoid='^(rsyslogd)$', prefer='^(x)$')
    rsyslog = result['targets'][0]
    assert (rsyslog['oom_policy'], rsyslog['oomd_preference']) == ('continue', 'avoid') and result['exposed'] == []
    # Control: earlyoom without the role's --avoid: the protected log daemon is exposed, the run is drift (strict
    # fails naming it); the sacrificial batch job is not.
    add(host, 300, 'earlyoom', ['/usr/bin/earlyoom', '-r', '3600'])
    result, failed = run(run_module, host, dict(args, strict=True), unit_values=units)
    assert failed and result['status'] == 'drift' and not result['ok']
    assert [(e['killer'], e['pid'], e['comm']) for e in result['exposed']] == [('earlyoom', 120, 'rsyslogd')]
    assert result['msg'].startswith('1 exposed to an OOM killer: earlyoom (pid 300) would not avoid rsyslogd')


def test_systemd_oomd_and_the_preference_on_the_unit_s_cgroup(run_module, host):
    host.write('proc/self/status', 'CapEff:\t000001ffffffffff\n')
    add(host, 200, 'systemd-oomd', ['/lib/systemd/systemd-oomd'])
    group = host.path + '/sys/fs/cgroup/system.slice/rsyslog.service'
    host.write('sys/fs/cgroup/system.slice/rsyslog.service/memory.events', 'oom_kill 0\n')
    args = dict(targets=[dict(unit='rsyslog.service', score_adj=-900)])
    result, failed = run(run_module, host, args, unit_values={'rsyslog.service': -900})
    assert result['status'] == 'drift' and result['exposed'][0]['killer'] == 'systemd-oomd'
    assert result['targets'][0]['oomd_live'] == 'none'
    os.setxattr(group, 'user.oomd_avoid', b'1')        # what systemd sets for ManagedOOMPreference=avoid
    result, failed = run(run_module, host, args, unit_values={'rsyslog.service': -900})
    assert result['status'] == 'ok' and result['exposed'] == [] and result['targets'][0]['oomd_live'] == 'avoid'
    assert result['active_killers'] == ['kernel', 'systemd-oomd']
