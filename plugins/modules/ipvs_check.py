#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_check
short_description: Compare a director's live IPVS table with the virtual servers it should have
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - "Reads the kernel's IPVS table with C(ipvsadm -Ln --exact) when ipvsadm is installed, else from
    C(/proc/net/ip_vs), and compares it with O(virtual_servers): each virtual service must be there with its
    scheduler and persistence, each real server with its forwarding method (C(dr) for LVS direct routing) and
    weight, and no other real server. Connection counters are returned, not compared."
  - "A real server that keepalived took out of the table because its health check fails is reported as drift,
    with that reason among the possible ones."
  - "Read-only. Where the kernel has no IPVS (no C(/proc/net/ip_vs), as in containers on a kernel built without
    C(CONFIG_IP_VS)), RV(available) is false and the module fails unless O(fail_when_unavailable=false)."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  virtual_servers:
    description: The virtual services the table must hold.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The virtual IP (not with O(virtual_servers[].fwmark)).
        type: str
      port:
        description: The virtual port (not with O(virtual_servers[].fwmark)).
        type: int
      protocol:
        description: The protocol of the service.
        type: str
        choices: [tcp, udp, sctp]
        default: tcp
      fwmark:
        description: A firewall-mark service instead of an address and port.
        type: int
      scheduler:
        description: The scheduler (C(lb_algo) in keepalived), such as C(wlc) or C(rr). Not compared when unset.
        type: str
      persistent:
        description: The persistence timeout in seconds (C(persistence_timeout)); unset or 0 means none.
        type: int
      forward:
        description: The forwarding method of its real servers (C(lb_kind) DR, NAT, TUN).
        type: str
        choices: [dr, nat, tun]
        default: dr
      real_servers:
        description: "Its real servers: C({address, port, weight}); the port defaults to the service's."
        type: list
        elements: dict
        default: []
  source:
    description: Where to read the table; V(auto) prefers C(ipvsadm), else C(/proc/net/ip_vs).
    type: str
    choices: [auto, ipvsadm, proc]
    default: auto
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): the table differs from O(virtual_servers)."
      - With V(false), only report it. A kernel without IPVS is decided by O(fail_when_unavailable).
    type: bool
    default: true
    aliases: [fail_on_drift]
  fail_when_unavailable:
    description: Fail when this kernel has no IPVS to read.
    type: bool
    default: true
seealso:
  - module: opsnotes.edge.lvs_dr_check
"""

EXAMPLES = r"""
- name: Prove the director's virtual service and its two real servers
  opsnotes.edge.ipvs_check:
    virtual_servers:
      - address: 192.0.2.10
        port: 80
        scheduler: wlc
        persistent: 300
        real_servers:
          - {address: 10.0.0.11, weight: 1}
          - {address: 10.0.0.12, weight: 1}
"""

RETURN = r"""
ok:
  description: True when the table was read and holds what was expected.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["TCP 192.0.2.200:443 -> 192.0.2.11:443: weight 0, not 1"]
available:
  description: Whether this kernel has an IPVS table to read.
  returned: always
  type: bool
source:
  description: Where the table was read (C(ipvsadm), C(proc)), or null when it was not.
  returned: always
  type: str
virtual_servers:
  description: The table as read.
  returned: always
  type: list
  elements: dict
  sample: [{protocol: TCP, address: 192.0.2.10, port: 80, fwmark: null, scheduler: wlc, persistent: 300,
            netmask: 255.255.255.255, ops: false,
            real_servers: [{address: 10.0.0.11, port: 80, forward: dr, weight: 1, active: 3, inactive: 12}]}]
drift:
  description: One sentence per difference (the same as RV(problems) when the table was read).
  returned: always
  type: list
  elements: str
  sample: ["TCP 192.0.2.10:80 -> 10.0.0.12:80: not in the table (its health check fails, or it was never added)"]
extra:
  description: Virtual services in the table that were not expected (not drift).
  returned: always
  type: list
  elements: str
reason:
  description: Why there is no table to read.
  returned: when RV(available) is false
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._ipvs import inspect


def run(module):
    params = module.params
    for index, service in enumerate(params['virtual_servers']):
        if (service.get('fwmark') is None) == (service.get('address') is None or service.get('port') is None):
            module.fail_json(msg='virtual_servers[%d]: give an address and a port, or a fwmark' % index)
        for rindex, real in enumerate(service['real_servers']):
            if not isinstance(real, dict) or not real.get('address'):
                module.fail_json(msg='virtual_servers[%d].real_servers[%d]: needs an address' % (index, rindex))
    expected = [dict(service, protocol=(service.get('protocol') or 'tcp').upper())
                for service in params['virtual_servers']]
    result = dict(changed=False, ok=False, **inspect(module, expected, params['source']))
    if not result['available']:
        result['problems'] = [result['reason']]
        if params['fail_when_unavailable']:
            module.fail_json(msg=result['reason'], **result)
        module.exit_json(**result)
    finish(module, result, result['drift'], prefix='IPVS drift: ')


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            virtual_servers=dict(type='list', elements='dict', default=[], options=dict(
                address=dict(type='str'),
                port=dict(type='int'),
                protocol=dict(type='str', default='tcp', choices=['tcp', 'udp', 'sctp']),
                fwmark=dict(type='int'),
                scheduler=dict(type='str'),
                persistent=dict(type='int'),
                forward=dict(type='str', default='dr', choices=['dr', 'nat', 'tun']),
                real_servers=dict(type='list', elements='dict', default=[]),
            )),
            source=dict(type='str', default='auto', choices=['auto', 'ipvsadm', 'proc']),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_drift']),
            fail_when_unavailable=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
