# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _sysctl as s


@pytest.mark.parametrize('key, parts', [
    ('net.ipv4.conf.all.arp_ignore', ['net', 'ipv4', 'conf', 'all', 'arp_ignore']),
    ('net/ipv4/conf/eth0.100/arp_ignore', ['net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore']),
    ('/net/ipv4/ip_forward', ['net', 'ipv4', 'ip_forward']),
    (' net.ipv4.ip_forward ', ['net', 'ipv4', 'ip_forward']),
])
def test_split_key(key, parts):
    assert s.split_key(key) == parts


@pytest.mark.parametrize('key', ['', 'net..ipv4', 'net/ipv4/../../etc/passwd', 'net.ipv4.conf.a b.x', None,
                                 'net/ipv4/$(x)'])
def test_split_key_refuses(key):
    with pytest.raises(s.SysctlError):
        s.split_key(key)


def test_canonical_and_conf_key():
    assert s.canonical_key('net/ipv4/conf/all/arp_ignore') == 'net.ipv4.conf.all.arp_ignore'
    assert s.canonical_key('net.ipv4.conf.all.arp_ignore') == 'net.ipv4.conf.all.arp_ignore'
    assert s.conf_key('ipv4', 'eth0.100', 'arp_ignore') == 'net/ipv4/conf/eth0.100/arp_ignore'
    assert s.conf_key('ipv4', 'eth0', 'arp_announce') == 'net.ipv4.conf.eth0.arp_announce'


@pytest.mark.parametrize('name, ok', [
    ('eth0', True), ('eth0.100', True), ('bond0', True), ('enp0s31f6', True), ('veth-a_b', True),
    ('a' * 15, True), ('a' * 16, False), ('', False), ('.', False), ('..', False), ('-x', False), ('eth 0', False),
    ('eth0/1', False), ('eth0;reboot', False), ("eth0'", False), ('eth0\n', False), (None, False), (3, False),
])
def test_valid_interface_name(name, ok):
    assert s.valid_interface_name(name) is ok


def test_normalize_value():
    assert s.normalize_value(True) == '1'
    assert s.normalize_value(False) == '0'
    assert s.normalize_value(2) == '2'
    assert s.normalize_value('4096\t87380  6291456\n') == '4096 87380 6291456'


def test_read_write_sysctl(fake_root):
    assert s.read_sysctl('net.ipv4.conf.eth0.arp_ignore', fake_root.path) == '0'
    s.write_sysctl('net.ipv4.conf.eth0.arp_ignore', 1, fake_root.path)
    assert fake_root.get('net', 'ipv4', 'conf', 'eth0', 'arp_ignore') == '1'
    assert s.read_sysctl('net.ipv4.conf.eth9.arp_ignore', fake_root.path) is None


def test_write_sysctl_error_names_key(tmp_path):
    with pytest.raises(s.SysctlError, match='net.ipv4.conf.eth9.arp_ignore = 1'):
        s.write_sysctl('net.ipv4.conf.eth9.arp_ignore', 1, str(tmp_path))


def test_sysctl_conf_round_trip():
    values = {'net/ipv4/conf/eth0.100/arp_ignore': 1, 'net.ipv4.conf.all.arp_ignore': '1'}
    text = s.render_sysctl_conf(values, 'hdr\n\nx')
    assert text.startswith('# hdr\n#\n# x\n')
    assert 'net/ipv4/conf/eth0.100/arp_ignore = 1\n' in text
    assert s.parse_sysctl_conf(text) == {'net/ipv4/conf/eth0.100/arp_ignore': '1', 'net.ipv4.conf.all.arp_ignore': '1'}


def test_parse_sysctl_conf_systemd_syntax():
    text = '; comment\n# comment\n\n-net.ipv4.ip_forward=1\nnet.ipv4.ip_forward = 0\nnet/ipv4/conf/all/rp_filter=2\n'
    assert s.parse_sysctl_conf(text) == {'net.ipv4.ip_forward': '0', 'net.ipv4.conf.all.rp_filter': '2'}
    with pytest.raises(s.SysctlError, match='line 1'):
        s.parse_sysctl_conf('net.ipv4.ip_forward\n')


def test_read_sysctl_conf(tmp_path):
    assert s.read_sysctl_conf(str(tmp_path / 'absent.conf')) is None
    path = tmp_path / 'x.conf'
    path.write_text('net.ipv4.ip_forward = 1\n')
    assert s.read_sysctl_conf(str(path)) == {'net.ipv4.ip_forward': '1'}


@pytest.mark.parametrize('all_value, iface_value, expected', [
    ('0', '1', 1), ('2', '1', 2), ('1', None, 1), (None, None, None), ('0', '0', 0), ('8', '1', 8),
])
def test_effective_is_max(all_value, iface_value, expected):
    assert s.effective(all_value, iface_value) == expected


def test_list_interfaces(fake_root, tmp_path):
    assert s.list_interfaces(fake_root.path) == ['eth0', 'lo']
    assert s.list_interfaces(str(tmp_path / 'nothing')) == []


def test_interface_hwaddr(fake_root):
    assert s.interface_hwaddr('eth0', fake_root.path) == '02:42:ac:11:00:02'
    assert s.interface_hwaddr('eth9', fake_root.path) is None


def test_default_route_lowest_metric(fake_root):
    assert s.default_route_interface(fake_root.path) == 'eth0'
    header = fake_root.read('proc/net/route').splitlines()[0]
    fake_root.write('proc/net/route', header + '\n'
                    'eth1\t00000000\t01000A0A\t0003\t0\t0\t200\t00000000\t0\t0\t0\n'
                    'eth2\t00000000\t01000A0B\t0003\t0\t0\t100\t00000000\t0\t0\t0\n'
                    'eth3\t00000000\t01000A0C\t0002\t0\t0\t1\t00000000\t0\t0\t0\n')   # not RTF_UP
    assert s.default_route_interface(fake_root.path) == 'eth2'


def test_default_route_ipv6_fallback_and_none(fake_root):
    fake_root.write('proc/net/route', 'Iface\tDestination\n')
    assert s.default_route_interface(fake_root.path) is None
    fake_root.write('proc/net/ipv6_route',
                    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 '
                    'fe800000000000000000000000000001 00000400 00000001 00000000 00000003 ens3\n'
                    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 '
                    '00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n')
    assert s.default_route_interface(fake_root.path) == 'ens3'
