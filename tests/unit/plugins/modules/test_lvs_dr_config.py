# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from conftest import FakeIp

from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import parse_batch
from ansible_collections.opsnotes.edge.plugins.modules import lvs_dr_config


class Host(object):
    """run_command for ``ip`` (a FakeIp) and ``systemctl`` (enabled units, failures on demand)."""

    def __init__(self, addresses, fail=()):
        self.ip = FakeIp(addresses)
        self.enabled, self.fail, self.systemctl = set(), set(fail), []

    def __call__(self, argv, **kwargs):
        if not argv[0].endswith('systemctl'):
            return self.ip(argv, **kwargs)
        verb, unit = argv[1], (argv[2] if len(argv) > 2 else None)
        self.systemctl.append(argv[1:])
        if verb in self.fail:
            return 1, '', '%s refused' % verb
        if verb == 'is-enabled':
            return (0, 'enabled\n', '') if unit in self.enabled else (1, 'disabled\n', '')
        if verb == 'enable':
            self.enabled.add(unit)
        return 0, '', ''


def args(tmp_path, **kw):
    base = dict(mode='realserver', vips=['192.0.2.10'], sysctl_file=str(tmp_path / 'sysctl.d' / '90-lvs.conf'),
                vip_file=str(tmp_path / 'vips.batch'), unit_dir=str(tmp_path / 'units'))
    base.update(kw)
    return base


def test_converges_sysctls_unit_and_vips_in_order_then_is_idempotent(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': [('172.17.0.2', 16)]})
    result, failed = run_module(lvs_dr_config, args(tmp_path), fake_root, run_command=host)
    assert not failed and result['changed'], result
    assert fake_root.get('net', 'ipv4', 'conf', 'eth0', 'arp_ignore') == '1'
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_announce') == '2'
    assert 'net.ipv4.conf.lo.arp_ignore = 1' in (tmp_path / 'sysctl.d' / '90-lvs.conf').read_text()
    unit = (tmp_path / 'units' / 'opsnotes-lvs-dr-vips.service').read_text()
    assert 'ExecStart=/sbin/ip -force -batch "%s"' % (tmp_path / 'vips.batch') in unit
    assert 'After=systemd-sysctl.service' in unit
    assert host.systemctl[-2:] == [['daemon-reload'], ['enable', 'opsnotes-lvs-dr-vips.service']]
    assert ('192.0.2.10', 32) in host.ip.addresses['lo']
    assert parse_batch((tmp_path / 'vips.batch').read_text()) == [('192.0.2.10', 32, 'lo')]
    assert result['vips']['added'] == ['192.0.2.10/32 dev lo'] and result['unit_changed'] is True

    host.systemctl, host.ip.calls = [], []
    result, failed = run_module(lvs_dr_config, args(tmp_path), fake_root, run_command=host)
    assert not failed and result['changed'] is False, result
    assert host.systemctl == [['is-enabled', 'opsnotes-lvs-dr-vips.service']]
    assert host.ip.calls == [['-json', 'address', 'show']]


def test_check_mode_reports_and_changes_nothing(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': []})
    result, failed = run_module(lvs_dr_config, args(tmp_path), fake_root, run_command=host, check_mode=True)
    assert not failed and result['changed'] and result['vips']['added'] == ['192.0.2.10/32 dev lo']
    assert fake_root.get('net', 'ipv4', 'conf', 'eth0', 'arp_ignore') == '0'
    assert not (tmp_path / 'units').exists() and not (tmp_path / 'vips.batch').exists()
    assert host.ip.addresses['lo'] == [('127.0.0.1', 8)] and ['enable'] not in [c[:1] for c in host.systemctl]


def test_refusals_come_before_any_change(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': []})
    result, failed = run_module(lvs_dr_config, args(tmp_path, interfaces=['eth7']), fake_root, run_command=host)
    assert failed and result['missing_interfaces'] == ['eth7'] and 'nothing was changed' in result['msg']
    # A director with VIPs, no vip_interface and no default route.
    (tmp_path / 'root' / 'proc' / 'net' / 'route').write_text('Iface\tDestination\n')
    result, failed = run_module(lvs_dr_config, args(tmp_path, mode='director', vip_interface=''), fake_root,
                                run_command=host)
    assert failed and result['vip_interface'] == '' and 'no default route' in result['msg']
    assert fake_root.get('net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    assert not (tmp_path / 'units').exists() and host.systemctl == [] and host.ip.calls == []
    # Input a unit file cannot hold.
    result, failed = run_module(lvs_dr_config, args(tmp_path, vip_file='relative/path'), fake_root,
                                run_command=host)
    assert failed and 'vip_file' in result['msg']


def test_director_holds_vips_on_the_default_route_nic(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': [('172.17.0.2', 16)]})
    result, failed = run_module(lvs_dr_config, args(tmp_path, mode='director', vip_interface=''), fake_root,
                                run_command=host)
    assert not failed and result['vip_interface'] == 'eth0' and ('192.0.2.10', 32) in host.ip.addresses['eth0']
    assert fake_root.get('net', 'ipv4', 'conf', 'eth0', 'arp_ignore') == '0'


def test_a_failed_unit_step_puts_the_unit_back_and_holds_no_vip(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': []}, fail={'enable'})
    result, failed = run_module(lvs_dr_config, args(tmp_path), fake_root, run_command=host)
    assert failed and result['msg'].startswith('unit step: enable opsnotes-lvs-dr-vips.service failed')
    assert 'steps completed before it: sysctls' in result['msg'] and result['changed'] is True
    assert not (tmp_path / 'units' / 'opsnotes-lvs-dr-vips.service').exists()
    assert host.ip.addresses['lo'] == [('127.0.0.1', 8)]
    # The ARP settings stay (they are the safe half), so a rerun only has the unit and the VIPs left to do.
    assert fake_root.get('net', 'ipv4', 'conf', 'lo', 'arp_ignore') == '1'


def test_a_failed_vip_step_undoes_the_addresses_and_names_the_step(run_module, fake_root, tmp_path):
    host = Host({'lo': [('127.0.0.1', 8)], 'eth0': []})
    host.ip.fail_on = ['add', '192.0.2.11/32', 'dev', 'lo']
    result, failed = run_module(lvs_dr_config, args(tmp_path, vips=['192.0.2.10', '192.0.2.11']), fake_root,
                                run_command=host)
    assert failed and result['msg'].startswith('vips step: ip address add 192.0.2.11/32 dev lo failed')
    assert 'steps completed before it: sysctls, unit' in result['msg'] and result['held'] == []
    assert host.ip.addresses['lo'] == [('127.0.0.1', 8)]
