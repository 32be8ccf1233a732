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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import converge
from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed

DEFAULT_HEADER = 'Managed by Ansible (opsnotes.edge.vip_addresses). Replayed at boot with ip -force -batch.'


def run(module):
    params = module.params
    try:
        result = converge(module, params['addresses'], params['interface'], params['path'], params['header'])
    except StepFailed as exc:
        module.fail_json(msg=exc.msg, **exc.result)
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
