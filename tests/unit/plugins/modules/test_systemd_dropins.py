# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import systemd_dropins

NAME = '50-oom.conf'


class Systemctl(object):
    def __init__(self, rc=0):
        self.calls, self.rc = [], rc

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[1:])
        return self.rc, '', 'Access denied' if self.rc else ''


def run(run_module, tmp_path, dropins, systemctl=None, **kwargs):
    args = dict(name=NAME, dropins=dropins, directory=str(tmp_path), header='managed', **kwargs)
    return run_module(systemd_dropins, args, run_command=systemctl or Systemctl())


def test_writes_settings_and_text_reloads_once_then_idempotent(run_module, tmp_path):
    systemctl = Systemctl()
    dropins = {'rsyslog.service': {'Service': {'OOMScoreAdjust': -900, 'Restart': ['on-failure'], 'X': True}},
               'haproxy.service': '[Service]\nOOMScoreAdjust=-900'}
    result, failed = run(run_module, tmp_path, dropins, systemctl)
    assert not failed and result['changed'] and result['daemon_reloaded']
    assert result['written'] == ['haproxy.service', 'rsyslog.service'] and result['removed'] == []
    assert (tmp_path / 'rsyslog.service.d' / NAME).read_text() == (
        '# managed\n[Service]\nOOMScoreAdjust=-900\nRestart=on-failure\nX=yes\n')
    assert (tmp_path / 'haproxy.service.d' / NAME).read_text() == '[Service]\nOOMScoreAdjust=-900\n'
    assert systemctl.calls == [['daemon-reload']]
    systemctl = Systemctl()
    result, failed = run(run_module, tmp_path, dropins, systemctl)
    assert not result['changed'] and systemctl.calls == [] and not result['daemon_reloaded']


def test_exclusive_removes_stale_dropins_only(run_module, tmp_path):
    (tmp_path / 'mysql.service.d').mkdir()
    (tmp_path / 'mysql.service.d' / NAME).write_text('[Service]\nOOMScoreAdjust=-500\n')
    (tmp_path / 'nginx.service.d').mkdir()
    (tmp_path / 'nginx.service.d' / 'override.conf').write_text('[Service]\nLimitNOFILE=65536\n')
    result, failed = run(run_module, tmp_path, {'rsyslog.service': {'Service': {'OOMScoreAdjust': -900}}})
    assert result['removed'] == ['mysql.service']
    assert not (tmp_path / 'mysql.service.d').exists()
    assert (tmp_path / 'nginx.service.d' / 'override.conf').exists()     # not ours: untouched
    result, failed = run(run_module, tmp_path, {}, exclusive=False)
    assert not result['changed']


def test_check_mode_and_diff(run_module, tmp_path):
    systemctl = Systemctl()
    args = dict(name=NAME, dropins={'a.service': {'Service': {'OOMScoreAdjust': 5}}}, directory=str(tmp_path),
                header='h')
    result, failed = run_module(systemd_dropins, args, run_command=systemctl, check_mode=True)
    assert result['changed'] and result['written'] == ['a.service'] and systemctl.calls == []
    assert not (tmp_path / 'a.service.d').exists()
    assert result['diff'][0]['after'] == '# h\n[Service]\nOOMScoreAdjust=5\n' and result['diff'][0]['before'] == ''


def test_daemon_reload_failure_puts_the_drop_ins_back(run_module, tmp_path):
    (tmp_path / 'b.service.d').mkdir()
    (tmp_path / 'b.service.d' / NAME).write_text('[Service]\nNice=1\n')
    result, failed = run(run_module, tmp_path, {'a.service': '[Service]\nNice=5\n', 'b.service': '[Service]\nNice=2\n'},
                         Systemctl(rc=1))
    assert failed and result['msg'] == ('systemctl daemon-reload failed: Access denied; the drop-ins were put back as '
                                        'they were')
    # What systemd has loaded (the old files) and what is on disk agree again.
    assert not (tmp_path / 'a.service.d' / NAME).exists()
    assert (tmp_path / 'b.service.d' / NAME).read_text() == '[Service]\nNice=1\n'
    assert not result['changed']


STATE = {'a.service': '[Service]\nNice=1\n', 'b.service': '[Service]\nNice=2\n', 'c.service': '[Service]\nNice=3\n'}
NEW = {'a.service': '[Service]\nNice=10\n', 'b.service': '[Service]\nNice=20\n', 'd.service': '[Service]\nNice=40\n'}


def on_disk(tmp_path):
    return {d.name[:-2]: (d / NAME).read_text() for d in sorted(tmp_path.iterdir()) if (d / NAME).exists()}


@pytest.mark.parametrize('fail_at', [1, 2, 3, 4])
def test_a_fault_at_any_step_leaves_the_old_drop_ins(run_module, tmp_path, fail_at):
    # Steps: write a, write b, write d, remove c (exclusive). Fail the n-th, by a read-only file system.
    for unit, text in STATE.items():
        (tmp_path / (unit + '.d')).mkdir()
        (tmp_path / (unit + '.d') / NAME).write_text(text)
    from ansible_collections.opsnotes.edge.plugins.module_utils import _files
    real_write, real_unlink, steps = _files.write_atomic, _files.os.unlink, []

    def step():
        steps.append(1)
        if len(steps) == fail_at:
            raise OSError(30, 'Read-only file system')

    def write(module, path, text, mode=0o644, owner=None, group=None):
        if not steps or len(steps) < 4:        # the writes and the removal count; the rollback's own writes not
            step()
        return real_write(module, path, text, mode, owner, group)

    def unlink(path):
        if path.endswith(NAME) and len(steps) < 4:
            step()
        return real_unlink(path)
    _files.write_atomic, _files.os.unlink = write, unlink
    try:
        systemctl = Systemctl()
        result, failed = run(run_module, tmp_path, NEW, systemctl)
    finally:
        _files.write_atomic, _files.os.unlink = real_write, real_unlink
    assert failed and 'Read-only file system' in result['msg'] and 'put back as it was' in result['msg']
    assert on_disk(tmp_path) == STATE and systemctl.calls == []
    # Without a fault: the new state.
    result, failed = run(run_module, tmp_path, NEW)
    assert not failed and on_disk(tmp_path) == NEW


@pytest.mark.parametrize('name, dropins, message', [
    ('x.txt', {'a.service': '[S]\n'}, "name: 'x.txt' must be a file name ending in .conf"),
    ('../x.conf', {'a.service': '[S]\n'}, "name: '../x.conf' must be a file name ending in .conf"),
    (NAME, {'../a.service': '[S]\n'}, "dropins: '../a.service' is not a unit name"),
    (NAME, {'a.service': 'no section'}, 'dropins[a.service]: text content must hold a [Section]'),
    (NAME, {'a.service': {'Service': {'Nice': '5\nExecStart=/bin/evil'}}}, "Nice: '5\\nExecStart=/bin/evil' must not contain a line end"),
    # systemd also ends a line at CR and NUL, and a trailing backslash continues a value on the next line.
    (NAME, {'a.service': {'Service': {'Nice': '5\rExecStart=/bin/evil'}}}, "Nice: '5\\rExecStart=/bin/evil' must not contain"),
    (NAME, {'a.service': {'Service': {'Nice': '5\x00ExecStart=/bin/evil'}}}, "Nice: '5\\x00ExecStart=/bin/evil' must not"),
    (NAME, {'a.service': {'Service': {'Nice': '5\\'}}}, "Nice: '5\\\\' must not end with a backslash"),
    (NAME, {'a.service': {'Service': {'Nice': ['5', {'x': 1}]}}}, 'Nice: must be a single value'),
    (NAME, {'a.service': '[Service]\nNice=5\x00'}, 'text content must not contain a NUL'),
    (NAME, {'a.service': {'Ser vice': {'Nice': 5}}}, "bad section name 'Ser vice'"),
    (NAME, {'a.service': {'Service': {'Ni=ce': 5}}}, "bad key name 'Ni=ce'"),
    (NAME, {'a.service': {'Service': 5}}, 'content must be text or {Section: {Key: value}}'),
])
def test_bad_input_refused(run_module, tmp_path, name, dropins, message):
    result, failed = run_module(systemd_dropins, dict(name=name, dropins=dropins, directory=str(tmp_path)),
                                run_command=Systemctl())
    assert failed and message in result['msg']
    assert list(tmp_path.iterdir()) == []


class Units(Systemctl):
    """systemctl show --property=LoadState for the units in ``installed``; other units are not-found."""

    def __init__(self, installed):
        super().__init__()
        self.installed = set(installed)

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[1:])
        if argv[1] == 'show':
            units = argv[argv.index('--') + 1:]
            return 0, '\n'.join('LoadState=%s\n' % ('loaded' if u in self.installed else 'not-found')
                                for u in units), ''
        return 0, '', ''


def test_if_installed_skips_missing_units_and_removes_their_old_drop_in(run_module, tmp_path):
    dropins = {'rsyslog.service': {'Service': {'OOMScoreAdjust': -900}},
               'mysql.service': {'Service': {'OOMScoreAdjust': -500}}}
    units = Units(['rsyslog.service', 'mysql.service'])
    result, failed = run(run_module, tmp_path, dropins, units, if_installed=['mysql.service'])
    assert not failed and result['written'] == ['mysql.service', 'rsyslog.service'], result
    assert result['installed'] == ['mysql.service', 'rsyslog.service'] and result['not_installed'] == []
    # mysql goes away: its drop-in goes too, in the same call.
    units = Units(['rsyslog.service'])
    result, failed = run(run_module, tmp_path, dropins, units, if_installed=['mysql.service'])
    assert not failed and result['removed'] == ['mysql.service'] and result['written'] == []
    assert result['not_installed'] == ['mysql.service'] and not (tmp_path / 'mysql.service.d').exists()
    assert units.calls == [['show', '--property=LoadState', '--', 'mysql.service', 'rsyslog.service'],
                           ['daemon-reload']]


def test_require_installed_refuses_before_writing(run_module, tmp_path):
    dropins = {'rsyslog.service': {'Service': {'OOMScoreAdjust': -900}},
               'nosuch.service': {'Service': {'OOMScoreAdjust': -900}}}
    result, failed = run(run_module, tmp_path, dropins, Units(['rsyslog.service']), require_installed=True)
    assert failed and result['msg'] == 'nosuch.service not installed on this host; nothing was changed'
    assert result['not_installed'] == result['refused'] == ['nosuch.service'] and list(tmp_path.iterdir()) == []
    # Without the requirement the same input is written for both (systemd reads drop-ins of any name).
    result, failed = run(run_module, tmp_path, dropins, Units(['rsyslog.service']))
    assert not failed and result['written'] == ['nosuch.service', 'rsyslog.service'] and result['installed'] == []


class Running(object):
    """systemctl for restart: ``active`` units are running; ``fail`` makes restarting them fail once per call list
    entry (True: every restart fails)."""

    def __init__(self, active, fail=False):
        self.calls, self.active, self.fail = [], set(active), fail

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[1:])
        if argv[1] == 'show':
            units = argv[argv.index('--') + 1:]
            return 0, '\n\n'.join('ActiveState=%s' % ('active' if u in self.active else 'inactive')
                                  for u in units) + '\n', ''
        if argv[1] == 'restart' and self.fail:
            self.fail = self.fail if self.fail is True else False
            return 1, '', 'Job failed'
        return 0, '', ''


EARLY = {'earlyoom.service': {'Service': {'ExecStart': ['', '/usr/bin/earlyoom --avoid "^(a)$$"']}}}


def test_restart_a_running_unit_whose_drop_in_changed_only(run_module, tmp_path):
    systemctl = Running(['earlyoom.service'])
    result, failed = run(run_module, tmp_path, dict(EARLY, **{'a.service': '[Service]\nNice=1\n'}), systemctl,
                         restart=['earlyoom.service', 'a.service'])
    assert not failed and result['restarted'] == ['earlyoom.service']     # a.service is not running
    assert systemctl.calls[-2:] == [['daemon-reload'], ['restart', '--', 'earlyoom.service']]
    # Unchanged: nothing restarted. Control for the first run: the restart came from the change.
    systemctl = Running(['earlyoom.service'])
    result, failed = run(run_module, tmp_path, dict(EARLY, **{'a.service': '[Service]\nNice=1\n'}), systemctl,
                         restart=['earlyoom.service'])
    assert not result['changed'] and result['restarted'] == [] and systemctl.calls == []


def test_restart_in_check_mode_is_only_predicted(run_module, tmp_path):
    systemctl = Running(['earlyoom.service'])
    args = dict(name=NAME, dropins=EARLY, directory=str(tmp_path), header='h', restart=['earlyoom.service'])
    result, failed = run_module(systemd_dropins, args, run_command=systemctl, check_mode=True)
    assert result['restarted'] == ['earlyoom.service'] and all(call[0] == 'show' for call in systemctl.calls)
    assert not (tmp_path / 'earlyoom.service.d').exists()


def test_a_unit_that_fails_to_restart_gets_its_old_drop_in_back_and_runs_again(run_module, tmp_path):
    (tmp_path / 'earlyoom.service.d').mkdir()
    (tmp_path / 'earlyoom.service.d' / NAME).write_text('[Service]\nNice=1\n')
    systemctl = Running(['earlyoom.service'], fail='once')
    result, failed = run(run_module, tmp_path, EARLY, systemctl, restart=['earlyoom.service'])
    assert failed and result['msg'] == ('systemctl restart earlyoom.service failed with the new drop-ins: Job failed; '
                                        'the drop-ins were put back as they were and the units started again')
    assert (tmp_path / 'earlyoom.service.d' / NAME).read_text() == '[Service]\nNice=1\n'
    assert systemctl.calls[-2:] == [['daemon-reload'], ['restart', '--', 'earlyoom.service']]
    assert result['restarted'] == [] and not result['changed']
    # When starting again fails too, the message says so.
    systemctl = Running(['earlyoom.service'], fail=True)
    result, failed = run(run_module, tmp_path, EARLY, systemctl, restart=['earlyoom.service'])
    assert failed and result['msg'].endswith('the drop-ins were put back as they were and starting again failed '
                                             'too: Job failed')
