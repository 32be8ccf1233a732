# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_dr_config
short_description: Converge an LVS-DR director or real server in one call (ARP sysctls, boot unit, VIPs)
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Reads the host, compares it with what O(mode) needs and changes only what differs, in one module execution
    whatever the number of VIPs and interfaces.
  - "In this order: the ARP sysctls of C(all), C(lo), the default-route NIC and O(interfaces) (plus O(rp_filter)
    and O(ip_forward) when given), at runtime and in O(sysctl_file); the boot unit O(unit) that replays O(vip_file)
    after C(systemd-sysctl), enabled; then the VIPs, held on O(vip_interface) and recorded in O(vip_file). A real
    server therefore never holds a VIP while it could still answer ARP for it."
  - "Refuses before anything changes: an interface of O(interfaces) that does not exist, and VIPs with no
    interface to hold them (O(vip_interface) empty and no default route)."
  - Each step is all or nothing (the sysctls already written are restored, the previous unit file is put back,
    the VIP steps done are undone), and a failed step stops the later ones, so the host keeps the ARP settings
    before it holds any VIP.
  - The role M(opsnotes.edge.lvs_dr_check) proves the result; this module only reports what it changed.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  mode:
    description:
      - V(realserver) sets C(arp_ignore=1) and C(arp_announce=2); V(director) keeps the kernel defaults (C(0)).
    type: str
    required: true
    choices: [director, realserver]
  vips:
    description:
      - The VIPs to hold, without prefix length (host routes). An empty list removes every VIP this module added.
    type: list
    elements: str
    default: []
  vip_interface:
    description:
      - The interface that holds O(vips). Real servers hold them on V(lo).
      - Empty means the NIC of the default route (a director).
    type: str
    default: lo
  interfaces:
    description:
      - Extra interfaces whose ARP settings are set, besides C(all), C(lo) and the default-route NIC.
    type: list
    elements: str
    default: []
  include_default_interface:
    description:
      - Also set the ARP settings of the default-route NIC.
    type: bool
    default: true
  rp_filter:
    description:
      - Reverse-path filter for C(all) and every interface but C(lo). Omit it to leave rp_filter alone.
    type: int
    choices: [0, 1, 2]
  ip_forward:
    description:
      - C(net.ipv4.ip_forward). Omit it to leave it alone.
    type: bool
  sysctl_file:
    description:
      - The C(sysctl.d) file that persists the settings.
    type: path
    required: true
  vip_file:
    description:
      - The C(ip -batch) record of the VIPs, replayed at boot by O(unit).
    type: path
    required: true
  unit:
    description:
      - The boot-time systemd unit that replays O(vip_file).
    type: str
    default: opsnotes-lvs-dr-vips.service
  unit_dir:
    description:
      - The directory of O(unit).
    type: path
    default: /etc/systemd/system
requirements:
  - iproute2 (C(ip) with C(-json) support), systemd
seealso:
  - module: opsnotes.edge.lvs_dr_check
  - module: opsnotes.edge.sysctl_batch
  - module: opsnotes.edge.vip_addresses
"""

EXAMPLES = r"""
- name: A real server holding two VIPs on lo
  opsnotes.edge.lvs_dr_config:
    mode: realserver
    vips: [192.0.2.10, "2001:db8::10"]
    sysctl_file: /etc/sysctl.d/90-opsnotes-lvs-dr.conf
    vip_file: /etc/opsnotes/lvs_dr/vips.batch

- name: A director holding its VIP on the default-route NIC
  opsnotes.edge.lvs_dr_config:
    mode: director
    vips: [192.0.2.10]
    vip_interface: ""
    sysctl_file: /etc/sysctl.d/90-opsnotes-lvs-dr.conf
    vip_file: /etc/opsnotes/lvs_dr/vips.batch
"""

RETURN = r"""
default_interface:
  description: The NIC of the default route, or null.
  returned: always
  type: str
  sample: eth0
interfaces:
  description: The interfaces whose ARP settings are managed (C(lo) first).
  returned: always
  type: list
  elements: str
  sample: [lo, eth0]
missing_interfaces:
  description: Interfaces of O(interfaces) that do not exist (the call then fails before any change).
  returned: always
  type: list
  elements: str
  sample: []
vip_interface:
  description: The interface that holds the VIPs (V(lo) when there are none).
  returned: always
  type: str
  sample: lo
sysctls:
  description: The result of the sysctl step (C(changed_keys), C(file_changed), C(values)).
  returned: when the interfaces exist
  type: dict
unit_changed:
  description: Whether the unit file was (or would be) written or enabled.
  returned: when the sysctl step succeeded
  type: bool
vips:
  description: The result of the VIP step (C(added), C(removed), C(addresses), C(file_changed)).
  returned: when the earlier steps succeeded
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils import _addresses, _sysctl
from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed
from ansible_collections.opsnotes.edge.plugins.module_utils._install import unit_file
from ansible_collections.opsnotes.edge.plugins.module_utils._lvs_dr import (
    HOST_ARGS,
    expected_sysctls,
    host_interfaces,
    input_errors,
    render_vip_unit,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe, unit_name

HEADER = 'Managed by Ansible (opsnotes.edge.lvs_dr, mode %s). Local edits are overwritten.'
VIP_HEADER = 'Managed by Ansible (opsnotes.edge.lvs_dr). Replayed at boot with ip -force -batch by %s.'


def _input_errors(params):
    errors = input_errors(params)
    try:
        unit_name(params['unit'])
        render_vip_unit(params['vip_file'], '')
    except Unsafe as exc:
        errors.append('unit or vip_file: %s' % exc)
    return errors


def run(module, root='/'):
    params = module.params
    errors = _input_errors(params)
    if errors:
        module.fail_json(msg='; '.join(errors))

    default_iface, interfaces, missing = host_interfaces(params, root)
    held_on = (params['vip_interface'] or default_iface) if params['vips'] else 'lo'
    result = dict(changed=False, default_interface=default_iface, interfaces=interfaces, missing_interfaces=missing,
                  vip_interface=held_on or '', diff=[])
    if missing:
        module.fail_json(msg='interfaces: %s does not exist on this host; nothing was changed'
                         % ', '.join(missing), **result)
    if not held_on:
        module.fail_json(msg='vip_interface is empty and this host has no default route to take the NIC from; '
                             'nothing was changed', **result)

    mode = params['mode']
    steps = []
    try:
        expected = expected_sysctls(mode, result['interfaces'], params['rp_filter'], params['ip_forward'])
        steps.append('sysctls')
        sysctls = _sysctl.converge(module, expected, params['sysctl_file'], HEADER % mode, root=root)
        result.update(sysctls={k: sysctls[k] for k in ('changed_keys', 'file_changed', 'values')},
                      changed=sysctls['changed'])
        result['diff'].extend(sysctls['diff'])

        steps.append('unit')
        unit_path = '%s/%s' % (params['unit_dir'].rstrip('/'), params['unit'])
        unit_changed, unit_diff = unit_file(module, unit_path, render_vip_unit(params['vip_file'], HEADER % mode))
        result.update(unit_changed=unit_changed, changed=result['changed'] or unit_changed)
        result['diff'].append(unit_diff)

        steps.append('vips')
        vips = _addresses.converge(module, params['vips'], held_on, params['vip_file'], VIP_HEADER % params['unit'])
        result.update(vips={k: vips[k] for k in ('added', 'removed', 'addresses', 'file_changed')},
                      changed=result['changed'] or vips['changed'])
        result['diff'].extend(vips['diff'])
    except StepFailed as exc:
        done = ', '.join(steps[:-1]) or 'nothing'
        if 'held' in exc.result:
            result['held'] = exc.result['held']
        result['changed'] = result['changed'] or bool(exc.result.get('changed'))
        module.fail_json(msg='%s step: %s (steps completed before it: %s)' % (steps[-1], exc.msg, done), **result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            HOST_ARGS,
            sysctl_file=dict(type='path', required=True),
            vip_file=dict(type='path', required=True),
            unit=dict(type='str', default='opsnotes-lvs-dr-vips.service'),
            unit_dir=dict(type='path', default='/etc/systemd/system'),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
