# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat

from ansible_collections.opsnotes.edge.plugins.modules import keepalived_config

CONFIG = dict(vrrp_instances=[dict(name='VI_WEB', interface='eth0', virtual_router_id=51, priority=150,
                                   auth_pass='s3cret', virtual_ipaddresses=['192.0.2.100/24'])])


class FakeKeepalived(object):
    """keepalived --config-test (refuses a file naming eth9) and systemctl (is-active, reload)."""

    def __init__(self, active=True, reload_ok=True):
        self.active, self.reload_ok, self.calls, self.tested = active, reload_ok, [], []

    def __call__(self, argv, **kwargs):
        self.calls.append([os.path.basename(argv[0])] + argv[1:])
        if argv[1] == '--config-test':
            path = argv[3]
            text = open(path).read()
            self.tested.append((path, text, stat.S_IMODE(os.stat(path).st_mode)))
            if 'eth9' in text:
                return 5, '', '(%s: Line 6) WARNING - interface eth9 for vrrp_instance VI_WEB doesn\'t exist' % path
            return 0, '', ''
        if argv[1] == 'is-active':
            return (0 if self.active else 3), '', ''
        if argv[1] == 'reload':
            return (0, '', '') if self.reload_ok else (1, '', 'Job for keepalived.service failed')
        raise AssertionError(argv)


def args(tmp_path, config=None, **extra):
    return dict(config=config or CONFIG, path=str(tmp_path / 'keepalived.conf'), header='managed', **extra)


def test_validates_a_staged_copy_swaps_reloads_then_idempotent(run_module, tmp_path):
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=fake)
    assert not failed and result['changed'] and result['validated'] and result['reloaded']
    live = tmp_path / 'keepalived.conf'
    # The check read a staged copy (0600, in a private directory outside the configuration tree), never the live
    # file, and it is gone with its directory.
    path, text, mode = fake.tested[0]
    assert path != str(live) and not path.startswith(str(tmp_path)) and mode == 0o600 and not os.path.exists(path)
    assert os.path.basename(os.path.dirname(path)).startswith('opsnotes-keepalived-')
    assert not os.path.exists(os.path.dirname(path))
    assert text == live.read_text() and 'auth_pass s3cret' in text
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
    assert ['systemctl', 'reload', 'keepalived.service'] in fake.calls
    # The password never shows in the result.
    assert 'auth_pass <redacted>' in result['content'] and 's3cret' not in str(result)
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=fake)
    assert not failed and not result['changed'] and fake.calls == []


def test_a_file_keepalived_refuses_never_goes_live(run_module, tmp_path):
    live = tmp_path / 'keepalived.conf'
    live.write_text('# old\n')
    config = dict(CONFIG, vrrp_instances=[dict(CONFIG['vrrp_instances'][0], interface='eth9')])
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path, config), run_command=fake)
    assert failed and 'fails keepalived --config-test; nothing was changed' in result['msg']
    assert 'interface eth9' in result['msg'] and str(live) in result['msg'] and 'opsnotes-keepalived-' not in result['msg']
    assert live.read_text() == '# old\n' and os.listdir(tmp_path) == ['keepalived.conf']
    assert not [c for c in fake.calls if c[0] == 'systemctl']


def test_check_mode_validates_and_changes_nothing(run_module, tmp_path):
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=fake, check_mode=True)
    assert not failed and result['changed'] and result['validated'] and not result['reloaded']
    assert os.listdir(tmp_path) == [] and result['diff']['after'].count('<redacted>') == 1
    # Not even the configuration's directory is made in check mode; a real run makes it.
    nested = dict(args(tmp_path), path=str(tmp_path / 'etc' / 'keepalived' / 'keepalived.conf'))
    result, failed = run_module(keepalived_config, nested, run_command=FakeKeepalived(), check_mode=True)
    assert not failed and result['validated'] and os.listdir(tmp_path) == []
    result, failed = run_module(keepalived_config, nested, run_command=FakeKeepalived())
    assert not failed and (tmp_path / 'etc' / 'keepalived' / 'keepalived.conf').exists()


def test_stopped_keepalived_is_not_reloaded(run_module, tmp_path):
    fake = FakeKeepalived(active=False)
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=fake)
    assert not failed and result['changed'] and not result['reloaded']
    assert ['systemctl', 'reload', 'keepalived.service'] not in fake.calls


def test_a_failed_reload_restores_the_previous_file(run_module, tmp_path):
    live = tmp_path / 'keepalived.conf'
    live.write_text('# old\n')
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=FakeKeepalived(reload_ok=False))
    assert failed and result['msg'] == ('systemctl reload keepalived.service failed (Job for keepalived.service '
                                        'failed); the previous file was restored')
    assert live.read_text() == '# old\n'
    (tmp_path / 'keepalived.conf').unlink()
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=FakeKeepalived(reload_ok=False))
    assert failed and not live.exists()


def test_lint_errors_fail_before_anything(run_module, tmp_path):
    config = dict(vrrp_instances=[dict(CONFIG['vrrp_instances'][0], priority=255)])
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path, config), run_command=fake)
    assert failed and 'keepalived_vrrp_instances[0].priority: 255' in result['msg'] and fake.calls == []


def test_wrong_mode_of_an_unchanged_file_is_fixed(run_module, tmp_path):
    run_module(keepalived_config, args(tmp_path), run_command=FakeKeepalived())
    live = tmp_path / 'keepalived.conf'
    live.chmod(0o644)
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=FakeKeepalived())
    assert not failed and result['changed'] and stat.S_IMODE(live.stat().st_mode) == 0o600


class Provisioned(FakeKeepalived):
    """FakeKeepalived on a host where dpkg, apt-get and the unit's enablement are part of the call too."""

    def __init__(self, installed=(), enabled=True, active=True, apt_ok=True):
        super().__init__(active=active)
        self.installed, self.enabled, self.apt_ok = set(installed), enabled, apt_ok

    def __call__(self, argv, **kwargs):
        name = os.path.basename(argv[0])
        if name == 'dpkg-query':
            self.calls.append([name] + argv[1:])
            return 0, ''.join('%s %s\n' % (p, 'ii ' if p in self.installed else 'un ') for p in argv[3:]), ''
        if name == 'apt-get':
            self.calls.append([name] + argv[1:])
            assert kwargs.get('environ_update') == {'DEBIAN_FRONTEND': 'noninteractive'}
            if argv[1] == 'install':
                if not self.apt_ok:
                    return 100, '', 'E: Unable to locate package keepalived'
                self.installed.update(argv[5:])
            return 0, '', ''
        if argv[1] == 'is-enabled':
            self.calls.append([name] + argv[1:])
            return (0 if self.enabled else 1), '', ''
        if argv[1] in ('enable', 'start'):
            self.calls.append([name] + argv[1:])
            self.enabled = self.enabled or argv[1] == 'enable'
            self.active = self.active or argv[1] == 'start'
            return 0, '', ''
        return super().__call__(argv, **kwargs)


def test_one_call_installs_the_package_checks_installs_and_starts(run_module, tmp_path):
    fake = Provisioned(enabled=False, active=False)
    extra = dict(packages=['keepalived', 'ipvsadm'], keep_running=True)
    result, failed = run_module(keepalived_config, args(tmp_path, **extra), run_command=fake)
    assert not failed and result['changed'] and result['validated'], result
    assert result['packages_installed'] == ['keepalived', 'ipvsadm'] and result['service_actions'] == ['enable', 'start']
    order = [c[:2] for c in fake.calls]
    # Packages first, then the test of the staged file, then the unit: enabled and started with the new file.
    assert order.index(['apt-get', 'install']) < order.index(['keepalived', '--config-test'])
    assert order.index(['keepalived', '--config-test']) < order.index(['systemctl', 'start'])
    assert ['apt-get', 'update', '-q'] in fake.calls
    # The idempotent run: one dpkg-query and two systemctl reads, nothing else.
    fake.calls = []
    result, failed = run_module(keepalived_config, args(tmp_path, **extra), run_command=fake)
    assert not failed and not result['changed'] and result['service_actions'] == []
    assert [c[:2] for c in fake.calls] == [['dpkg-query', '-W'], ['systemctl', 'is-enabled'], ['systemctl', 'is-active']]


def test_check_mode_names_the_missing_package_and_changes_nothing(run_module, tmp_path):
    fake = Provisioned(enabled=False, active=False)
    result, failed = run_module(keepalived_config, args(tmp_path, packages=['keepalived'], keep_running=True),
                                run_command=fake, check_mode=True)
    assert not failed and result['changed'] and result['packages_installed'] == ['keepalived']
    assert result['validated'] is False and result['service_actions'] == ['enable', 'start']
    assert not (tmp_path / 'keepalived.conf').exists()
    assert not [c for c in fake.calls if c[0] == 'apt-get' or c[1:2] in (['enable'], ['start'], ['--config-test'])]


def test_bad_input_fails_before_the_package_is_installed_and_apt_failure_is_named(run_module, tmp_path):
    fake = Provisioned()
    bad = dict(vrrp_instances=[dict(CONFIG['vrrp_instances'][0], auth_pass='far too long a password')])
    result, failed = run_module(keepalived_config, args(tmp_path, config=bad, packages=['keepalived']),
                                run_command=fake)
    assert failed and fake.calls == []
    fake = Provisioned(apt_ok=False)
    result, failed = run_module(keepalived_config, args(tmp_path, packages=['keepalived']), run_command=fake)
    assert failed and result['msg'].startswith('installing keepalived: apt-get install failed (rc=100): E: Unable to locate')
    assert 'the configuration was not changed' in result['msg'] and not (tmp_path / 'keepalived.conf').exists()


VIRTUAL = dict(CONFIG, virtual_servers=[dict(address='192.0.2.100', port=80, real_servers=[
    dict(address='192.0.2.11', port=80, check=dict(type='TCP_CHECK'))])])


class NoIPVS(FakeKeepalived):
    """A kernel without IPVS: modprobe ip_vs fails (recorded)."""

    def __call__(self, argv, **kwargs):
        if os.path.basename(argv[0]) == 'modprobe':
            self.calls.append(['modprobe'] + argv[1:])
            return 1, '', "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0"
        return super(NoIPVS, self).__call__(argv, **kwargs)


def test_virtual_servers_on_a_kernel_without_ipvs_fail_before_anything_changes(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(keepalived_config, 'IPVS_PROC', str(tmp_path / 'ip_vs'))
    monkeypatch.setattr(keepalived_config.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: '/sbin/' + name)
    fake = NoIPVS()
    result, failed = run_module(keepalived_config, args(tmp_path, VIRTUAL, packages=['keepalived', 'ipvsadm']),
                                run_command=fake)
    assert failed and result['ipvs'] is False and not result['changed']
    assert result['msg'].startswith("virtual_servers: this host's kernel has no IPVS (no %s" % (tmp_path / 'ip_vs'))
    assert 'Module ip_vs not found' in result['msg']
    # Only modprobe ran: no package installed, nothing checked, no file written.
    assert fake.calls == [['modprobe', 'ip_vs']] and not (tmp_path / 'keepalived.conf').exists()


def test_with_ipvs_the_virtual_servers_go_live_and_the_result_says_so(run_module, tmp_path, monkeypatch):
    (tmp_path / 'ip_vs').write_text('IP Virtual Server version 1.2.1\n')
    monkeypatch.setattr(keepalived_config, 'IPVS_PROC', str(tmp_path / 'ip_vs'))
    fake = FakeKeepalived()
    result, failed = run_module(keepalived_config, args(tmp_path, VIRTUAL), run_command=fake)
    assert not failed and result['ipvs'] is True and result['validated']
    assert 'virtual_server 192.0.2.100 80' in (tmp_path / 'keepalived.conf').read_text()
    # Unchanged, the next run still says so.
    result, failed = run_module(keepalived_config, args(tmp_path, VIRTUAL), run_command=FakeKeepalived())
    assert not failed and not result['changed'] and result['ipvs'] is True
    # The control: without virtual servers the kernel is not asked.
    result, failed = run_module(keepalived_config, args(tmp_path), run_command=FakeKeepalived())
    assert not failed and result['ipvs'] is None
