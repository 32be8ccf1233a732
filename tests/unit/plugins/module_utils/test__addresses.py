# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _addresses as a


@pytest.mark.parametrize('value, expected', [
    ('192.0.2.10', '192.0.2.10'), ('2001:DB8:0:0::10', '2001:db8::10'), ('::1', '::1'),
])
def test_parse_host_address(value, expected):
    assert a.parse_host_address(value) == expected


@pytest.mark.parametrize('value, match', [
    ('192.0.2.10/32', 'no prefix length'), ('192.0.2.300', 'not a valid'), (' 192.0.2.1', 'no spaces'),
    ('', 'no spaces'), ('vip', 'not a valid'), (None, 'bare IP'), ('2001:db8::1/128', 'no prefix length'),
])
def test_parse_host_address_refuses(value, match):
    with pytest.raises(a.AddressError, match=match):
        a.parse_host_address(value)


def test_host_cidr():
    assert a.host_cidr('192.0.2.10') == '192.0.2.10/32'
    assert a.host_cidr('2001:db8::10') == '2001:db8::10/128'


def test_address_errors_names_variable_index_and_value():
    errors = a.address_errors(['192.0.2.1', '192.0.2.2/32', 'x', '192.0.2.1'], 'lvs_dr_vips')
    assert errors[0].startswith("lvs_dr_vips[1]: '192.0.2.2/32'")
    assert errors[1].startswith("lvs_dr_vips[2]: 'x'")
    assert errors[2] == "lvs_dr_vips[3]: '192.0.2.1' duplicates lvs_dr_vips[0]"
    assert a.address_errors(['2001:db8::1', '2001:DB8::1'], 'v') == ["v[1]: '2001:DB8::1' duplicates v[0]"]
    assert a.address_errors('192.0.2.1', 'v') == ["v must be a list of IP addresses, got '192.0.2.1'"]
    assert a.address_errors([], 'v') == []


def test_interface_errors():
    assert a.interface_errors(['eth0', 'eth0.100'], 'i') == []
    errors = a.interface_errors(['eth0', 'eth 1', 'eth0'], 'lvs_dr_interfaces')
    assert errors[0].startswith("lvs_dr_interfaces[1]: 'eth 1' is not a valid interface name")
    assert errors[1] == "lvs_dr_interfaces[2]: 'eth0' is listed twice"
    assert a.interface_errors('eth0', 'i') == ["i must be a list of interface names, got 'eth0'"]


def test_parse_ip_json():
    text = ('[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},'
            '{"family":"inet6","local":"::1","prefixlen":128}]},{"ifname":"eth0","addr_info":[]},'
            '{"ifname":"eth1"}]')
    assert a.parse_ip_json(text) == {'lo': [('127.0.0.1', 8), ('::1', 128)], 'eth0': [], 'eth1': []}
    assert a.parse_ip_json('') == {}


def test_batch_round_trip():
    entries = [('192.0.2.10', 32, 'lo'), ('2001:db8::10', 128, 'lo')]
    text = a.render_batch(entries, 'managed\nby us')
    assert text == ('# managed\n# by us\naddress replace 192.0.2.10/32 dev lo\n'
                    'address replace 2001:db8::10/128 dev lo\n')
    assert a.parse_batch(text) == entries


@pytest.mark.parametrize('text, match', [
    ('address add 192.0.2.1/32 dev lo\n', 'line 1 is not'),
    ('address replace 192.0.2.999/32 dev lo\n', 'bad address'),
    ('route add default via 1.2.3.4\n', 'line 1 is not'),
])
def test_parse_batch_refuses_foreign_content(text, match):
    with pytest.raises(a.AddressError, match=match):
        a.parse_batch(text)


def test_address_errors_with_networks():
    """The PROXY protocol sources of nginx_acme: addresses and CIDR networks, nothing else reaches a config."""
    values = ['192.0.2.1', '192.0.2.0/24', '10.0.0.5/8', '2001:DB8::/32', '192.0.2.1', 'lb.example.org',
              '192.0.2.0/33', '192.0.2.0/24;', '192.0.2.0/ 24', 'fe80::1%eth0/64', '192.0.2.0/24/8', 7]
    assert a.address_errors(values, 'src', networks=True) == [
        "src[4]: '192.0.2.1' duplicates src[0]",
        "src[5]: 'lb.example.org' is not an IP address or network: 'lb.example.org' is not a valid IPv4 or IPv6 address",
        "src[6]: '192.0.2.0/33': the prefix length must be at most 32",
        'src[7]: \'192.0.2.0/24;\': the prefix length after "/" must be a number',
        'src[8]: \'192.0.2.0/ 24\': the prefix length after "/" must be a number',
        'src[9]: \'fe80::1%eth0/64\' is not an IP address or network: \'fe80::1%eth0\' has a scope ("%..."); '
        'give the address alone',
        "src[10]: '192.0.2.0/24/8' is not an IP address or network (address/prefix length)",
        'src[11]: 7 is not an IP address or network (address/prefix length)']
    assert a.address_errors('192.0.2.0/24', 'src', networks=True) == [
        "src must be a list of IP addresses or networks, got '192.0.2.0/24'"]
