# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host-address (VIP) helpers: validation, ``ip -json`` parsing and the persisted batch file."""

from __future__ import annotations

import ipaddress
import json
import os
import re

from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed, read_text, write_atomic
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


def _entry_text(entry):
    return '%s/%d dev %s' % entry


def _live_entries(module, ip):
    rc, out, err = module.run_command([ip, '-json', 'address', 'show'])
    if rc != 0:
        raise StepFailed('ip -json address show failed: %s' % err.strip())
    return parse_ip_json(out)


def _foreign_holders(desired, previous, live):
    """Messages for VIPs that a NIC already holds as its own address: another prefix length, or another device,
    not through an entry of our record. Taking such an address over would delete the NIC's address (and its
    subnet and default routes with it)."""
    ours = set(previous) | set(desired)
    problems = []
    for addr, _plen, _dev in desired:
        for ldev, addrs in sorted(live.items()):
            for laddr, lplen in addrs:
                if laddr == addr and (laddr, lplen, ldev) not in ours:
                    problems.append('addresses: %s is already an address of %s (%s/%d); a VIP must be an address '
                                    'that no NIC holds, refusing to take it over' % (addr, ldev, laddr, lplen))
    return problems


def _apply(module, ip, steps):
    """Run the ``ip address`` steps in order; on a failure, undo the done ones in reverse. Returns None, or
    (the failed step's message, [undo failures])."""
    done = []
    for verb, (addr, plen, dev) in steps:
        rc, _out, err = module.run_command([ip, 'address', verb, '%s/%d' % (addr, plen), 'dev', dev])
        if rc != 0:
            undo_errors = []
            for done_verb, (daddr, dplen, ddev) in reversed(done):
                back = 'add' if done_verb == 'del' else 'del'
                rc2, _o, err2 = module.run_command([ip, 'address', back, '%s/%d' % (daddr, dplen), 'dev', ddev])
                if rc2 != 0:
                    undo_errors.append('ip address %s %s/%d dev %s: %s' % (back, daddr, dplen, ddev, err2.strip()))
            return 'ip address %s %s/%d dev %s failed: %s' % (verb, addr, plen, dev, err.strip()), undo_errors
        done.append((verb, (addr, plen, dev)))
    return None


def converge(module, addresses, interface, path, header):
    """Make ``interface`` hold exactly ``addresses`` (host routes) among the ones this collection manages, recorded
    in the ``ip -batch`` file ``path``; in check mode only compare. Returns the result (changed, added, removed,
    addresses, file_changed, diff); failures raise StepFailed, with what the host then holds.

    All or nothing, and the record always covers what is on the host: first a record of everything that may be
    held during the change (what we held plus what we add), then the steps, then the final record. A failed step
    undoes the done ones, and the record is rewritten from what the host then holds.
    """
    errors = address_errors(addresses, 'addresses') + interface_errors([interface], 'interface')
    if errors:
        raise StepFailed('; '.join(errors))

    old_text = read_text(path)
    try:
        previous = parse_batch(old_text) if old_text else []
    except AddressError as exc:
        raise StepFailed('%s: %s; refusing to guess which addresses are managed' % (path, exc)) from exc

    ip = module.get_bin_path('ip', required=True)
    live = _live_entries(module, ip)
    if interface not in live:
        raise StepFailed('interface %s does not exist on this host' % interface)

    desired = []
    for address in addresses:
        addr, plen = host_cidr(address).split('/')
        desired.append((addr, int(plen), interface))
    problems = _foreign_holders(desired, previous, live)
    if problems:
        raise StepFailed('; '.join(problems))
    desired_keys = {(a, d) for a, _p, d in desired}

    def is_live(entry):
        return (entry[0], entry[1]) in live.get(entry[2], [])

    removals = [e for e in previous if (e[0], e[2]) not in desired_keys and is_live(e)]
    # A managed VIP held with another prefix length on its device (only ours: foreign ones were refused).
    removals += [(a, p, d) for a, plen, d in desired for la, p in live[d] if la == a and p != plen
                 and (a, p, d) in previous]
    additions = [e for e in desired if not is_live(e)]

    new_text = render_batch(desired, header)
    file_changed = old_text != new_text
    managed_before = [_entry_text(e) for e in previous if is_live(e)]
    result = dict(
        changed=bool(additions or removals or file_changed),
        added=[_entry_text(e) for e in additions],
        removed=[_entry_text(e) for e in removals],
        addresses=['%s/%d' % (a, p) for a, p, _d in desired],
        file_changed=file_changed,
        diff=[
            dict(before_header='live addresses', after_header='live addresses',
                 before=''.join(line + '\n' for line in managed_before),
                 after=''.join(_entry_text(e) + '\n' for e in desired)),
            dict(before_header=path, after_header=path, before=old_text or '', after=new_text),
        ],
    )
    if module.check_mode or not result['changed']:
        return result

    covering = [e for e in previous if is_live(e)] + [e for e in additions if e not in previous]
    if additions:
        try:
            write_atomic(module, path, render_batch(covering, header), 0o644)
        except OSError as exc:
            result.update(changed=False, added=[], removed=[])
            raise StepFailed('cannot write %s (%s); no address was changed' % (path, exc), result) from exc
    failure = _apply(module, ip, [('del', e) for e in removals] + [('add', e) for e in additions])
    if failure:
        message, undo_errors = failure
        live = _live_entries(module, ip)
        held = [e for e in covering + removals if is_live(e)]
        held = [e for i, e in enumerate(held) if e not in held[:i]]
        if held or old_text is not None:
            write_atomic(module, path, render_batch(held, header), 0o644)
        elif os.path.exists(path):
            os.unlink(path)
        state = ('the previous addresses are back' if not undo_errors else
                 'undoing failed too (%s); the record lists what the host holds now' % '; '.join(undo_errors))
        result.update(changed=bool(undo_errors), added=[], removed=[], held=[_entry_text(e) for e in held])
        raise StepFailed('%s; %s' % (message, state), result)
    if file_changed:
        try:
            write_atomic(module, path, new_text, 0o644)
        except OSError as exc:
            raise StepFailed('the addresses were changed, but %s could not be rewritten (%s): it still lists '
                             'every address this module may hold; run again to finish' % (path, exc), result) from exc
    return result
