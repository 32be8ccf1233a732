# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _install
from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed


class Failed(Exception):
    pass


class Module(object):
    check_mode = False

    def __init__(self, rc=0, out='', err=''):
        self.answer, self.calls = (rc, out, err), []

    def run_command(self, argv):
        self.calls.append(argv)
        return self.answer

    def fail_json(self, msg, **result):
        raise Failed(msg, result)


def test_install_swaps_in_and_reloads(tmp_path):
    path = tmp_path / 'svc.conf'
    path.write_text('old\n')
    module, result = Module(), dict(changed=True, reloaded=False)
    live = _install.LiveFile(module, str(path), 'old\n', 0o600)
    live.install(result, 'new\n', live_check=lambda: (path.read_text() == 'new\n', ''),
                 reload=('svc reload', lambda: _install.run_reload(module, ['svc', 'reload'])))
    assert path.read_text() == 'new\n' and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert result == dict(changed=True, reloaded=True) and module.calls == [['svc', 'reload']]


@pytest.mark.parametrize('old', ['old\n', None])
def test_a_refused_reload_puts_the_previous_file_back(tmp_path, old):
    path = tmp_path / 'svc.conf'
    if old is not None:
        path.write_text(old)
    module, result = Module(rc=1, err='Job failed\n'), dict(changed=True, reloaded=False)
    with pytest.raises(Failed) as caught:
        _install.LiveFile(module, str(path), old).install(
            result, 'new\n', reload=('svc reload', lambda: _install.run_reload(module, ['svc', 'reload'])),
            hint='. See the journal')
    msg, failed_result = caught.value.args
    done = _install.RESTORED if old else _install.REMOVED
    assert msg == 'svc reload failed (Job failed); %s. See the journal' % done
    assert failed_result == dict(changed=False, reloaded=False)
    assert (path.read_text() == old) if old else not path.exists()


def test_a_live_check_refusal_restores_before_any_reload(tmp_path):
    path = tmp_path / 'svc.conf'
    path.write_text('old\n')
    module, reloads = Module(), []
    with pytest.raises(Failed) as caught:
        _install.LiveFile(module, str(path), 'old\n').install(
            dict(changed=True), 'new\n', live_check=lambda: (False, 'unknown directive'),
            reload=('svc reload', lambda: reloads.append(1) or (0, '')))
    assert caught.value.args[0] == ('the live configuration fails the check after the swap (unknown directive); '
                                    'the previous file was restored')
    assert path.read_text() == 'old\n' and reloads == []


def test_a_file_with_a_group_is_roots_with_that_group(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(_install, 'write_atomic', lambda *args: written.append(args[1:]))
    _install.LiveFile(Module(), '/x.cfg', 'old', 0o640, 'haproxy').install(dict(), 'new')
    _install.LiveFile(Module(), '/y.cfg', 'old').install(dict(), 'new')
    assert written == [('/x.cfg', 'new', 0o640, 0, 'haproxy'), ('/y.cfg', 'new', 0o644, None, None)]


class Systemd(Module):
    def get_bin_path(self, name, required=False):
        assert name == 'systemctl' and required
        return '/usr/bin/systemctl'


@pytest.mark.parametrize('rc, active', [(0, True), (3, False)])
def test_unit_active_asks_systemctl_is_active(rc, active):
    module = Systemd(rc=rc)
    assert _install.unit_active(module, 'haproxy.service') is active
    assert module.calls == [['/usr/bin/systemctl', 'is-active', '--quiet', 'haproxy.service']]


def test_systemd_reload_is_named_and_runs_only_when_called():
    module = Systemd(rc=1, out='', err='Job for x.service failed.\n')
    name, action = _install.systemd_reload(module, 'x.service')
    assert name == 'systemctl reload x.service' and module.calls == []
    assert action() == (1, 'Job for x.service failed.')
    assert module.calls == [['/usr/bin/systemctl', 'reload', 'x.service']]


class Systemctl(object):
    def __init__(self, enabled=(), fail=()):
        self.enabled, self.fail, self.calls = set(enabled), set(fail), []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[1:])
        if argv[1] in self.fail:
            return 1, '', 'no'
        if argv[1] == 'is-enabled':
            return (0, 'enabled\n', '') if argv[2] in self.enabled else (1, 'disabled\n', '')
        return 0, '', ''


def _unit_module(run_command, check_mode=False):
    return SimpleNamespace(run_command=run_command, check_mode=check_mode,
                           get_bin_path=lambda name, required=False: '/bin/' + name)


def test_unit_file_writes_reloads_enables_and_then_does_nothing(tmp_path):
    path = str(tmp_path / 'x.service')
    systemctl = Systemctl()
    changed, diff = _install.unit_file(_unit_module(systemctl), path, '[Unit]\n')
    assert changed and open(path).read() == '[Unit]\n' and diff['before'] == ''
    assert systemctl.calls == [['daemon-reload'], ['enable', 'x.service']]   # no file: not enabled either
    systemctl = Systemctl(enabled=['x.service'])
    assert _install.unit_file(_unit_module(systemctl), path, '[Unit]\n')[0] is False
    assert systemctl.calls == [['is-enabled', 'x.service']]


def test_unit_file_check_mode_and_failure_restores_the_previous_file(tmp_path):
    path = tmp_path / 'x.service'
    path.write_text('old\n')
    changed, diff = _install.unit_file(_unit_module(Systemctl(), check_mode=True), str(path), 'new\n')
    assert changed and path.read_text() == 'old\n' and diff['after'] == 'new\n'
    systemctl = Systemctl(enabled=['x.service'], fail=['daemon-reload'])
    with pytest.raises(StepFailed, match='daemon-reload failed: no; ' + _install.RESTORED):
        _install.unit_file(_unit_module(systemctl), str(path), 'new\n')
    assert path.read_text() == 'old\n'


def test_missing_packages_reads_dpkg_status_and_arch_qualified_names():
    calls = []

    def dpkg(argv, **kwargs):
        calls.append(argv[1:])
        # dpkg-query prints 'un' for a known package that is not installed, and nothing (rc 1) for an unknown one.
        return 1, 'haproxy:amd64 ii 2.6.12-1+deb12u2\nopenssl un \n', 'dpkg-query: no packages found matching acme-tiny\n'
    module = _unit_module(dpkg)
    assert _install.missing_packages(module, ['haproxy', 'openssl', 'acme-tiny']) == ['openssl', 'acme-tiny']
    assert calls[0][:2] == ['-W', '-f=${Package} ${db:Status-Abbrev} ${Version}\\n']
    assert _install.missing_packages(module, []) == [] and len(calls) == 1
    assert _install.package_versions(module, ['haproxy', 'openssl']) == {'haproxy': '2.6.12-1+deb12u2'}


def test_install_packages_gives_the_versions_installed_before_and_after():
    class Apt(object):
        def __init__(self):
            self.installed, self.calls = {'nginx': '1.22.1-9+deb12u1'}, []

        def __call__(self, argv, **kwargs):
            tool, args = os.path.basename(argv[0]), argv[1:]
            self.calls.append(tool)
            if tool == 'dpkg-query':
                return 0, ''.join('%s ii %s\n' % (n, self.installed[n]) for n in args[2:] if n in self.installed), ''
            if args[0] == 'install':
                self.installed.update({n: '1.0' for n in args if not n.startswith('-') and n != 'install'})
            return 0, '', ''
    apt = Apt()
    versions = {}
    assert _install.install_packages(_unit_module(apt), ['nginx', 'openssl'], versions) == ['openssl']
    assert versions == {'nginx': '1.22.1-9+deb12u1', 'openssl': '1.0'}
    assert apt.calls == ['dpkg-query', 'apt-get', 'apt-get', 'dpkg-query']
    apt.calls, versions = [], {}
    assert _install.install_packages(_unit_module(apt), ['nginx', 'openssl'], versions) == []
    assert versions == {'nginx': '1.22.1-9+deb12u1', 'openssl': '1.0'} and apt.calls == ['dpkg-query']


def test_keep_running_in_check_mode_only_reports():
    systemctl = Systemctl(fail=['is-active'])
    module = _unit_module(systemctl, check_mode=True)
    assert _install.keep_running(module, 'x.service') == ['enable', 'start']
    assert [c[0] for c in systemctl.calls] == ['is-enabled', 'is-active']


def test_unit_file_that_cannot_be_written_is_a_step_failure(tmp_path, monkeypatch):
    def read_only(module, path, text, mode=0o644, owner=None, group=None):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(_install, 'write_atomic', read_only)
    systemctl = Systemctl()
    with pytest.raises(StepFailed, match='cannot write .*Read-only file system.*; the unit was not changed'):
        _install.unit_file(_unit_module(systemctl), str(tmp_path / 'x.service'), '[Unit]\n')
    assert systemctl.calls == []


def test_unit_properties_reads_every_unit_in_one_call_in_order():
    module = Systemd(out='Id=a.timer\nActiveState=active\n\nId=a.service\nResult=exit-code\nX=a=b\n')
    assert _install.unit_properties(module, ['a.timer', 'a.service'], ['Id', 'ActiveState'], ['--timestamp=utc']) \
        == [dict(Id='a.timer', ActiveState='active'), dict(Id='a.service', Result='exit-code', X='a=b')]
    assert module.calls == [['/usr/bin/systemctl', 'show', '--property=Id,ActiveState', '--timestamp=utc', '--',
                             'a.timer', 'a.service']]
    with pytest.raises(StepFailed, match='answered 1 units for 2 asked'):
        _install.unit_properties(Systemd(out='LoadState=loaded\n'), ['a', 'b'], ['LoadState'])
    with pytest.raises(StepFailed, match='systemctl show failed: Access denied'):
        _install.unit_properties(Systemd(rc=1, err='Access denied'), ['a'], ['LoadState'])


def test_finish_running_records_what_keep_running_did():
    systemctl = Systemctl()
    result = _install.finish_running(_unit_module(systemctl), 'x.service', True, dict(changed=False))
    # The fake's unit is active and not enabled.
    assert result == dict(changed=True, service_actions=['enable'])
    assert systemctl.calls == [['is-enabled', '--quiet', 'x.service'], ['is-active', '--quiet', 'x.service'],
                               ['enable', 'x.service']]
    idle = Systemctl()
    assert _install.finish_running(_unit_module(idle), 'x.service', False, dict(changed=False)) == \
        dict(changed=False, service_actions=[])
    assert idle.calls == []


def test_finish_running_fails_the_module_naming_the_step():
    module = _unit_module(Systemctl(fail=['enable']))
    module.fail_json = Module().fail_json
    with pytest.raises(Failed) as failed:
        _install.finish_running(module, 'x.service', True, dict(changed=False))
    assert failed.value.args[0] == 'systemctl enable x.service failed: no'
