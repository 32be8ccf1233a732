# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host-address (VIP) helpers: validation, ``ip -json`` parsing and the persisted batch file."""

from __future__ import annotations

import ipaddress
import json
import re

from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe, ip_address, ip_network
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl import valid_interface_name

BATCH_LINE_RE = re.compile(r'address\s+replace\s+(?P<cidr>\S+)\s+dev\s+(?P<dev>\S+)')


class AddressError(Exception):
    """A malformed address, interface or persisted address file."""


def parse_host_address(value):
    """Validate a VIP: an IPv4/IPv6 address without a prefix length or a scope; returns its compressed form."""
    try:
        return ip_address(value)
    except Unsafe as exc:
        raise AddressError(str(exc)) from None


def host_cidr(address):
    """``address`` as a host route: /32 for IPv4, /128 for IPv6."""
    ip = ipaddress.ip_address(address)
    return '%s/%d' % (ip, ip.max_prefixlen)


def address_errors(values, var_name, networks=False):
    """Messages naming ``var_name[i]`` for each invalid or duplicated address in ``values``; with ``networks``,
    CIDR networks are valid too."""
    errors, seen = [], {}
    if not isinstance(values, list):
        return ['%s must be a list of IP addresses%s, got %r' % (var_name, ' or networks' if networks else '', values)]
    for index, value in enumerate(values):
        try:
            address = ip_network(value) if networks else parse_host_address(value)
        except (AddressError, Unsafe) as exc:
            errors.append('%s[%d]: %s' % (var_name, index, exc))
            continue
        if address in seen:
            errors.append('%s[%d]: %r duplicates %s[%d]' % (var_name, index, value, var_name, seen[address]))
        else:
            seen[address] = index
    return errors


def interface_errors(values, var_name):
    errors, seen = [], set()
    if not isinstance(values, list):
        return ['%s must be a list of interface names, got %r' % (var_name, values)]
    for index, value in enumerate(values):
        if not valid_interface_name(value):
            errors.append('%s[%d]: %r is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ . -, '
                          'not starting with . or -)' % (var_name, index, value))
        elif value in seen:
            errors.append('%s[%d]: %r is listed twice' % (var_name, index, value))
        seen.add(value)
    return errors


def parse_ip_json(text):
    """``ip -json address show`` output -> {ifname: [(address, prefixlen), ...]}."""
    result = {}
    for link in json.loads(text or '[]'):
        addrs = result.setdefault(link.get('ifname'), [])
        for info in link.get('addr_info', []):
            if 'local' in info:
                addrs.append((str(ipaddress.ip_address(info['local'])), int(info.get('prefixlen', 0))))
    return result


def parse_batch(text):
    """Persisted ``ip -batch`` file -> ordered list of (address, prefixlen, dev)."""
    entries = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        match = BATCH_LINE_RE.fullmatch(line)
        if not match:
            raise AddressError('line %d is not "address replace ADDR/LEN dev IFACE": %r' % (lineno, raw))
        try:
            iface = ipaddress.ip_interface(match.group('cidr'))
        except ValueError:
            raise AddressError('line %d: bad address %r' % (lineno, match.group('cidr'))) from None
        entries.append((str(iface.ip), iface.network.prefixlen, match.group('dev')))
    return entries


def render_batch(entries, header=None):
    lines = ['# ' + line for line in (header or '').splitlines()]
    lines.extend('address replace %s/%d dev %s' % entry for entry in entries)
    return '\n'.join(lines) + '\n'
