#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sysctl_batch
short_description: Set many sysctl keys at runtime and persist them in one file, in one call
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Sets every key of O(values) in the running kernel through C(/proc/sys) and writes exactly those keys to one
    C(sysctl.d) file, in a single module call (instead of one M(ansible.posix.sysctl) call per key).
  - Every key is checked to exist before anything is written. If a runtime write fails, the keys already written in
    this call are restored to their previous values. The file is replaced atomically.
  - Keys are given in dotted form (V(net.ipv4.conf.all.arp_ignore)), or in slash form when a component contains a
    dot, such as a VLAN interface (V(net/ipv4/conf/eth0.100/arp_ignore)), as in C(sysctl.d(5)).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  values:
    description:
      - The keys and their values. Values are compared as whitespace-collapsed strings; booleans become V(1)/V(0).
    type: dict
    required: true
  path:
    description:
      - The C(sysctl.d) file that persists O(values). It is written with exactly these keys.
      - Omit it to change runtime values only.
    type: path
  runtime:
    description:
      - Apply the values to the running kernel. With V(false) only the file is written.
    type: bool
    default: true
  header:
    description:
      - Comment written at the top of O(path).
    type: str
    default: Managed by Ansible (opsnotes.edge.sysctl_batch). Local edits are overwritten.
notes:
  - Inside a container C(/proc/sys) is read-only unless it was remounted read-write.
  - Only network-namespaced keys (C(net.*)) are private to a container; other keys change the host kernel.
seealso:
  - module: ansible.posix.sysctl
"""

EXAMPLES = r"""
- name: LVS-DR real server ARP settings, one call for all keys
  opsnotes.edge.sysctl_batch:
    path: /etc/sysctl.d/90-lvs-dr.conf
    values:
      net.ipv4.conf.all.arp_ignore: 1
      net.ipv4.conf.all.arp_announce: 2
      net.ipv4.conf.lo.arp_ignore: 1
      net.ipv4.conf.lo.arp_announce: 2
      net/ipv4/conf/eth0.100/arp_ignore: 1
"""

RETURN = r"""
changed_keys:
  description: Keys whose runtime value was (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.conf.all.arp_ignore]
file_changed:
  description: Whether O(path) was (or would be) rewritten.
  returned: always
  type: bool
settings:
  description:
    - Per key, the runtime value before and the desired value.
    - Also returned as C(values), deprecated (a key Jinja cannot read with a dot, as C(result.values) names the
      method), to be removed in 1.0.0.
  returned: always
  type: dict
  sample: {"net.ipv4.conf.all.arp_ignore": {"before": "0", "after": "1"}}
  version_added: 0.2.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl import converge

DEFAULT_HEADER = 'Managed by Ansible (opsnotes.edge.sysctl_batch). Local edits are overwritten.'


def run(module, root='/'):
    params = module.params
    try:
        result = converge(module, params['values'], params['path'], params['header'], params['runtime'], root)
    except StepFailed as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    result['settings'] = result['values']   # values: deprecated, removed in 1.0.0
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            values=dict(type='dict', required=True),
            path=dict(type='path'),
            runtime=dict(type='bool', default=True),
            header=dict(type='str', default=DEFAULT_HEADER),
        ),
        required_if=[('runtime', False, ('path',))],
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
