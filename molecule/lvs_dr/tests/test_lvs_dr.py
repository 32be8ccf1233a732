# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""LVS-DR behaviour, proven on the wire: who answers ARP for the VIP."""

from __future__ import annotations

import shlex

import helpers
import pytest

DIRECTOR = helpers.host('opsnotes-lvs-director')
RS = helpers.host('opsnotes-lvs-rs1')
CLIENT = helpers.host('opsnotes-lvs-client')
BYSTANDER = helpers.host('opsnotes-lvs-bystander')
VIPS = ['172.29.214.200', '172.29.214.201']
RS_SYSCTL_FILE = '/etc/sysctl.d/60-lvs-realserver.conf'
JOURNAL_HOSTS = ['opsnotes-lvs-rs1', 'opsnotes-lvs-director']


@pytest.mark.parametrize('vip', VIPS)
def test_only_the_director_answers_arp_for_the_vip(vip):
    assert helpers.arp_responders(CLIENT, vip) == {helpers.mac(DIRECTOR)}


def test_realserver_holds_the_vips_on_lo_as_host_routes():
    held = helpers.addresses(RS, 'lo')
    assert {v + '/32' for v in VIPS} <= held
    assert not any(a.split('/')[0] in VIPS for a in helpers.addresses(RS, 'eth0'))


def test_director_holds_the_vips_on_its_nic():
    assert {v + '/32' for v in VIPS} <= helpers.addresses(DIRECTOR, 'eth0')


@pytest.mark.parametrize('iface', ['all', 'lo', 'eth0', 'eth0.101'])
def test_realserver_arp_sysctls_live(iface):
    assert helpers.sysctl(RS, 'net', 'ipv4', 'conf', iface, 'arp_ignore') == '1'
    assert helpers.sysctl(RS, 'net', 'ipv4', 'conf', iface, 'arp_announce') == '2'


def test_realserver_sysctls_persisted_in_one_file_with_vlan_safe_keys():
    content = RS.file(RS_SYSCTL_FILE).content_string
    assert 'net/ipv4/conf/eth0.101/arp_ignore = 1' in content
    assert 'net.ipv4.conf.all.arp_announce = 2' in content
    assert RS.file(RS_SYSCTL_FILE).mode == 0o644


@pytest.mark.parametrize('iface', ['all', 'lo', 'eth0'])
def test_director_keeps_kernel_defaults(iface):
    assert helpers.sysctl(DIRECTOR, 'net', 'ipv4', 'conf', iface, 'arp_ignore') == '0'
    assert helpers.sysctl(DIRECTOR, 'net', 'ipv4', 'conf', iface, 'arp_announce') == '0'


def test_negative_control_a_realserver_with_kernel_defaults_steals_the_vip():
    """The bystander never got the role: holding the VIP on lo, it answers ARP too (kernel defaults)."""
    assert helpers.sysctl(BYSTANDER, 'net', 'ipv4', 'conf', 'all', 'arp_ignore') == '0'
    BYSTANDER.check_output('ip address add %s/32 dev lo', VIPS[0])
    try:
        responders = helpers.arp_responders(CLIENT, VIPS[0])
    finally:
        BYSTANDER.run('ip address del %s/32 dev lo', VIPS[0])
    assert responders == {helpers.mac(DIRECTOR), helpers.mac(BYSTANDER)}


def test_check_module_reports_drift_that_arp_confirms():
    """Break the real server at runtime: ARP shows the hijack and lvs_dr_check reports it."""
    keys = [('all', 'arp_ignore'), ('lo', 'arp_ignore'), ('eth0', 'arp_ignore')]
    for iface, key in keys:
        RS.check_output('echo 0 > /proc/sys/net/ipv4/conf/%s/%s', iface, key)
    try:
        assert helpers.mac(RS) in helpers.arp_responders(CLIENT, VIPS[0])
        result = helpers.ansible_host('opsnotes-lvs-rs1').ansible('opsnotes.edge.lvs_dr_check',
                                                                  'mode=realserver vips=%s interfaces=eth0.101 '
                                                                  'sysctl_file=%s' % (VIPS[0], RS_SYSCTL_FILE),
                                                                  check=False)
    finally:
        for iface, key in keys:
            RS.run('echo 1 > /proc/sys/net/ipv4/conf/%s/%s', iface, key)
    assert result['ok'] is False
    assert 'effective arp_ignore on eth0 is 0 (max of all and eth0), expected 1' in result['drift']
    assert helpers.arp_responders(CLIENT, VIPS[0]) == {helpers.mac(DIRECTOR)}


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/lvs_dr/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert 'ok=' in run.stdout and 'failed=0' in run.stdout


def test_a_dropped_vip_is_removed_from_the_host_and_the_file():
    run = helpers.ansible_playbook('molecule/lvs_dr/converge.yml', '-e', '{"lvs_dr_vips": ["%s"]}' % VIPS[0])
    assert run.returncode == 0, run.stdout[-4000:]
    try:
        assert VIPS[1] + '/32' not in helpers.addresses(RS, 'lo')
        assert VIPS[0] + '/32' in helpers.addresses(RS, 'lo')
        assert VIPS[1] not in RS.file('/etc/lvs/vips.batch').content_string
    finally:
        run = helpers.ansible_playbook('molecule/lvs_dr/converge.yml')
    assert run.returncode == 0, run.stdout[-4000:]
    assert VIPS[1] + '/32' in helpers.addresses(RS, 'lo')


def test_vips_and_sysctls_survive_a_reboot():
    helpers.restart('opsnotes-lvs-rs1')
    rs = helpers.host('opsnotes-lvs-rs1')
    assert rs.service('opsnotes-lvs-dr-vips.service').is_enabled
    assert {v + '/32' for v in VIPS} <= helpers.addresses(rs, 'lo')
    for iface in ('all', 'lo', 'eth0'):
        assert helpers.sysctl(rs, 'net', 'ipv4', 'conf', iface, 'arp_ignore') == '1'
        assert helpers.sysctl(rs, 'net', 'ipv4', 'conf', iface, 'arp_announce') == '2'
    assert helpers.arp_responders(CLIENT, VIPS[0]) == {helpers.mac(DIRECTOR)}


def restore_vlan(rs):
    """A restart loses prepare's eth0.101 (a veth: no 8021q module here); put it back with the role's values."""
    rs.run('ip link show eth0.101 >/dev/null 2>&1 || { ip link add eth0.101 type veth peer name vpeer101 && '
           'echo 1 > /proc/sys/net/ipv4/conf/eth0.101/arp_ignore && '
           'echo 2 > /proc/sys/net/ipv4/conf/eth0.101/arp_announce; }')


HIJACK = ''.join('net.ipv4.conf.%s.arp_ignore = 0\n' % iface for iface in ('all', 'eth0', 'lo'))


@pytest.mark.parametrize('files, hijacked_at_boot', [
    # A later file that resets all, eth0 and lo: the green run that hijacks the VIP after the next reboot.
    ({'/etc/sysctl.d/99-local.conf': HIJACK}, True),
    # A later file that lowers only all: eth0 and lo keep 1, so max(all, IFACE) still holds.
    ({'/etc/sysctl.d/99-local.conf': 'net.ipv4.conf.all.arp_ignore = 0\n'}, False),
    # A glob: systemd-sysctl leaves the keys that a file sets explicitly (ours) alone.
    ({'/etc/sysctl.d/99-local.conf': 'net.ipv4.conf.*.arp_ignore = 0\n'}, False),
    # The same name as the role's file, in /usr/lib: shadowed by the one in /etc.
    ({'/usr/lib/sysctl.d/60-lvs-realserver.conf': HIJACK}, False),
], ids=['later-file', 'harmless-later-file', 'glob', 'shadowed-file'])
def test_what_wins_at_boot_is_checked_and_a_reboot_proves_it(files, hijacked_at_boot):
    check = 'mode=realserver vips=%s interfaces=eth0.101 sysctl_file=%s' % (VIPS[0], RS_SYSCTL_FILE)
    rs = helpers.host('opsnotes-lvs-rs1')
    restore_vlan(rs)
    for path, text in files.items():
        rs.check_output('printf %%s %s > %s' % (shlex.quote(text), path))
    try:
        result = helpers.ansible_host('opsnotes-lvs-rs1').ansible('opsnotes.edge.lvs_dr_check', check, check=False)
        boot_drift = [d for d in result['drift'] if d.startswith('at boot')]
        if hijacked_at_boot:
            assert any('/etc/sysctl.d/99-local.conf:' in d for d in boot_drift), result['drift']
            # The role's verify fails on it, naming the file: the run is no longer green.
            returncode, failures = helpers.playbook_failures('molecule/lvs_dr/converge.yml', '--limit',
                                                             'opsnotes-lvs-rs1')
            assert returncode != 0 and '/etc/sysctl.d/99-local.conf:2' in failures[0][2], failures
        else:
            assert boot_drift == [] and result['ok'], result['drift']
        # The reboot shows who was right: only the hijack case answers ARP for the VIP next to the director.
        helpers.restart('opsnotes-lvs-rs1')
        rs = helpers.host('opsnotes-lvs-rs1')
        responders = helpers.arp_responders(CLIENT, VIPS[0])
        expected = {helpers.mac(DIRECTOR), helpers.mac(rs)} if hijacked_at_boot else {helpers.mac(DIRECTOR)}
        assert responders == expected
    finally:
        # Back to the role's state for the next case (a harmless file still set all=0 at this boot).
        rs.run('rm -f %s' % ' '.join(files))
        helpers.restart('opsnotes-lvs-rs1')
        restore_vlan(helpers.host('opsnotes-lvs-rs1'))
    assert helpers.arp_responders(CLIENT, VIPS[0]) == {helpers.mac(DIRECTOR)}
