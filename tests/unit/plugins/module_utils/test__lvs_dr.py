# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils import _lvs_dr as m


def test_resolve_interfaces():
    assert m.resolve_interfaces(['eth1', 'eth0'], 'eth0') == ['lo', 'eth0', 'eth1']
    assert m.resolve_interfaces([], None) == ['lo']
    assert m.resolve_interfaces(['lo', 'eth1'], 'eth0', include_default=False) == ['lo', 'eth1']


def test_expected_realserver():
    values = m.expected_sysctls('realserver', ['lo', 'eth0.100'])
    assert values == {
        'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2',
        'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2',
        'net/ipv4/conf/eth0.100/arp_ignore': '1', 'net/ipv4/conf/eth0.100/arp_announce': '2',
    }


def test_expected_director_with_options():
    values = m.expected_sysctls('director', ['lo', 'eth0'], rp_filter=2, ip_forward=False)
    assert values['net.ipv4.conf.all.arp_ignore'] == '0'
    assert values['net.ipv4.conf.eth0.arp_announce'] == '0'
    assert values['net.ipv4.conf.all.rp_filter'] == '2'
    assert values['net.ipv4.conf.eth0.rp_filter'] == '2'
    assert 'net.ipv4.conf.lo.rp_filter' not in values
    assert values['net.ipv4.ip_forward'] == '0'
    assert m.expected_sysctls('director', ['lo'], ip_forward=True)['net.ipv4.ip_forward'] == '1'


def test_compare_sysctls_live_and_persisted():
    expected = {'k.a': '1', 'k.b': '2'}
    rows, drift = m.compare_sysctls(expected, {'k.a': '1', 'k.b': '0'}, {'k.a': '1'})
    assert rows == [dict(key='k.a', expected='1', live='1', persisted='1', ok=True),
                    dict(key='k.b', expected='2', live='0', persisted=None, ok=False)]
    assert drift == ['k.b is 0 live, expected 2', 'k.b is absent in the persisted file, expected 2']
    rows, drift = m.compare_sysctls(expected, {'k.a': '1', 'k.b': '2'}, None)
    assert drift == [] and all(r['ok'] and r['persisted'] is None for r in rows)


def test_compare_effective_applies_max_rule():
    live = {'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.all.arp_announce': '2',
            'net.ipv4.conf.eth0.arp_ignore': '1', 'net.ipv4.conf.eth0.arp_announce': '0',
            'net.ipv4.conf.lo.arp_ignore': '0', 'net.ipv4.conf.lo.arp_announce': '0'}
    rows, drift = m.compare_effective('realserver', ['lo', 'eth0'], live)
    # eth0: max(0,1)=1 and max(2,0)=2 -> fine; lo: arp_ignore max(0,0)=0 -> drift
    assert rows[1] == dict(interface='eth0', ok=True, arp_ignore=1, expected_arp_ignore=1,
                           arp_announce=2, expected_arp_announce=2)
    assert rows[0]['ok'] is False
    assert drift == ['effective arp_ignore on lo is 0 (max of all and lo), expected 1']


def test_compare_effective_director_and_rp_filter():
    live = {'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.eth0.arp_ignore': '0',
            'net.ipv4.conf.all.arp_announce': '0', 'net.ipv4.conf.eth0.arp_announce': '0',
            'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.eth0.rp_filter': '1'}
    rows, drift = m.compare_effective('director', ['eth0'], live, rp_filter=2)
    assert rows[0]['arp_ignore'] == 1 and rows[0]['rp_filter'] == 1
    assert drift == ['effective arp_ignore on eth0 is 1 (max of all and eth0), expected 0',
                     'effective rp_filter on eth0 is 1 (max of all and eth0), expected 2']


def test_compare_vips():
    live = {'lo': [('127.0.0.1', 8), ('192.0.2.10', 32), ('192.0.2.11', 24)], 'eth0': [('192.0.2.12', 32)]}
    persisted = [('192.0.2.10', 32, 'lo')]
    rows, drift = m.compare_vips('realserver', ['192.0.2.10', '192.0.2.11', '192.0.2.12'], 'lo', live, persisted)
    assert rows[0] == dict(address='192.0.2.10', cidr='192.0.2.10/32', interface='lo', present=True, host_route=True,
                           persisted=True, also_on=[], ok=True)
    assert rows[1]['present'] is True and rows[1]['host_route'] is False
    assert rows[2]['also_on'] == ['eth0']
    assert drift == [
        'VIP 192.0.2.11 is on lo as /24, expected the host route 192.0.2.11/32',
        'VIP 192.0.2.11 is not in the persisted VIP file',
        'VIP 192.0.2.12 is not on lo',
        'VIP 192.0.2.12 is not in the persisted VIP file',
        'VIP 192.0.2.12 is also on eth0: this real server would answer ARP for it',
    ]


def test_compare_vips_director_may_hold_vip_elsewhere_and_file_optional():
    live = {'eth0': [('192.0.2.10', 32)], 'eth1': [('192.0.2.10', 32)]}
    rows, drift = m.compare_vips('director', ['192.0.2.10'], 'eth0', live, None)
    assert drift == [] and rows[0]['persisted'] is None and rows[0]['also_on'] == ['eth1']


def test_unmanaged_host_routes_on_lo():
    addresses = {'lo': [('127.0.0.1', 8), ('::1', 128), ('127.0.0.2', 32), ('192.0.2.10', 32), ('192.0.2.99', 32),
                        ('198.51.100.1', 32), ('203.0.113.0', 24)], 'eth0': [('192.0.2.50', 32)]}
    found = m.unmanaged_host_routes(addresses, ['192.0.2.10'], [('198.51.100.1', 32, 'lo')])
    # Loopback, the VIP, the recorded one and a non-host route are not reported; eth0 is not looked at.
    assert found == ['192.0.2.99/32']
    assert m.unmanaged_host_routes({'lo': [('2001:db8::7', 128)]}, [], None) == ['2001:db8::7/128']


def test_compare_boot_director_and_ip_forward():
    explicit = {'net/ipv4/conf/all/arp_ignore': ('0', '/etc/sysctl.d/90-x.conf:1'),
                'net/ipv4/conf/eth0/arp_ignore': ('1', '/etc/sysctl.d/99-y.conf:4')}
    rows, drift = m.compare_boot('director', ['lo', 'eth0'], (explicit, [], set()), ip_forward=True)
    assert [row['ok'] for row in rows] == [True, False]
    assert drift == ['at boot, effective arp_ignore on eth0 would be 1, expected 0: all=0 (/etc/sysctl.d/90-x.conf:1), '
                     'eth0=1 (/etc/sysctl.d/99-y.conf:4)',
                     'at boot, net.ipv4.ip_forward would be 0 (kernel default), expected 1']


def test_input_errors_and_host_interfaces(fake_root):
    params = dict(vips=['192.0.2.1', '10.1.2.300'], interfaces=['eth0', 'eth7', 'bad name'], vip_interface='',
                  include_default_interface=True)
    errors = m.input_errors(params)
    assert len(errors) == 2 and errors[0].startswith('vips[1]') and errors[1].startswith('interfaces[2]')
    assert m.input_errors(dict(params, vips=[], interfaces=[], vip_interface='x/y'))[0].startswith('vip_interface')
    params.update(interfaces=['eth7'])
    assert m.host_interfaces(params, fake_root.path) == ('eth0', ['lo', 'eth0'], ['eth7'])
    assert m.host_interfaces(dict(params, include_default_interface=False), fake_root.path) == ('eth0', ['lo'], ['eth7'])
