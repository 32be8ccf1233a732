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
  - All input is validated before anything is changed.
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
"""

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
    rc, out, err = module.run_command([ip, '-json', 'address', 'show'])
    if rc != 0:
        module.fail_json(msg='ip -json address show failed: %s' % err.strip())
    live = parse_ip_json(out)
    iface = params['interface']
    if iface not in live:
        module.fail_json(msg='interface %s does not exist on this host' % iface)

    desired = []
    for address in params['addresses']:
        cidr = host_cidr(address)
        addr, plen = cidr.split('/')
        desired.append((addr, int(plen), iface))
    desired_keys = {(a, d) for a, _p, d in desired}

    removals = []
    for addr, plen, dev in previous:
        if (addr, dev) not in desired_keys and (addr, plen) in live.get(dev, []):
            removals.append((addr, plen, dev))
    additions = []
    for addr, plen, dev in desired:
        held = [p for a, p in live[dev] if a == addr]
        if plen in held:
            continue
        # Held with another prefix length (e.g. a /24): replace it with the host route.
        removals.extend((addr, p, dev) for p in held)
        additions.append((addr, plen, dev))

    new_text = render_batch(desired, params['header'])
    file_changed = old_text != new_text
    managed_before = [_entry_text(e) for e in previous if (e[0], e[1]) in live.get(e[2], [])]
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

    for verb, entries in (('del', removals), ('add', additions)):
        for addr, plen, dev in entries:
            rc, _out, err = module.run_command([ip, 'address', verb, '%s/%d' % (addr, plen), 'dev', dev])
            if rc != 0:
                module.fail_json(msg='ip address %s %s/%d dev %s failed: %s'
                                 % (verb, addr, plen, dev, err.strip()), **result)
    if file_changed:
        write_atomic(module, path, new_text, 0o644)
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
