# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _oom as o
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe

CG = '/docker/abc/system.slice/%s'


def add_process(root, pid, comm, cmdline, adj=0, score=None, unit=None, ppid=1):
    root.write('proc/%d/comm' % pid, comm + '\n')
    root.write('proc/%d/cmdline' % pid, '\0'.join(cmdline) + ('\0' if cmdline else ''))
    root.write('proc/%d/oom_score_adj' % pid, '%d\n' % adj)
    root.write('proc/%d/oom_score' % pid, '%d\n' % (score if score is not None else 666 + adj * 2 // 3))
    root.write('proc/%d/stat' % pid, '%d (%s) S %d 1 1 0 -1\n' % (pid, comm, ppid))
    path = CG % unit if unit else '/docker/abc/init.scope'
    root.write('proc/%d/cgroup' % pid, '9:name=systemd:%s\n8:pids:%s\n' % (path, path))


@pytest.fixture
def procs(fake_root):
    add_process(fake_root, 1, 'systemd', ['/lib/systemd/systemd'])
    add_process(fake_root, 2, 'kthreadd', [])
    add_process(fake_root, 120, 'rsyslogd', ['/usr/sbin/rsyslogd', '-n'], unit='rsyslog.service')
    add_process(fake_root, 130, 'sleep', ['sleep', 'infinity'], adj=700, unit='batch.service')
    add_process(fake_root, 131, 'sleep', ['sleep', 'infinity'], adj=700, unit='batch.service/sub')
    add_process(fake_root, 140, 'opsnotes-long-w', ['/usr/local/bin/opsnotes-long-worker', 'x'])
    add_process(fake_root, 141, 'opsnotes-long-w', ['/usr/local/bin/opsnotes-long-whatever'])
    add_process(fake_root, 150, 'python3', ['/usr/bin/python3', '/opt/batch/run.py', '--nightly'])
    fake_root.write('run/app.pid', '150\n')
    fake_root.write('proc/self/status', 'Name:\tx\nCapEff:\t00000000a82435fb\n')
    return fake_root


def test_processes_skips_kernel_threads_and_parses_stat(procs):
    infos = {p['pid']: p for p in o.processes(procs.path)}
    assert 2 not in infos
    assert infos[120]['comm'] == 'rsyslogd' and infos[120]['ppid'] == 1 and infos[130]['oom_score_adj'] == 700
    assert o.process_info(9999, procs.path) is None


@pytest.mark.parametrize('target, pids', [
    ({'pid': 120}, [120]),
    ({'unit': 'batch.service'}, [130, 131]),
    ({'unit': 'rsyslog.service'}, [120]),
    ({'unit': 'absent.service'}, []),
    ({'name': 'rsyslogd'}, [120]),
    ({'name': 'opsnotes-long-worker'}, [140]),      # comm is truncated: argv[0] decides
    ({'pattern': r'/opt/batch/.*--nightly'}, [150]),
    ({'pidfile': '{root}/run/app.pid'}, [150]),
    ({'pidfile': '{root}/run/absent.pid'}, []),
    ({}, []),
])
def test_select(procs, target, pids):
    target = {k: v.format(root=procs.path) if isinstance(v, str) else v for k, v in target.items()}
    assert [p['pid'] for p in o.select(target, o.processes(procs.path), procs.path)] == pids


def test_select_excludes_own_processes(procs):
    assert o.select({'pattern': 'sleep'}, o.processes(procs.path), procs.path, exclude={130}) == \
        [p for p in o.processes(procs.path) if p['pid'] == 131]


def test_cgroup_v2_and_pidfile_garbage(procs):
    procs.write('proc/120/cgroup', '0::/system.slice/rsyslog.service\n')
    assert o.in_unit(120, 'rsyslog.service', procs.path)
    procs.write('run/bad.pid', 'not-a-pid\n')
    assert o.read_pidfile(os.path.join(procs.path, 'run/bad.pid')) is None


def test_write_score_and_reasons(procs, monkeypatch):
    assert o.write_score(130, 500, procs.path) is None
    assert procs.read('proc/130/oom_score_adj') == '500\n'
    assert o.write_score(9999, 1, procs.path) == 'process exited'

    def refuse(fd, data):
        raise OSError(errno.EACCES, 'Permission denied')
    monkeypatch.setattr(o.os, 'write', refuse)
    assert o.write_score(130, -900, procs.path) == (
        'EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE, which this host (or container) '
        'does not grant')
    assert o.write_score(130, 100, procs.path) == 'EACCES: permission denied'

    def gone(fd, data):
        raise OSError(errno.ESRCH, 'No such process')
    monkeypatch.setattr(o.os, 'write', gone)
    assert o.write_score(130, 1, procs.path) == 'process exited'

    def other(fd, data):
        raise OSError(errno.EINVAL, 'Invalid argument')
    monkeypatch.setattr(o.os, 'write', other)
    assert o.write_score(130, 1, procs.path) == 'EINVAL: Invalid argument'


def test_has_capability(procs):
    assert o.has_capability(o.CAP_SYS_RESOURCE, procs.path) is False
    assert o.has_capability(0, procs.path) is True       # CAP_CHOWN in a82435fb
    procs.write('proc/self/status', 'CapEff:\t000001ffffffffff\n')
    assert o.has_capability(o.CAP_SYS_RESOURCE, procs.path) is True
    procs.write('proc/self/status', 'Name:\tx\n')
    assert o.has_capability(o.CAP_SYS_RESOURCE, procs.path) is False


@pytest.mark.parametrize('current, expected, refused', [
    (0, -900, True), (0, 100, False), (300, 100, False), (-500, -900, True), (-500, -300, False), (0, 0, False),
])
def test_refused_without_cap(current, expected, refused):
    assert o.refused_without_cap(current, expected) is refused


def test_selector_text():
    assert o.selector_text({'unit': 'x.service', 'score_adj': 1}) == 'unit=x.service'
    assert o.selector_text({'pid': 0}) == 'pid=0'
    assert o.selector_text({}) == '(none)'


def test_target_errors_valid():
    items = [{'unit': 'rsyslog.service', 'score_adj': -900}, {'unit': 'getty@tty1.service', 'score_adj': '5'},
             {'pattern': '^/opt/(a|b)', 'score_adj': 1000}, {'unit': 'ssh.service', 'score_adj': -1000, 'force': True},
             {'unit': 'sshd.service', 'score_adj': 0}]
    assert o.target_errors(items, 'v') == []
    assert o.target_errors([{'pid': 5}], 'v', score_required=False) == []


@pytest.mark.parametrize('item, message', [
    ({'unit': 'a.service', 'score_adj': 1001}, "v[0].score_adj: 1001 must be an integer from -1000 to 1000"),
    ({'unit': 'a.service', 'score_adj': True}, "v[0].score_adj: True must be an integer from -1000 to 1000"),
    ({'unit': 'a.service', 'score_adj': '1e3'}, "v[0].score_adj: '1e3' must be an integer from -1000 to 1000"),
    ({'unit': 'a.service'}, 'v[0].score_adj is required'),
    ({'unit': '../x.service', 'score_adj': 1}, "v[0].unit: '../x.service' is not a service unit name"),
    ({'unit': 'a b.service', 'score_adj': 1}, "v[0].unit: 'a b.service' is not a service unit name"),
    ({'unit': 'rsyslog', 'score_adj': 1}, "v[0].unit: 'rsyslog' is not a service unit name"),
    ({'pid': 1, 'name': 'x', 'score_adj': 1},
     'v[0] needs exactly one of pid, pidfile, name, pattern, unit, got pid, name'),
    ({'score_adj': 1}, 'v[0] needs exactly one of pid, pidfile, name, pattern, unit, got none'),
    ({'pid': 'x', 'score_adj': 1}, "v[0].pid: 'x' is not a process id"),
    ({'pid': 0, 'score_adj': 1}, "v[0].pid: 0 is not a process id"),
    ({'pidfile': 'run/x.pid', 'score_adj': 1}, "v[0].pidfile: 'run/x.pid' must be an absolute path"),
    ({'name': 'usr/bin/x', 'score_adj': 1}, "v[0].name: 'usr/bin/x' is not a process name"),
    ({'pattern': '(', 'score_adj': 1}, "v[0].pattern: '(' is not a valid regular expression"),
    ({'unit': 'a.service', 'score_adj': 1, 'colour': 'red'}, 'v[0]: unknown key(s) colour'),
    ({'unit': 'ssh.service', 'score_adj': -1000}, 'v[0]: score_adj -1000 on ssh.service is refused: every login'),
    ({'unit': 'sshd.service', 'score_adj': -1}, 'v[0]: score_adj -1 on sshd.service is refused'),
    ('rsyslog.service', "v[0] must be a dict, got 'rsyslog.service'"),
])
def test_target_errors(item, message):
    errors = o.target_errors([item], 'v')
    assert any(e.startswith(message) for e in errors), errors


def test_target_errors_restrictions_and_duplicates():
    assert o.target_errors([{'name': 'x', 'score_adj': 1}], 'v', allowed=('unit',)) == [
        'v[0] needs exactly one of unit, got name']
    assert o.target_errors([{'unit': 'a.service', 'score_adj': -5}], 'v', positive_only=True) == [
        'v[0].score_adj: -5 must be above 0 for a sacrificial target']
    assert o.target_errors([{'unit': 'a.service', 'score_adj': 1}, {'unit': 'a.service', 'score_adj': 2}], 'v') == [
        'v[1]: unit=a.service is already listed as v[0]']
    assert o.target_errors('x', 'v') == ["v must be a list, got 'x'"]


def test_list_pids_without_proc(tmp_path):
    assert o.list_pids(str(tmp_path)) == []


@pytest.mark.parametrize('expected, cap, reason, limited', [
    (-900, False, 'EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE', True),
    (-900, False, 'EPERM: x', True),
    (-900, True, 'EACCES: x', False),            # refused although the capability is held: not a limit
    (500, False, 'EACCES: x', False),            # a positive value is never refused for the capability
    (-900, False, 'value did not stick', False),
    (-900, False, None, False),
    (None, False, 'EACCES: x', False),           # nothing expected: only read
])
def test_limited_by_capability(expected, cap, reason, limited):
    assert o.limited_by_capability(expected, cap, reason) is limited


def test_parse_kill_reads_both_kinds_of_kernel_line():
    line = ('Out of memory: Killed process 4242 (python3) total-vm:341576kB, anon-rss:330000kB, file-rss:4kB, '
            'shmem-rss:0kB, UID:0 pgtables:700kB oom_score_adj:1000')
    assert o.parse_kill(line) == dict(pid=4242, comm='python3', oom_score_adj=1000, kind='system')
    cgroup = 'Memory cgroup out of memory: Killed process 7 (a (b) c) total-vm:1kB, UID:0 pgtables:1kB oom_score_adj:-5'
    assert o.parse_kill(cgroup) == dict(pid=7, comm='a (b) c', oom_score_adj=-5, kind='cgroup')
    # Control: other kernel lines, and the OOM report before the kill, are no kill.
    assert o.parse_kill('oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=python3,pid=4242,uid=0') is None
    assert o.parse_kill(None) is None


def test_cgroup_oom_kills_reads_memory_events(fake_root):
    fake_root.write('sys/fs/cgroup/system.slice/x.service/memory.events', 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 3\n')
    assert o.cgroup_oom_kills('/system.slice/x.service', fake_root.path) == 3
    # Control: no such cgroup (cgroup v1 has no memory.events there), or no ControlGroup at all.
    assert o.cgroup_oom_kills('/system.slice/y.service', fake_root.path) is None
    assert o.cgroup_oom_kills('', fake_root.path) is None and o.cgroup_oom_kills(None, fake_root.path) is None


HOSTILE_NAMES = ['rsyslogd', 'a.b', 'x|y', '(g)', 'p$q', '^r', 'back\\slash', 'sp ace', 'br[ck]', 'a+b*c?',
                 'systemd-journald', 'q"uote', "s'q", '%n']


def test_earlyoom_regex_matches_exactly_the_names_cut_as_the_kernel_cuts_them():
    regex = o.earlyoom_regex(HOSTILE_NAMES + ['rsyslogd'])
    for name in HOSTILE_NAMES:
        comm = name[:15]
        assert o.regex_matches(regex, comm), (regex, comm)
        # Control: a neighbour of each name (one character more, or another first one) does not match.
        assert not o.regex_matches(regex, comm + 'x') and not o.regex_matches(regex, 'Z' + comm[1:])
    assert o.regex_matches(regex, 'systemd-journal') and not o.regex_matches(regex, 'systemd-journald')
    assert o.earlyoom_regex([]) is None


def test_earlyoom_exec_keeps_the_packaged_options_and_escapes_for_systemd():
    line = o.earlyoom_exec('/usr/bin/earlyoom', ['p$q', '%n'], ['batch'])
    assert line == ('"/usr/bin/earlyoom" $EARLYOOM_ARGS --avoid "^(%%n|p\\\\$$q)$$" --prefer "^(batch)$$"')
    assert o.earlyoom_exec('/usr/bin/earlyoom', [], []) == '"/usr/bin/earlyoom" $EARLYOOM_ARGS'
    with pytest.raises(Unsafe):
        o.earlyoom_exec('earlyoom', ['a'], [])      # not an absolute path


@pytest.mark.parametrize('argv, avoid, prefer', [
    (['/usr/bin/earlyoom', '-r', '3600'], None, None),
    (['/usr/bin/earlyoom', '--avoid', 'a', '--prefer', 'b', '--avoid', '^(c)$'], '^(c)$', 'b'),
    (['/usr/bin/earlyoom', '--avoid=x', '--prefer=^(y)$'], 'x', '^(y)$'),
    (['/usr/bin/earlyoom', '--avoid'], None, None),
])
def test_earlyoom_options_last_one_wins(argv, avoid, prefer):
    assert o.earlyoom_options(argv) == dict(avoid=avoid, prefer=prefer)


def test_regex_matches_says_when_it_cannot_read_the_expression():
    assert o.regex_matches('(', 'x') is None and o.regex_matches(None, 'x') is False


@pytest.mark.parametrize('item, message', [
    (dict(unit='a.service', score_adj=-1, oom_policy='restart'),
     't[0].oom_policy: \'restart\' must be one of continue, stop, kill'),
    (dict(unit='a.service', score_adj=-1, oomd_preference='never'),
     't[0].oomd_preference: \'never\' must be one of none, avoid, omit'),
    (dict(unit='a.service', score_adj=-1, earlyoom_names='a'), 't[0].earlyoom_names must be a list of process names'),
    (dict(unit='a.service', score_adj=-1, earlyoom_names=['ok', 'a/b', '', 'x\ny']), 't[0].earlyoom_names[1]: '),
    (dict(name='a', score_adj=-1, oom_policy='continue'), 't[0]: oom_policy apply to a unit only'),
])
def test_unit_options_are_checked_and_named(item, message):
    errors = o.target_errors([item], 't')
    assert errors and errors[0].startswith(message), errors
    if 'earlyoom_names[1]' in message:
        assert [e.split(':')[0] for e in errors] == ['t[0].earlyoom_names[%d]' % i for i in (1, 2, 3)]


def test_unit_options_valid():
    assert o.target_errors([dict(unit='keepalived.service', score_adj=-900, oom_policy='continue',
                                 oomd_preference='omit', earlyoom_names=['keepalived'])], 't') == []


def test_cgroup_oomd_preference_reads_what_systemd_sets(fake_root):
    group = os.path.join(fake_root.path, 'sys/fs/cgroup/system.slice/a.service')
    os.makedirs(group)
    assert o.cgroup_oomd_preference('/system.slice/a.service', fake_root.path) == ('none', os.getuid())
    os.setxattr(group, 'user.oomd_avoid', b'1')
    assert o.cgroup_oomd_preference('/system.slice/a.service', fake_root.path)[0] == 'avoid'
    os.setxattr(group, 'user.oomd_omit', b'1')       # both: omit wins, as systemd-oomd reads them
    assert o.cgroup_oomd_preference('/system.slice/a.service', fake_root.path)[0] == 'omit'
    assert o.cgroup_oomd_preference('/system.slice/gone.service', fake_root.path) == (None, None)
    assert o.cgroup_oomd_preference(None, fake_root.path) == (None, None)


def proc_row(pid, comm):
    return dict(pid=pid, comm=comm, cmdline=[comm])


def test_find_killers_by_their_process():
    procs = [proc_row(1, 'systemd'), proc_row(300, 'earlyoom'), proc_row(200, 'systemd-oomd')]
    procs[1]['cmdline'] = ['/usr/bin/earlyoom', '-r', '3600', '--avoid', '^(rsyslogd)$']
    killers = o.find_killers(procs)
    assert [(k['name'], k['active'], k['pid']) for k in killers] == [
        ('kernel', True, None), ('systemd-oomd', True, 200), ('earlyoom', True, 300)]
    assert killers[2]['avoid'] == '^(rsyslogd)$' and killers[2]['prefer'] is None
    assert [k['active'] for k in o.find_killers([proc_row(1, 'systemd')])] == [True, False, False]


def protected(selector='unit=rsyslog.service', comm='rsyslogd', expected=-900, live='avoid', owner=0):
    return dict(selector=selector, expected=expected, processes=[dict(pid=120, comm=comm)], oomd_live=live,
                cgroup_owner=owner, oomd_preference=live)


def test_exposures_to_earlyoom_and_systemd_oomd():
    early = dict(name='earlyoom', active=True, pid=300, avoid='^(rsyslogd)$', prefer=None)
    oomd = dict(name='systemd-oomd', active=True, pid=200)
    kernel = dict(name='kernel', active=True, pid=None)
    assert o.exposures([kernel, early, oomd], [protected()]) == []
    # earlyoom does not match the name; runs without --avoid; a sacrificial target is never exposed.
    found = o.exposures([kernel, early], [protected(comm='myapp'), protected(expected=500, comm='batch')])
    assert [(e['killer'], e['comm']) for e in found] == [('earlyoom', 'myapp')]
    assert "its --avoid '^(rsyslogd)$' does not match the name" in found[0]['reason']
    assert 'earlyoom_names' in found[0]['reason']
    found = o.exposures([kernel, dict(early, avoid=None)], [protected()])
    assert 'it runs without --avoid' in found[0]['reason']
    # systemd-oomd: no preference on the cgroup, or one it ignores (not root's).
    found = o.exposures([kernel, oomd], [protected(live='none'), protected(selector='unit=b.service', owner=1000)])
    assert [e['selector'] for e in found] == ['unit=rsyslog.service', 'unit=b.service']
    assert 'no avoid or omit preference' in found[0]['reason'] and 'owned by uid 1000' in found[1]['reason']
    # Control: the same targets with no user-space killer running are exposed to nothing.
    assert o.exposures([kernel, dict(early, active=False), dict(oomd, active=False)],
                       [protected(comm='myapp', live='none')]) == []
