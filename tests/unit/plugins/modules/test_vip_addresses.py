# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from conftest import FakeIp

from ansible_collections.opsnotes.edge.plugins.module_utils import _addresses
from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import parse_batch
from ansible_collections.opsnotes.edge.plugins.modules import vip_addresses

LIVE = {'lo': [('127.0.0.1', 8)], 'eth0': [('172.17.0.2', 16)]}


def test_adds_host_routes_persists_then_idempotent(run_module, tmp_path):
    path = str(tmp_path / 'vips.batch')
    ip = FakeIp(LIVE)
    args = dict(addresses=['192.0.2.10', '2001:db8::10'], path=path)
    result, failed = run_module(vip_addresses, args, run_command=ip)
    assert not failed and result['changed']
    assert result['added'] == ['192.0.2.10/32 dev lo', '2001:db8::10/128 dev lo']
    assert ['address', 'add', '192.0.2.10/32', 'dev', 'lo'] in ip.calls
    assert ('192.0.2.10', 32) in ip.addresses['lo']
    assert parse_batch(open(path).read()) == [('192.0.2.10', 32, 'lo'), ('2001:db8::10', 128, 'lo')]

    ip.calls = []
    result, failed = run_module(vip_addresses, args, run_command=ip)
    assert not failed and not result['changed'] and result['added'] == [] and result['removed'] == []
    assert ip.calls == [['-json', 'address', 'show']]


def test_dropped_vip_is_removed_and_unmanaged_left_alone(run_module, tmp_path):
    path = str(tmp_path / 'vips.batch')
    live = dict(LIVE, lo=[('127.0.0.1', 8), ('192.0.2.10', 32), ('192.0.2.11', 32), ('198.51.100.1', 32)])
    (tmp_path / 'vips.batch').write_text('address replace 192.0.2.10/32 dev lo\naddress replace 192.0.2.11/32 dev lo\n')
    ip = FakeIp(live)
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.10'], path=path), run_command=ip)
    assert not failed and result['removed'] == ['192.0.2.11/32 dev lo'] and result['added'] == []
    assert ('192.0.2.11', 32) not in ip.addresses['lo']
    assert ('198.51.100.1', 32) in ip.addresses['lo']      # never managed by us: kept
    assert parse_batch(open(path).read()) == [('192.0.2.10', 32, 'lo')]


def test_empty_list_removes_all_managed_and_moves_between_interfaces(run_module, tmp_path):
    path = str(tmp_path / 'vips.batch')
    (tmp_path / 'vips.batch').write_text('address replace 192.0.2.10/32 dev lo\n')
    ip = FakeIp(dict(LIVE, lo=[('127.0.0.1', 8), ('192.0.2.10', 32)]))
    args = dict(addresses=['192.0.2.10'], interface='eth0', path=path)
    result, failed = run_module(vip_addresses, args, run_command=ip)
    assert result['removed'] == ['192.0.2.10/32 dev lo'] and result['added'] == ['192.0.2.10/32 dev eth0']
    result, failed = run_module(vip_addresses, dict(addresses=[], interface='eth0', path=path), run_command=ip)
    assert result['removed'] == ['192.0.2.10/32 dev eth0'] and ip.addresses['eth0'] == [('172.17.0.2', 16)]


def test_an_address_a_nic_holds_is_refused_not_taken_over(run_module, tmp_path):
    # The director's own address as a VIP: deleting 172.17.0.2/16 from eth0 would take its subnet and default
    # route with it. Refused before any change, on the same device (another prefix) and on another one.
    for interface, held in (('eth0', ('172.17.0.2', 16)), ('lo', ('127.0.0.1', 8))):
        ip = FakeIp(LIVE)
        result, failed = run_module(vip_addresses, dict(addresses=[held[0]], interface=interface,
                                                        path=str(tmp_path / 'v')), run_command=ip)
        assert failed and 'is already an address of' in result['msg'] and '%s/%d' % held in result['msg']
        assert ip.calls == [['-json', 'address', 'show']] and ip.addresses == LIVE
    ip = FakeIp(LIVE)
    result, failed = run_module(vip_addresses, dict(addresses=['172.17.0.2'], path=str(tmp_path / 'v')), run_command=ip)
    assert failed and 'already an address of eth0 (172.17.0.2/16)' in result['msg'] and not (tmp_path / 'v').exists()


def test_a_managed_vip_with_another_prefix_is_replaced_by_the_host_route(run_module, tmp_path):
    (tmp_path / 'v').write_text('address replace 192.0.2.10/24 dev lo\n')
    ip = FakeIp(dict(LIVE, lo=[('127.0.0.1', 8), ('192.0.2.10', 24)]))
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.10'], path=str(tmp_path / 'v')), run_command=ip)
    assert result['removed'] == ['192.0.2.10/24 dev lo'] and result['added'] == ['192.0.2.10/32 dev lo']
    assert ip.addresses['lo'] == [('127.0.0.1', 8), ('192.0.2.10', 32)]


def test_check_mode_and_diff(run_module, tmp_path):
    path = tmp_path / 'vips.batch'
    ip = FakeIp(LIVE)
    args = dict(addresses=['192.0.2.10'], path=str(path))
    result, failed = run_module(vip_addresses, args, run_command=ip, check_mode=True)
    assert not failed and result['changed'] and result['added'] == ['192.0.2.10/32 dev lo']
    assert ip.calls == [['-json', 'address', 'show']] and not path.exists()
    live_diff, file_diff = result['diff']
    assert live_diff['before'] == '' and live_diff['after'] == '192.0.2.10/32 dev lo\n'
    assert 'address replace 192.0.2.10/32 dev lo' in file_diff['after']


def test_bad_input_refused_before_any_command(run_module, tmp_path):
    ip = FakeIp(LIVE)
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.1/32', '192.0.2.2', '192.0.2.2'],
                                                    interface='lo; reboot', path=str(tmp_path / 'v')), run_command=ip)
    assert failed and ip.calls == []
    assert "addresses[0]: '192.0.2.1/32'" in result['msg']
    assert "addresses[2]: '192.0.2.2' duplicates addresses[1]" in result['msg']
    assert "interface[0]: 'lo; reboot' is not a valid interface name" in result['msg']


def test_missing_interface_and_foreign_file_refused(run_module, tmp_path):
    ip = FakeIp(LIVE)
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.1'], interface='eth9',
                                                    path=str(tmp_path / 'v')), run_command=ip)
    assert failed and result['msg'] == 'interface eth9 does not exist on this host'
    foreign = tmp_path / 'foreign'
    foreign.write_text('route add default via 192.0.2.1\n')
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.1'], path=str(foreign)), run_command=ip)
    assert failed and 'refusing to guess' in result['msg'] and foreign.read_text().startswith('route')


def test_ip_failure_reported_and_file_not_written(run_module, tmp_path):
    path = tmp_path / 'vips.batch'
    ip = FakeIp(LIVE, fail_on=['add', '192.0.2.10/32', 'dev', 'lo'])
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.10'], path=str(path)), run_command=ip)
    assert failed and 'Operation not permitted' in result['msg'] and not path.exists()
    assert ip.addresses == LIVE


class FailNth(FakeIp):
    """``ip`` that fails its n-th address change (counting from 1), and optionally every undo after it."""

    def __init__(self, addresses, nth, undo_fails=False):
        super().__init__(addresses)
        self.nth, self.changes, self.undo_fails = nth, 0, undo_fails

    def __call__(self, argv, **kwargs):
        if argv[1] == 'address' and argv[2] in ('add', 'del'):
            self.changes += 1
            if self.changes == self.nth or (self.undo_fails and self.changes > self.nth):
                self.calls.append(argv[1:])
                return 2, '', 'RTNETLINK answers: File exists'
        return super().__call__(argv, **kwargs)


def test_a_fault_at_every_step_leaves_the_old_state_and_a_matching_record(run_module, tmp_path):
    # Before: 192.0.2.1 and .2 managed; after: .2 and .3, .4 (one removal, two additions: three steps).
    live = dict(LIVE, lo=[('127.0.0.1', 8), ('192.0.2.1', 32), ('192.0.2.2', 32)])
    old = 'address replace 192.0.2.1/32 dev lo\naddress replace 192.0.2.2/32 dev lo\n'
    for nth in (1, 2, 3):
        path = tmp_path / ('v%d' % nth)
        path.write_text(old)
        ip = FailNth(live, nth)
        result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.2', '192.0.2.3', '192.0.2.4'],
                                                        path=str(path)), run_command=ip)
        assert failed and 'File exists' in result['msg'] and 'the previous addresses are back' in result['msg']
        assert sorted(ip.addresses['lo']) == sorted(live['lo']), nth       # the old state, whole
        assert sorted(parse_batch(path.read_text())) == [('192.0.2.1', 32, 'lo'), ('192.0.2.2', 32, 'lo')], nth
    # And without a fault: the new state and its record.
    path = tmp_path / 'v0'
    path.write_text(old)
    ip = FakeIp(live)
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.2', '192.0.2.3', '192.0.2.4'],
                                                    path=str(path)), run_command=ip)
    assert not failed and sorted(parse_batch(path.read_text())) == [('192.0.2.2', 32, 'lo'), ('192.0.2.3', 32, 'lo'),
                                                                    ('192.0.2.4', 32, 'lo')]


def test_when_undoing_fails_too_the_record_lists_what_the_host_holds(run_module, tmp_path):
    live = dict(LIVE, lo=[('127.0.0.1', 8), ('192.0.2.1', 32)])
    path = tmp_path / 'v'
    path.write_text('address replace 192.0.2.1/32 dev lo\n')
    ip = FailNth(live, 3, undo_fails=True)       # del .1 and add .3 succeed, add .4 fails, and so do the undos
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.3', '192.0.2.4'], path=str(path)),
                                run_command=ip)
    assert failed and 'undoing failed too' in result['msg']
    held = {(a, p) for a, p in ip.addresses['lo'] if a.startswith('192.0.2.')}
    assert held == {('192.0.2.3', 32)}
    assert {(a, p) for a, p, _d in parse_batch(path.read_text())} == held
    assert result['held'] == ['192.0.2.3/32 dev lo']


def test_an_unwritable_record_fails_before_any_address_changes(run_module, tmp_path, monkeypatch):
    def read_only(module, path, text, mode=0o644, owner=None, group=None):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(_addresses, 'write_atomic', read_only)
    ip = FakeIp(LIVE)
    result, failed = run_module(vip_addresses, dict(addresses=['192.0.2.10'], path=str(tmp_path / 'v')), run_command=ip)
    assert failed and 'Read-only file system' in result['msg'] and 'no address was changed' in result['msg']
    assert ip.addresses == LIVE and not result['changed']


def test_ip_show_failure(run_module, tmp_path):
    def broken(argv, **kwargs):
        return 1, '', 'Cannot open netlink socket'
    result, failed = run_module(vip_addresses, dict(addresses=[], path=str(tmp_path / 'v')), run_command=broken)
    assert failed and 'Cannot open netlink socket' in result['msg']
