# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from conftest import FakeIp

from ansible_collections.opsnotes.edge.plugins.modules import lvs_dr_check


def realserver(fake_root):
    for iface in ('all', 'lo', 'eth0'):
        fake_root.add_interface(iface, arp_ignore=1, arp_announce=2)


def test_kernel_defaults_on_a_realserver_are_drift(run_module, fake_root):
    ip = FakeIp({'lo': [('127.0.0.1', 8), ('192.0.2.10', 32)], 'eth0': []})
    result, failed = run_module(lvs_dr_check, dict(mode='realserver', vips=['192.0.2.10']), fake_root, run_command=ip)
    assert not failed and result['ok'] is False and result['changed'] is False
    assert result['default_interface'] == 'eth0' and result['interfaces'] == ['lo', 'eth0']
    assert 'effective arp_ignore on eth0 is 0 (max of all and eth0), expected 1' in result['drift']
    assert result['expected_sysctls']['net.ipv4.conf.eth0.arp_announce'] == '2'
    assert result['vips'][0]['present'] is True
    assert result['effective'][1]['hwaddr'] == '02:42:ac:11:00:02'


def test_converged_realserver_is_ok_and_compares_files(run_module, fake_root, tmp_path):
    realserver(fake_root)
    # The persisted file where systemd-sysctl reads it at boot (the boot check reads it there too).
    sysctl_file = tmp_path / 'root' / 'etc' / 'sysctl.d' / '90-lvs.conf'
    sysctl_file.parent.mkdir(parents=True)
    sysctl_file.write_text(''.join('%s = %s\n' % (k, v) for k, v in {
        'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2,
        'net.ipv4.conf.lo.arp_ignore': 1, 'net.ipv4.conf.lo.arp_announce': 2,
        'net.ipv4.conf.eth0.arp_ignore': 1, 'net.ipv4.conf.eth0.arp_announce': 2}.items()))
    vip_file = tmp_path / 'v.batch'
    vip_file.write_text('address replace 192.0.2.10/32 dev lo\n')
    ip = FakeIp({'lo': [('127.0.0.1', 8), ('192.0.2.10', 32)], 'eth0': [('172.17.0.2', 16)]})
    args = dict(mode='realserver', vips=['192.0.2.10'], sysctl_file='/etc/sysctl.d/90-lvs.conf',
                vip_file=str(vip_file), fail_on_drift=True)
    result, failed = run_module(lvs_dr_check, dict(args, sysctl_file=str(sysctl_file)), fake_root, run_command=ip)
    assert not failed and result['ok'] is True and result['drift'] == [], result['drift']
    assert result['boot_files'] == ['/etc/sysctl.d/90-lvs.conf'] and all(row['ok'] for row in result['boot'])
    assert all(row['ok'] and row['persisted'] == row['expected'] for row in result['sysctls'])
    assert result['vips'][0] == dict(address='192.0.2.10', cidr='192.0.2.10/32', interface='lo', present=True,
                                     host_route=True, persisted=True, also_on=[], ok=True)

    # Persisted file lost a key, VIP on eth0 too: each is drift, and fail_on_drift fails.
    sysctl_file.write_text('net.ipv4.conf.all.arp_ignore = 1\n')
    ip.addresses['eth0'].append(('192.0.2.10', 32))
    result, failed = run_module(lvs_dr_check, dict(args, sysctl_file=str(sysctl_file)), fake_root, run_command=ip)
    assert failed and result['msg'].startswith('LVS-DR realserver drift: ')
    assert 'net.ipv4.conf.lo.arp_ignore is absent in the persisted file, expected 1' in result['drift']
    assert 'VIP 192.0.2.10 is also on eth0: this real server would answer ARP for it' in result['drift']


def test_vlan_interface_and_missing_interface(run_module, fake_root):
    realserver(fake_root)
    fake_root.add_interface('eth0.100', arp_ignore=0, arp_announce=0)
    result, failed = run_module(lvs_dr_check, dict(mode='realserver', interfaces=['eth0.100', 'eth7']), fake_root)
    assert not failed
    assert result['interfaces'] == ['lo', 'eth0', 'eth0.100'] and result['missing_interfaces'] == ['eth7']
    assert 'interface eth7 does not exist' in result['drift']
    # all=1/2 lifts the VLAN NIC's effective values, but its own keys still drift from what is persisted
    eth100 = [row for row in result['effective'] if row['interface'] == 'eth0.100'][0]
    assert eth100['ok'] is True and eth100['arp_ignore'] == 1
    assert 'net/ipv4/conf/eth0.100/arp_ignore is 0 live, expected 1' in result['drift']


def test_director_defaults_ok_and_rp_filter_forward(run_module, fake_root):
    result, failed = run_module(lvs_dr_check, dict(mode='director'), fake_root)
    assert not failed and result['ok'] is True and result['vips'] == []
    result, failed = run_module(lvs_dr_check, dict(mode='director', rp_filter=2, ip_forward=True), fake_root)
    assert result['ok'] is False
    assert 'net.ipv4.ip_forward is 0 live, expected 1' in result['drift']
    assert 'effective rp_filter on eth0 is 0 (max of all and eth0), expected 2' in result['drift']


def test_director_vip_on_default_interface(run_module, fake_root):
    ip = FakeIp({'lo': [('127.0.0.1', 8)], 'eth0': [('172.17.0.2', 16), ('192.0.2.10', 32)]})
    result, failed = run_module(lvs_dr_check, dict(mode='director', vips=['192.0.2.10'], vip_interface=''),
                                fake_root, run_command=ip)
    assert result['ok'] is True and result['vips'][0]['interface'] == 'eth0'
    fake_root.write('proc/net/route', 'Iface\tDestination\n')
    result, failed = run_module(lvs_dr_check, dict(mode='director', vips=['192.0.2.10'], vip_interface=''),
                                fake_root, run_command=ip)
    assert 'no vip_interface given and no default route to take it from' in result['drift']


def test_bad_input_and_broken_files(run_module, fake_root, tmp_path):
    result, failed = run_module(lvs_dr_check, dict(mode='realserver', vips=['10.0.0.1/32'], interfaces=['a/b']),
                                fake_root)
    assert failed and "vips[0]: '10.0.0.1/32'" in result['msg'] and "interfaces[0]: 'a/b'" in result['msg']
    result, failed = run_module(lvs_dr_check, dict(mode='dr'), fake_root)
    assert failed and 'mode' in result['msg']
    bad = tmp_path / 'bad.conf'
    bad.write_text('garbage line\n')
    result, failed = run_module(lvs_dr_check, dict(mode='director', sysctl_file=str(bad)), fake_root)
    assert failed and result['msg'].startswith(str(bad))
    ip = FakeIp({'lo': []})
    result, failed = run_module(lvs_dr_check, dict(mode='realserver', vips=['192.0.2.1'], vip_file=str(bad)),
                                fake_root, run_command=ip)
    assert failed and result['msg'].startswith(str(bad))
    result, failed = run_module(lvs_dr_check, dict(mode='realserver', vips=['192.0.2.1']), fake_root,
                                run_command=lambda argv, **k: (1, '', 'boom'))
    assert failed and 'boom' in result['msg']


ARP_OK = ''.join('net.ipv4.conf.%s.%s = %s\n' % (iface, name, value) for iface in ('all', 'lo', 'eth0')
                 for name, value in (('arp_ignore', 1), ('arp_announce', 2)))


def boot_case(fake_root, files):
    for path, text in files.items():
        fake_root.write(path.lstrip('/'), text)


def test_what_wins_at_boot(run_module, fake_root):
    realserver(fake_root)
    args = dict(mode='realserver', boot_check=True)
    boot_case(fake_root, {'/etc/sysctl.d/90-opsnotes-lvs-dr.conf': ARP_OK})
    result, _failed = run_module(lvs_dr_check, args, fake_root)
    assert result['ok'], result['drift']
    # A later file that resets all, eth0 and lo: the hijack after the next reboot, named with its file and line.
    later = 'net.ipv4.conf.all.arp_ignore = 0\nnet.ipv4.conf.eth0.arp_ignore = 0\nnet.ipv4.conf.lo.arp_ignore = 0\n'
    boot_case(fake_root, {'/etc/sysctl.d/99-local.conf': later})
    result, failed = run_module(lvs_dr_check, dict(args, fail_on_drift=True), fake_root)
    assert failed and not result['ok']
    assert ('at boot, effective arp_ignore on eth0 would be 0, expected 1: all=0 (/etc/sysctl.d/99-local.conf:1), '
            'eth0=0 (/etc/sysctl.d/99-local.conf:2)') in result['drift']
    assert result['drift'] and all(d.startswith('at boot') for d in result['drift'])    # live values are fine
    # The same name in /usr/lib is shadowed by /etc: a harmless /etc/sysctl.d/99-local.conf hides it.
    boot_case(fake_root, {'/usr/lib/sysctl.d/99-local.conf': 'net.ipv4.conf.eth0.arp_ignore = 0\n',
                          '/etc/sysctl.d/99-local.conf': '# nothing\n'})
    result, _failed = run_module(lvs_dr_check, args, fake_root)
    assert result['ok'], result['drift']
    # A later file that lowers only all: eth0 and lo keep 1, the max rule holds: not drift.
    boot_case(fake_root, {'/etc/sysctl.d/99-local.conf': 'net.ipv4.conf.all.arp_ignore = 0\n'})
    result, _failed = run_module(lvs_dr_check, args, fake_root)
    assert result['ok'], result['drift']
    # A glob does not touch keys that a file sets explicitly (ours): not drift.
    boot_case(fake_root, {'/etc/sysctl.d/99-local.conf': 'net.ipv4.conf.*.arp_announce = 0\n'})
    result, _failed = run_module(lvs_dr_check, args, fake_root)
    assert result['ok'], result['drift']
    # Without our file, the glob (slash form, '-' quiet prefix) is what boot applies: drift naming it.
    boot_case(fake_root, {'/etc/sysctl.d/90-opsnotes-lvs-dr.conf': '# removed\n',
                          '/etc/sysctl.d/99-local.conf': '-net/ipv4/conf/*/arp_announce = 0\n'})
    result, _failed = run_module(lvs_dr_check, args, fake_root)
    assert ('at boot, effective arp_announce on lo would be 0, expected 2: all=0 (/etc/sysctl.d/99-local.conf:1), '
            'lo=0 (/etc/sysctl.d/99-local.conf:1)') in result['drift']


def test_boot_check_can_be_switched_off(run_module, fake_root):
    realserver(fake_root)
    result, _failed = run_module(lvs_dr_check, dict(mode='realserver', boot_check=False), fake_root)
    assert result['ok'] and result['boot'] == [] and 'boot_files' not in result
