#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vip_addresses
short_description: Hold a set of virtual IPs as host routes on an interface, persisted for boot
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Makes the live addresses of O(interface) include exactly the managed set O(addresses), each as a host
    route (V(/32) for IPv4, V(/128) for IPv6), in one module call whatever the number of addresses.
  - The managed set is persisted in O(path) as an C(ip -batch) file (C(address replace ADDR/LEN dev IFACE) lines),
    which a boot-time unit can replay with C(ip -force -batch). The same file records what this module
    manages, so an address dropped from O(addresses) is removed from the host, and addresses it never
    managed are left alone.
  - "All input is validated before anything is changed. A VIP that a NIC already holds as its own address (another
    prefix length, or another interface) is refused: taking it over would delete that address, and the NIC's
    subnet and default routes with it."
  - "All or nothing: O(path) is first rewritten to cover every address that may be held during the change, then
    the C(ip) steps run, then O(path) gets the final set. When a step fails, the steps already done are undone and
    O(path) is rewritten from what the host then holds, so the record always lists every address the module
    manages on the host."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  addresses:
    description:
      - The IPv4/IPv6 addresses to hold, without prefix length. An empty list removes every managed address.
    type: list
    elements: str
    required: true
  interface:
    description:
      - Interface that holds the addresses. LVS-DR real servers hold their VIPs on V(lo).
    type: str
    default: lo
  path:
    description:
      - The persisted C(ip -batch) file. Previously managed addresses are read from it.
    type: path
    required: true
  header:
    description:
      - Comment written at the top of O(path).
    type: str
    default: Managed by Ansible (opsnotes.edge.vip_addresses). Replayed at boot with ip -force -batch.
requirements:
  - iproute2 (C(ip) with C(-json) support)
seealso:
  - module: opsnotes.edge.lvs_dr_check
"""

EXAMPLES = r"""
- name: Real server holds the VIPs on lo
  opsnotes.edge.vip_addresses:
    addresses: [192.0.2.10, "2001:db8::10"]
    interface: lo
    path: /etc/opsnotes/lvs_dr/vips.batch

- name: Remove every VIP this module added
  opsnotes.edge.vip_addresses:
    addresses: []
    path: /etc/opsnotes/lvs_dr/vips.batch
"""

RETURN = r"""
added:
  description: Addresses (with prefix length and interface) that were or would be added.
  returned: always
  type: list
  elements: str
  sample: ["192.0.2.10/32 dev lo"]
removed:
  description: Previously managed addresses that were or would be removed.
  returned: always
  type: list
  elements: str
  sample: ["192.0.2.99/32 dev lo"]
addresses:
  description: The managed set after the call, as C(ADDR/LEN).
  returned: always
  type: list
  elements: str
  sample: ["192.0.2.10/32", "2001:db8::10/128"]
file_changed:
  description: Whether O(path) was (or would be) rewritten.
  returned: always
  type: bool
held:
  description: After a failed step, the managed addresses the host holds (what O(path) now lists).
  returned: failure
  type: list
  elements: str
  sample: ["192.0.2.10/32 dev lo"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import (
    AddressError,
    address_errors,
    host_cidr,
    interface_errors,
    parse_batch,
    parse_ip_json,
    render_batch,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text, write_atomic

DEFAULT_HEADER = 'Managed by Ansible (opsnotes.edge.vip_addresses). Replayed at boot with ip -force -batch.'


def _entry_text(entry):
    return '%s/%d dev %s' % entry


def _live_entries(module, ip):
    rc, out, err = module.run_command([ip, '-json', 'address', 'show'])
    if rc != 0:
        module.fail_json(msg='ip -json address show failed: %s' % err.strip())
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


def run(module):
    params = module.params
    errors = address_errors(params['addresses'], 'addresses') + interface_errors([params['interface']], 'interface')
    if errors:
        module.fail_json(msg='; '.join(errors))

    path = params['path']
    old_text = read_text(path)
    try:
        previous = parse_batch(old_text) if old_text else []
    except AddressError as exc:
        module.fail_json(msg='%s: %s; refusing to guess which addresses are managed' % (path, exc))

    ip = module.get_bin_path('ip', required=True)
    live = _live_entries(module, ip)
    iface = params['interface']
    if iface not in live:
        module.fail_json(msg='interface %s does not exist on this host' % iface)

    desired = []
    for address in params['addresses']:
        addr, plen = host_cidr(address).split('/')
        desired.append((addr, int(plen), iface))
    problems = _foreign_holders(desired, previous, live)
    if problems:
        module.fail_json(msg='; '.join(problems))
    desired_keys = {(a, d) for a, _p, d in desired}

    def is_live(entry):
        return (entry[0], entry[1]) in live.get(entry[2], [])

    removals = [e for e in previous if (e[0], e[2]) not in desired_keys and is_live(e)]
    # A managed VIP held with another prefix length on its device (only ours: foreign ones were refused).
    removals += [(a, p, d) for a, plen, d in desired for la, p in live[d] if la == a and p != plen
                 and (a, p, d) in previous]
    additions = [e for e in desired if not is_live(e)]

    new_text = render_batch(desired, params['header'])
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
        module.exit_json(**result)

    # All or nothing, and the record always covers what is on the host: first a record of everything that may be
    # held during the change (what we held plus what we add), then the steps, then the final record. A failed step
    # undoes the done ones, and the record is rewritten from what the host then holds.
    covering = [e for e in previous if is_live(e)] + [e for e in additions if e not in previous]
    if additions:
        try:
            write_atomic(module, path, render_batch(covering, params['header']), 0o644)
        except OSError as exc:
            result.update(changed=False, added=[], removed=[])
            module.fail_json(msg='cannot write %s (%s); no address was changed' % (path, exc), **result)
    failure = _apply(module, ip, [('del', e) for e in removals] + [('add', e) for e in additions])
    if failure:
        message, undo_errors = failure
        live = _live_entries(module, ip)
        held = [e for e in covering + removals if is_live(e)]
        held = [e for i, e in enumerate(held) if e not in held[:i]]
        if held or old_text is not None:
            write_atomic(module, path, render_batch(held, params['header']), 0o644)
        elif os.path.exists(path):
            os.unlink(path)
        state = ('the previous addresses are back' if not undo_errors else
                 'undoing failed too (%s); the record lists what the host holds now' % '; '.join(undo_errors))
        result.update(changed=bool(undo_errors), added=[], removed=[])
        module.fail_json(msg='%s; %s' % (message, state), held=[_entry_text(e) for e in held], **result)
    if file_changed:
        try:
            write_atomic(module, path, new_text, 0o644)
        except OSError as exc:
            module.fail_json(msg='the addresses were changed, but %s could not be rewritten (%s): it still lists '
                                 'every address this module may hold; run again to finish' % (path, exc), **result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            addresses=dict(type='list', elements='str', required=True),
            interface=dict(type='str', default='lo'),
            path=dict(type='path', required=True),
            header=dict(type='str', default=DEFAULT_HEADER),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
