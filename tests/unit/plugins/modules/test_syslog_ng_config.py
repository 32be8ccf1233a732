# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import syslog_ng_config

CONFIG = dict(file_sources=[dict(name='s_app', path='/var/log/app.log', program_override='app')],
              file_destinations=[dict(name='d_all', path='/var/log/all.log')],
              log_paths=[dict(sources=['s_app'], destinations=['d_all'])])


class FakeSyslogNg(object):
    """syslog-ng and syslog-ng-ctl: the syntax check reads the staged tree, reload can be made to fail."""

    def __init__(self, running=True, reload_ok=True, old=False):
        self.running, self.reload_ok, self.calls, self.staged = running, reload_ok, [], None
        self.old = old

    def __call__(self, argv, **kwargs):
        self.calls.append([os.path.basename(argv[0])] + argv[1:])
        if argv[1] == '--syntax-only':
            main = argv[2].split('=', 1)[1]
            staged_dir = os.path.join(os.path.dirname(main), 'conf.d')
            assert staged_dir + '/' in open(main).read()         # the staged main includes the staged fragments
            self.staged = {n: open(os.path.join(staged_dir, n)).read() for n in os.listdir(staged_dir)}
            if self.old and any('time-reopen(' in text for text in self.staged.values()):
                # What syslog-ng 3.28 (Debian 11) says, measured; 3.38 accepts the option.
                return 1, '', ('Error parsing afsocket, syntax error, unexpected KW_TIME_REOPEN in '
                               '%s/50-opsnotes.conf:3:93-3:104:' % staged_dir)
            if any('f_broken' in text for text in self.staged.values()):
                # Where syslog-ng points: the line of the broken filter, as "FILE:LINE:COLUMN-LINE:COLUMN".
                number = [n for n, line in enumerate(self.staged['50-opsnotes.conf'].splitlines(), 1)
                          if line.startswith('filter f_broken')][0]
                return 1, '', ('Error parsing config, syntax error in %s/50-opsnotes.conf:%d:1-%d:9:\n'
                               'syslog-ng: Error setting capabilities, capability management disabled'
                               % (staged_dir, number, number))
            return 0, '', ''
        if argv[1] == 'stats':
            return (0, 'stats', '') if self.running else (1, '', 'Error connecting')
        if argv[1] == 'reload':
            return (0, 'OK', '') if self.reload_ok else (1, 'Config reload failed, reverted to previous config', '')
        raise AssertionError(argv)


@pytest.fixture
def etc(tmp_path):
    confd = tmp_path / 'conf.d'
    confd.mkdir()
    (confd / '10-other.conf').write_text('# someone else\n')
    main = tmp_path / 'syslog-ng.conf'
    main.write_text('@version: 3.38\n@include "%s/*.conf"\n' % confd)
    return tmp_path


def args(etc, config=None, **extra):
    return dict(config=config or CONFIG, path=str(etc / 'conf.d' / '50-opsnotes.conf'),
                main_config=str(etc / 'syslog-ng.conf'), header='managed', **extra)


def test_stages_validates_swaps_reloads_then_idempotent(run_module, etc):
    fake = FakeSyslogNg()
    result, failed = run_module(syslog_ng_config, args(etc), run_command=fake)
    assert not failed and result['changed'] and result['validated'] and result['reloaded']
    assert set(fake.staged) == {'10-other.conf', '50-opsnotes.conf'}      # the whole config was checked
    assert fake.staged['50-opsnotes.conf'] == result['content']
    assert (etc / 'conf.d' / '50-opsnotes.conf').read_text() == result['content']
    assert result['content'].startswith('# managed\nsource s_app { file("/var/log/app.log"')
    assert [c[1] for c in fake.calls] == ['--syntax-only', 'stats', 'reload']
    fake = FakeSyslogNg()
    result, failed = run_module(syslog_ng_config, args(etc), run_command=fake)
    assert not result['changed'] and fake.calls == []


def test_syntax_failure_changes_nothing_and_names_live_paths(run_module, etc):
    config = dict(CONFIG, filters=[dict(name='f_broken', expression='level(loud) and')])
    config['log_paths'] = [dict(sources=['s_app'], filters=['f_broken'], destinations=['d_all'])]
    result, failed = run_module(syslog_ng_config, args(etc, config), run_command=FakeSyslogNg())
    assert failed and 'fails syslog-ng --syntax-only; nothing was changed' in result['msg']
    # The live path, not the staging one, and the variable the line comes from.
    assert str(etc / 'conf.d' / '50-opsnotes.conf:2:1-2:9 (syslog_ng_filters[0])') in result['msg'], result['msg']
    assert 'Error setting capabilities' not in result['msg']
    assert not (etc / 'conf.d' / '50-opsnotes.conf').exists()
    assert not result['changed'] and 'does not know' not in result['msg']


def test_an_option_an_older_syslog_ng_lacks_is_named_with_its_variable(run_module, etc):
    config = dict(CONFIG, network_destinations=[
        dict(name='d_a', host='collector.example.org', port=6514, transport='tcp'),
        dict(name='d_b', host='collector2.example.org', port=6514, transport='tcp', time_reopen=5)])
    config['log_paths'] = [dict(sources=['s_app'], destinations=['d_a', 'd_b'])]
    result, failed = run_module(syslog_ng_config, args(etc, config), run_command=FakeSyslogNg(old=True))
    assert failed and not result['changed'] and not result['validated']
    assert 'unexpected KW_TIME_REOPEN' in result['msg']
    assert ('does not know the per-destination time_reopen option: remove time_reopen from network_destinations[1] '
            '(role variable syslog_ng_network_destinations)') in result['msg']
    assert not (etc / 'conf.d' / '50-opsnotes.conf').exists()
    # The same configuration on a release that knows the option goes live.
    result, failed = run_module(syslog_ng_config, args(etc, config), run_command=FakeSyslogNg())
    assert not failed and result['changed'] and 'time-reopen(5)' in result['content']


def test_reload_refused_restores_the_previous_fragment(run_module, etc):
    run_module(syslog_ng_config, args(etc), run_command=FakeSyslogNg())
    before = (etc / 'conf.d' / '50-opsnotes.conf').read_text()
    changed = dict(CONFIG, file_sources=[dict(name='s_app', path='/var/log/app2.log', program_override='app')])
    result, failed = run_module(syslog_ng_config, args(etc, changed), run_command=FakeSyslogNg(reload_ok=False))
    assert failed and 'refused the new configuration at reload' in result['msg']
    assert 'Config reload failed, reverted to previous config' in result['msg']
    assert (etc / 'conf.d' / '50-opsnotes.conf').read_text() == before


def test_reload_refused_on_first_install_removes_the_new_fragment(run_module, etc):
    result, failed = run_module(syslog_ng_config, args(etc), run_command=FakeSyslogNg(reload_ok=False))
    assert failed and not (etc / 'conf.d' / '50-opsnotes.conf').exists()


def test_not_running_writes_without_reload(run_module, etc):
    fake = FakeSyslogNg(running=False)
    result, failed = run_module(syslog_ng_config, args(etc), run_command=fake)
    assert not failed and result['changed'] and not result['reloaded']
    assert ['syslog-ng-ctl', 'reload'] not in fake.calls


def test_check_mode_validates_but_writes_nothing(run_module, etc):
    fake = FakeSyslogNg()
    result, failed = run_module(syslog_ng_config, args(etc), run_command=fake, check_mode=True)
    assert not failed and result['changed'] and result['validated']
    assert not (etc / 'conf.d' / '50-opsnotes.conf').exists()
    assert result['diff']['before'] == '' and 'program-override("app")' in result['diff']['after']


def test_lint_errors_fail_before_anything(run_module, etc):
    fake = FakeSyslogNg()
    bad = dict(CONFIG, file_sources=[dict(name='s_app', path='/var/log/app.log', program_override='a b')])
    result, failed = run_module(syslog_ng_config, args(etc, bad), run_command=fake)
    assert failed and "program_override: 'a b' must be one word" in result['msg']
    assert fake.calls == []


def test_main_config_missing_or_not_including_the_fragment(run_module, etc):
    (etc / 'syslog-ng.conf').write_text('@version: 3.38\n')
    result, failed = run_module(syslog_ng_config, args(etc), run_command=FakeSyslogNg())
    assert failed and 'does not include' in result['msg']
    result, failed = run_module(syslog_ng_config, dict(args(etc), main_config=str(etc / 'nope.conf')),
                                run_command=FakeSyslogNg())
    assert failed and 'nope.conf does not exist: is the service installed?' in result['msg']


def test_keep_running_starts_the_unit_after_the_file_and_a_failure_is_named(run_module, etc):
    class Unit(FakeSyslogNg):
        def __init__(self, start_ok=True):
            super().__init__(running=False)
            self.start_ok = start_ok

        def __call__(self, argv, **kwargs):
            if os.path.basename(argv[0]) == 'dpkg-query':
                self.calls.append(['dpkg-query'])
                return 0, 'syslog-ng-core ii \n', ''
            if os.path.basename(argv[0]) == 'systemctl':
                self.calls.append(['systemctl'] + argv[1:])
                if argv[1] == 'start' and not self.start_ok:
                    return 1, '', 'Job for syslog-ng.service failed'
                return (3 if argv[1] in ('is-enabled', 'is-active') else 0), '', ''
            return super().__call__(argv, **kwargs)

    fake = Unit()
    extra = dict(packages=['syslog-ng-core'], keep_running=True)
    result, failed = run_module(syslog_ng_config, args(etc, **extra), run_command=fake)
    assert not failed and result['packages_installed'] == [] and result['service_actions'] == ['enable', 'start']
    assert [c[:2] for c in fake.calls][-3:] == [['systemctl', 'is-active'], ['systemctl', 'enable'],
                                                ['systemctl', 'start']]
    verbs = [c[1] for c in fake.calls if len(c) > 1]
    assert 'reload' not in verbs and verbs.index('--syntax-only') < verbs.index('start')   # not running: started
    (etc / 'conf.d' / '50-opsnotes.conf').unlink()
    result, failed = run_module(syslog_ng_config, args(etc, **extra), run_command=Unit(start_ok=False))
    assert failed and result['msg'] == 'systemctl start syslog-ng.service failed: Job for syslog-ng.service failed'
    assert result['changed'] is True      # the new file is in place and valid; only the start failed
