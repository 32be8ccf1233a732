# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LVS direct-routing model: what each mode expects, and the comparison with live state."""

from __future__ import annotations

import ipaddress

from ansible_collections.opsnotes.edge.plugins.module_utils import _quote
from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import (
    address_errors,
    host_cidr,
    interface_errors,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl import (
    conf_key,
    default_route_interface,
    effective,
    list_interfaces,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl_boot import boot_value

# The options lvs_dr_config and lvs_dr_check share: what the host should be.
HOST_ARGS = dict(
    mode=dict(type='str', required=True, choices=['director', 'realserver']),
    vips=dict(type='list', elements='str', default=[]),
    vip_interface=dict(type='str', default='lo'),
    interfaces=dict(type='list', elements='str', default=[]),
    include_default_interface=dict(type='bool', default=True),
    rp_filter=dict(type='int', choices=[0, 1, 2]),
    ip_forward=dict(type='bool'),
)

# LVS-DR: real servers must never answer ARP for the VIP they hold on lo, nor use it as the
# source of their own ARP requests; the director keeps the kernel defaults.
MODE_ARP = {
    'realserver': {'arp_ignore': 1, 'arp_announce': 2},
    'director': {'arp_ignore': 0, 'arp_announce': 0},
}


def input_errors(params):
    """The errors of the HOST_ARGS options that name addresses and interfaces."""
    errors = address_errors(params['vips'], 'vips') + interface_errors(params['interfaces'], 'interfaces')
    if params['vip_interface']:
        errors += interface_errors([params['vip_interface']], 'vip_interface')
    return errors


def host_interfaces(params, root='/'):
    """(the default route's NIC or None, the managed interfaces that exist, lo first, the ones that do not)."""
    default_iface = default_route_interface(root)
    wanted = resolve_interfaces(params['interfaces'], default_iface, params['include_default_interface'])
    present = set(list_interfaces(root))
    return (default_iface, [name for name in wanted if name in present],
            [name for name in wanted if name not in present])


def resolve_interfaces(extra, default_iface, include_default=True):
    """``lo`` first, then the default-route NIC, then the extra NICs, without duplicates."""
    names = ['lo']
    if include_default and default_iface:
        names.append(default_iface)
    for name in extra:
        if name not in names:
            names.append(name)
    return names


def expected_sysctls(mode, interfaces, rp_filter=None, ip_forward=None):
    """Ordered {key: value} for ``all`` and every interface (``lo`` included by the caller)."""
    values = {}
    for iface in ['all'] + [i for i in interfaces if i != 'all']:
        for name, value in MODE_ARP[mode].items():
            values[conf_key('ipv4', iface, name)] = str(value)
    if rp_filter is not None:
        for iface in ['all'] + [i for i in interfaces if i not in ('all', 'lo')]:
            values[conf_key('ipv4', iface, 'rp_filter')] = str(rp_filter)
    if ip_forward is not None:
        values['net.ipv4.ip_forward'] = '1' if ip_forward else '0'
    return values


def compare_sysctls(expected, live, persisted):
    """Per key: expected, live, persisted (None when no file is compared), ok; plus drift messages."""
    rows, drift = [], []
    for key, want in expected.items():
        have = live.get(key)
        saved = None if persisted is None else persisted.get(key)
        ok = have == want and (persisted is None or saved == want)
        rows.append(dict(key=key, expected=want, live=have, persisted=saved, ok=ok))
        if have != want:
            drift.append('%s is %s live, expected %s' % (key, 'absent' if have is None else have, want))
        if persisted is not None and saved != want:
            drift.append('%s is %s in the persisted file, expected %s'
                         % (key, 'absent' if saved is None else saved, want))
    return rows, drift


def max_rule_keys(mode, interfaces, rp_filter=None):
    """Per interface, the (name, wanted value) pairs that the kernel's max(conf/all, conf/IFACE) rule decides:
    the mode's ARP settings, and rp_filter when it is checked (not on lo)."""
    want = dict(MODE_ARP[mode])
    if rp_filter is not None:
        want['rp_filter'] = rp_filter
    for iface in interfaces:
        yield iface, [(name, value) for name, value in want.items() if not (name == 'rp_filter' and iface == 'lo')]


def compare_effective(mode, interfaces, live, rp_filter=None):
    """Apply the kernel's max(conf/all, conf/IFACE) rule for every interface."""
    rows, drift = [], []
    for iface, pairs in max_rule_keys(mode, interfaces, rp_filter):
        row = dict(interface=iface, ok=True)
        for name, value in pairs:
            eff = effective(live.get(conf_key('ipv4', 'all', name)), live.get(conf_key('ipv4', iface, name)))
            row[name] = eff
            row['expected_' + name] = value
            if eff != value:
                row['ok'] = False
                drift.append('effective %s on %s is %s (max of all and %s), expected %s'
                             % (name, iface, eff, iface, value))
        rows.append(row)
    return rows, drift


def compare_vips(mode, vips, vip_interface, addresses, persisted_entries):
    """Per VIP: present on vip_interface as a host route, persisted, and where else it is held.

    ``addresses`` is the parsed ``ip -json address`` output; ``persisted_entries`` the parsed
    batch file (or None when not compared).
    """
    rows, drift = [], []
    persisted = None if persisted_entries is None else set(persisted_entries)
    for vip in vips:
        cidr = host_cidr(vip)
        addr, plen = cidr.split('/')
        plen = int(plen)
        held = [p for a, p in addresses.get(vip_interface, []) if a == addr]
        elsewhere = sorted(dev for dev, addrs in addresses.items()
                           if dev != vip_interface and any(a == addr for a, _p in addrs))
        row = dict(address=addr, cidr=cidr, interface=vip_interface, present=bool(held), host_route=plen in held,
                   persisted=None if persisted is None else (addr, plen, vip_interface) in persisted,
                   also_on=elsewhere)
        problems = []
        if not held:
            problems.append('VIP %s is not on %s' % (addr, vip_interface))
        elif plen not in held:
            problems.append('VIP %s is on %s as /%s, expected the host route %s' % (addr, vip_interface, held[0], cidr))
        if row['persisted'] is False:
            problems.append('VIP %s is not in the persisted VIP file' % addr)
        if mode == 'realserver' and elsewhere:
            problems.append('VIP %s is also on %s: this real server would answer ARP for it'
                            % (addr, ', '.join(elsewhere)))
        row['ok'] = not problems
        drift.extend(problems)
        rows.append(row)
    return rows, drift


def unmanaged_host_routes(addresses, vips, persisted_entries, interface='lo'):
    """Host routes (/32, /128) on ``interface`` that are neither loopback nor a VIP nor in the record: what a VIP
    change that nothing records any more would leave behind."""
    known = {host_cidr(v).split('/')[0] for v in vips} | {a for a, _p, _d in persisted_entries or []}
    found = []
    for addr, plen in addresses.get(interface, []):
        ip = ipaddress.ip_address(addr)
        if plen == ip.max_prefixlen and not ip.is_loopback and addr not in known:
            found.append('%s/%d' % (addr, plen))
    return found


def compare_boot(mode, interfaces, assignments, rp_filter=None, ip_forward=None):
    """What the next boot gives the checked keys (``assignments`` from _sysctl_boot.boot_assignments), under the
    kernel's max(conf/all, conf/IFACE) rule; a key nothing sets keeps the kernel default 0. Drift names the files
    whose assignments make the effective value wrong: a later file that leaves the max rule satisfied is no drift."""
    rows, drift = [], []
    for iface, pairs in max_rule_keys(mode, interfaces, rp_filter):
        row = dict(interface=iface, ok=True)
        for name, value in pairs:
            all_value, all_where = boot_value(conf_key('ipv4', 'all', name), assignments)
            if_value, if_where = boot_value(conf_key('ipv4', iface, name), assignments)
            eff = effective(all_value or '0', if_value or '0')
            row[name] = eff
            if eff != value:
                row['ok'] = False
                sources = ['all=%s (%s)' % (all_value or '0', all_where or 'kernel default'),
                           '%s=%s (%s)' % (iface, if_value or '0', if_where or 'kernel default')]
                drift.append('at boot, effective %s on %s would be %s, expected %s: %s'
                             % (name, iface, eff, value, ', '.join(sources)))
        rows.append(row)
    if ip_forward is not None:
        value, where = boot_value('net.ipv4.ip_forward', assignments)
        wanted = '1' if ip_forward else '0'
        if (value or '0') != wanted:
            drift.append('at boot, net.ipv4.ip_forward would be %s (%s), expected %s'
                         % (value or '0', where or 'kernel default', wanted))
    return rows, drift


def render_vip_unit(vip_file, header):
    """The boot unit that replays the VIP record ``vip_file`` with ``ip -force -batch``, after systemd-sysctl has
    applied the ARP settings (a real server must never hold a VIP while it could still answer ARP for it)."""
    return ''.join(line + '\n' for line in [
        '# %s' % header,
        '# Restores the LVS-DR VIPs listed in %s at boot, after systemd-sysctl has applied'
        % _quote.systemd_value(vip_file),
        '# the ARP settings, so a real server never holds a VIP while it could still answer ARP for it.',
        '[Unit]',
        'Description=LVS-DR virtual IPs (opsnotes.edge.lvs_dr)',
        'After=systemd-sysctl.service',
        'Wants=systemd-sysctl.service',
        'Before=network.target',
        'ConditionPathExists=%s' % _quote.systemd_path(vip_file),
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=/sbin/ip -force -batch %s' % _quote.systemd_exec_arg(vip_file),
        '',
        '[Install]',
        'WantedBy=multi-user.target',
    ])
