# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ipvs_tables import EXPECTED, IPVSADM, PROC

from ansible_collections.opsnotes.edge.plugins.module_utils import _ipvs


def test_both_formats_read_the_same_table():
    proc, ipvsadm = _ipvs.parse(PROC, True), _ipvs.parse(IPVSADM, False)
    assert proc == ipvsadm
    assert [_ipvs.key(s) for s in proc] == ['TCP 172.29.213.200:80', 'TCP [2001:db8::1]:443', 'FWM 1',
                                            'UDP 172.29.213.200:53']
    first = proc[0]
    settings = (first['scheduler'], first['persistent'], first['netmask'], first['ops'])
    assert settings == ('wlc', 300, '255.255.255.255', False)
    assert first['real_servers'][1] == dict(address='172.29.213.12', port=80, forward='dr', weight=1, active=3,
                                            inactive=12)
    assert proc[2]['netmask'] == '255.255.255.0' and proc[3]['ops'] is True and proc[1]['persistent'] is None


def test_a_table_as_expected_has_no_drift():
    for text, hexadecimal in ((PROC, True), (IPVSADM, False)):
        table = _ipvs.parse(text, hexadecimal)
        assert _ipvs.compare(EXPECTED, table) == []
        assert _ipvs.extra(EXPECTED, table) == ['UDP 172.29.213.200:53']


def changed(**edits):
    expected = [dict(service) for service in EXPECTED]
    expected[0].update(edits)
    return _ipvs.compare(expected, _ipvs.parse(PROC, True))


@pytest.mark.parametrize('edits, drift', [
    (dict(scheduler='rr'), ['TCP 172.29.213.200:80: scheduler wlc, not rr']),
    (dict(persistent=None), ['TCP 172.29.213.200:80: persistence 300, not off']),
    (dict(port=8080), ['TCP 172.29.213.200:8080: not in the table']),
    (dict(forward='nat'), ['TCP 172.29.213.200:80 -> 172.29.213.11:80: forwarding dr, not nat',
                           'TCP 172.29.213.200:80 -> 172.29.213.12:80: forwarding dr, not nat']),
    (dict(real_servers=[dict(address='172.29.213.11', weight=5)]),
     ['TCP 172.29.213.200:80 -> 172.29.213.11:80: weight 1, not 5',
      'TCP 172.29.213.200:80 -> 172.29.213.12:80: in the table, not expected']),
    (dict(real_servers=[dict(address='172.29.213.11'), dict(address='172.29.213.12'), dict(address='172.29.213.13')]),
     ['TCP 172.29.213.200:80 -> 172.29.213.13:80: not in the table (its health check fails, or it was never added)']),
])
def test_each_difference_is_named(edits, drift):
    assert changed(**edits) == drift


def test_an_empty_table_and_unreadable_lines():
    assert _ipvs.parse('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n'
                       '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n', True) == []
    assert _ipvs.compare(EXPECTED[:1], []) == ['TCP 172.29.213.200:80: not in the table']
    with pytest.raises(_ipvs.ParseError, match=r"line 1 \('-> AC1DD50B:0050 Route 1 0 0'\): a real server outside"):
        _ipvs.parse('  -> AC1DD50B:0050 Route 1 0 0\n', True)
    with pytest.raises(_ipvs.ParseError, match="unknown protocol 'ICMP'"):
        _ipvs.parse('ICMP  AC1DD5C8:0050 rr\n', True)
    with pytest.raises(_ipvs.ParseError, match="'nonsense' is not ADDRESS:PORT"):
        _ipvs.parse('TCP  nonsense rr\n', False)
    assert _ipvs.parse('TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB rr persistent 60 00000080\n',
                       True)[0]['netmask'] == '/128'


THRESHOLDS = (
    'IP Virtual Server version 1.2.1 (size=4096)\n'
    'Prot LocalAddress:Port Scheduler Flags\n'
    '  -> RemoteAddress:Port           Uthreshold Lthreshold ActiveConn InActConn\n'
    'TCP  172.29.213.200:80 wlc persistent 300\n'
    '  -> 172.29.213.11:80             100        50         0          0         \n'
    'TCP  [2001:db8::1]:443 rr\n'
    '  -> [2001:db8::10]:443           0          0          0          0         \n'
    'FWM  1 wrr persistent 60 mask 255.255.255.0\n'
    '  -> 172.29.213.11:0              7          0          0          0         \n'
)


def test_thresholds_are_read_per_service_and_real_server():
    assert _ipvs.thresholds(THRESHOLDS) == {
        ('TCP 172.29.213.200:80', '172.29.213.11', 80): (100, 50),
        ('TCP [2001:db8::1]:443', '2001:db8::10', 443): (0, 0),
        ('FWM 1', '172.29.213.11', 0): (7, 0)}
    for bad in ('  -> 10.0.0.1:80 1 2 3 4\n', 'ICMP  10.0.0.1:80 rr\n', 'TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 x y\n'):
        with pytest.raises(_ipvs.ParseError):
            _ipvs.thresholds(bad)


def test_an_edit_gives_back_what_ipvsadm_would_reset():
    table = _ipvs.parse(IPVSADM, False)
    assert _ipvs.edit_argv(table[0], table[0]['real_servers'][1], 0, 100, 50) == [
        '-e', '-t', '172.29.213.200:80', '-r', '172.29.213.12:80', '-g', '-w', '0', '-x', '100', '-y', '50']
    assert _ipvs.edit_argv(table[1], dict(table[1]['real_servers'][0], forward='nat'), 4) == [
        '-e', '-t', '[2001:db8::1]:443', '-r', '[2001:db8::10]:443', '-m', '-w', '4', '-x', '0', '-y', '0']
    assert _ipvs.edit_argv(table[2], dict(table[2]['real_servers'][0], forward='tun'), 2)[:6] == [
        '-e', '-f', '1', '-r', '172.29.213.11:0', '-i']
    udp = dict(protocol='UDP', address='10.0.0.1', port=53, fwmark=None)
    assert _ipvs.edit_argv(udp, dict(address='10.0.0.2', port=53, forward='local'), 1)[1:3] == ['-u', '10.0.0.1:53']
    with pytest.raises(ValueError, match='forwarding bypass cannot be edited'):
        _ipvs.edit_argv(udp, dict(address='10.0.0.2', port=53, forward='bypass'), 1)


def test_from_keepalived_applies_keepalived_defaults():
    reals = [dict(address='10.0.0.1', check=dict(type='TCP_CHECK')), dict(address='10.0.0.2', port=8443, weight=0)]
    services = _ipvs.from_keepalived([
        dict(address='192.0.2.10', port=443, real_servers=reals),
        dict(fwmark=7, protocol='udp', lb_algo='rr', lb_kind='NAT', persistence_timeout=60)])
    assert services == [
        dict(protocol='TCP', scheduler='wlc', persistent=None, forward='dr', address='192.0.2.10', port=443,
             real_servers=[dict(address='10.0.0.1', port=None, weight=1), dict(address='10.0.0.2', port=8443, weight=0)]),
        dict(protocol='UDP', scheduler='rr', persistent=60, forward='nat', fwmark=7, real_servers=[])]


def test_compare_with_down_lists_missing_real_servers_apart():
    table = _ipvs.parse('TCP  192.0.2.10:443 wlc\n  -> 10.0.0.1:443 Route 1 0 0\n', False)
    expected = _ipvs.from_keepalived([dict(address='192.0.2.10', port=443,
                                           real_servers=[dict(address='10.0.0.1'), dict(address='10.0.0.2')])])
    down = []
    assert _ipvs.compare(expected, table, down=down) == [] and down == ['TCP 192.0.2.10:443 -> 10.0.0.2:443']
    # Control: without the list, the missing server is drift, as ipvs_check reports it.
    assert _ipvs.compare(expected, table) == [
        'TCP 192.0.2.10:443 -> 10.0.0.2:443: not in the table (its health check fails, or it was never added)']
