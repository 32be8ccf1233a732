#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_dr_check
short_description: Report LVS direct-routing ARP sysctls and VIPs as live state against the expected state
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Reads the live C(arp_ignore), C(arp_announce) and optionally C(rp_filter) and C(ip_forward) values from
    C(/proc/sys) for V(all), V(lo), the default-route NIC and the listed NICs, applies the kernel's
    C(max(conf/all, conf/IFACE)) rule per interface, and compares with what the O(mode) requires.
  - Real servers need C(arp_ignore=1) and C(arp_announce=2) so they never answer ARP for the VIP they hold on C(lo);
    directors keep the kernel defaults C(0)/C(0).
  - Checks that each VIP is held on O(vip_interface) as a host route (V(/32), V(/128)) and, on a real server,
    held on no other interface.
  - Optionally compares the live values with the persisted sysctl file and VIP file.
  - "With O(boot_check=true), also works out what systemd-sysctl will set at the next boot, by the rules of
    sysctl.d(5) (directory shadowing, file-name order, the last assignment wins, globs that explicit keys and
    C(-key) lines exclude), and applies the same max rule: a later sysctl.d file that would undo the ARP settings
    at boot is drift that names the file and line, before a reboot makes the host answer ARP for the VIP. A later
    file that leaves the max rule satisfied is not drift."
  - Read-only. Returns structured drift, and fails on drift when O(fail_on_problem=true).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  mode:
    description: Role of this host in LVS-DR.
    type: str
    required: true
    choices: [director, realserver]
  vips:
    description: VIPs expected on O(vip_interface), without prefix length. Empty skips the VIP checks.
    type: list
    elements: str
    default: []
  vip_interface:
    description: Interface expected to hold the VIPs. An empty string means the NIC of the default route.
    type: str
    default: lo
  interfaces:
    description: NICs checked in addition to V(all), V(lo) and (see O(include_default_interface)) the default-route NIC.
    type: list
    elements: str
    default: []
  include_default_interface:
    description: Also check the NIC of the default route (IPv4, or IPv6 when there is no IPv4 default route).
    type: bool
    default: true
  rp_filter:
    description: Expected effective C(rp_filter) on every checked NIC. Not checked when omitted.
    type: int
    choices: [0, 1, 2]
  ip_forward:
    description: Expected C(net.ipv4.ip_forward). Not checked when omitted.
    type: bool
  sysctl_file:
    description: Persisted sysctl file to compare with the expected values. Not compared when omitted.
    type: path
  vip_file:
    description:
      - Persisted VIP file (C(ip -batch) format, see M(opsnotes.edge.vip_addresses)). Not compared when omitted.
    type: path
  boot_check:
    description: Also check what the next boot sets (see the description).
    type: bool
    default: true
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): any drift found (the full result is still returned)."
      - With V(false), only report it.
    type: bool
    default: false
    aliases: [fail_on_drift]
seealso:
  - module: opsnotes.edge.sysctl_batch
  - module: opsnotes.edge.vip_addresses
"""

EXAMPLES = r"""
- name: Prove a real server cannot steal the VIP
  opsnotes.edge.lvs_dr_check:
    mode: realserver
    vips: [192.0.2.10]
    interfaces: [eth0.100]
    sysctl_file: /etc/sysctl.d/90-opsnotes-lvs-dr.conf
    vip_file: /etc/opsnotes/lvs_dr/vips.batch
    fail_on_problem: true
"""

RETURN = r"""
ok:
  description: True when no drift was found.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["net.ipv4.conf.all.arp_ignore is 0 live, expected 1"]
drift:
  description: The same as RV(problems), under the name earlier releases gave it.
  returned: always
  type: list
  elements: str
  sample: ["effective arp_ignore on eth0 is 0 (max of all and eth0), expected 1"]
default_interface:
  description: NIC of the default route, if any.
  returned: always
  type: str
  sample: eth0
interfaces:
  description: The checked interfaces (V(lo), the default-route NIC, the listed NICs).
  returned: always
  type: list
  elements: str
missing_interfaces:
  description: Listed interfaces that do not exist on the host.
  returned: always
  type: list
  elements: str
expected_sysctls:
  description:
    - The sysctl keys and values the mode requires for the existing interfaces.
    - The input for M(opsnotes.edge.sysctl_batch).
  returned: always
  type: dict
  sample: {"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2"}
sysctls:
  description: Per key, the expected, live and persisted value.
  returned: always
  type: list
  elements: dict
  sample: [{"key": "net.ipv4.conf.lo.arp_ignore", "expected": "1", "live": "1", "persisted": "1", "ok": true}]
effective:
  description:
    - Per interface, the effective values under the max(all, IFACE) rule and the expected ones, and the interface's
      MAC address (C(hwaddr)), which tells whose ARP replies a client sees.
  returned: always
  type: list
  elements: dict
  sample: [{"interface": "eth0", "hwaddr": "02:42:ac:11:00:02", "arp_ignore": 1, "expected_arp_ignore": 1,
            "arp_announce": 2, "expected_arp_announce": 2, "ok": true}]
boot:
  description:
    - Per checked NIC, the effective values the next boot gives (max of V(all) and the NIC), and whether they are
      what the mode requires. Empty with O(boot_check=false).
  returned: always
  type: list
  elements: dict
  sample: [{interface: eth0, arp_ignore: 0, arp_announce: 2, ok: false}]
boot_files:
  description: The files systemd-sysctl would read at boot, in the order it applies them.
  returned: when O(boot_check=true)
  type: list
  elements: str
  sample: [/usr/lib/sysctl.d/50-default.conf, /etc/sysctl.d/90-opsnotes-lvs-dr.conf, /etc/sysctl.d/99-sysctl.conf]
unmanaged_host_routes:
  description:
    - Host routes (V(/32), V(/128)) on V(lo), other than loopback addresses, that are neither in O(vips) nor in
      O(vip_file). Read when O(vips) or O(vip_file) is given; each run with any also warns.
  returned: always
  type: list
  elements: str
  sample: ["198.51.100.7/32"]
vips:
  description: Per VIP, whether it is held on O(vip_interface) as a host route, persisted, and held elsewhere.
  returned: always
  type: list
  elements: dict
  sample: [{"address": "192.0.2.10", "cidr": "192.0.2.10/32", "interface": "lo", "present": true,
            "host_route": true, "persisted": true, "also_on": [], "ok": true}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import (
    AddressError,
    parse_batch,
    parse_ip_json,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text
from ansible_collections.opsnotes.edge.plugins.module_utils._lvs_dr import (
    HOST_ARGS,
    compare_boot,
    compare_effective,
    compare_sysctls,
    compare_vips,
    expected_sysctls,
    host_interfaces,
    input_errors,
    unmanaged_host_routes,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl import (
    SysctlError,
    interface_hwaddr,
    read_sysctl,
    read_sysctl_conf,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._sysctl_boot import boot_assignments, boot_files


def run(module, root='/'):
    params = module.params
    errors = input_errors(params)
    if errors:
        module.fail_json(msg='; '.join(errors))

    default_iface, interfaces, missing = host_interfaces(params, root)
    vip_interface = params['vip_interface'] or default_iface

    expected = expected_sysctls(params['mode'], interfaces, params['rp_filter'], params['ip_forward'])
    live = {key: read_sysctl(key, root) for key in expected}
    persisted = None
    drift = ['interface %s does not exist' % name for name in missing]
    if params['sysctl_file']:
        try:
            persisted = read_sysctl_conf(params['sysctl_file']) or {}
        except SysctlError as exc:
            module.fail_json(msg='%s: %s' % (params['sysctl_file'], exc))
    sysctl_rows, sysctl_drift = compare_sysctls(expected, live, persisted)
    effective_rows, effective_drift = compare_effective(params['mode'], interfaces, live, params['rp_filter'])
    for row in effective_rows:
        row['hwaddr'] = interface_hwaddr(row['interface'], root)
    drift.extend(sysctl_drift + effective_drift)
    boot_rows, files = [], []
    if params['boot_check']:
        files = [shown for shown, _read in boot_files(root)]
        boot_rows, boot_drift = compare_boot(params['mode'], interfaces, boot_assignments(root), params['rp_filter'],
                                             params['ip_forward'])
        drift.extend(boot_drift)

    vip_rows, unmanaged = [], []
    if params['vips'] or params['vip_file']:
        ip = module.get_bin_path('ip', required=True)
        rc, out, err = module.run_command([ip, '-json', 'address', 'show'])
        if rc != 0:
            module.fail_json(msg='ip -json address show failed: %s' % err.strip())
        addresses = parse_ip_json(out)
        entries = None
        if params['vip_file']:
            text = read_text(params['vip_file'])
            try:
                entries = parse_batch(text) if text else []
            except AddressError as exc:
                module.fail_json(msg='%s: %s' % (params['vip_file'], exc))
        if not vip_interface:
            drift.append('no vip_interface given and no default route to take it from')
        vip_rows, vip_drift = compare_vips(params['mode'], params['vips'], vip_interface or '', addresses, entries)
        drift.extend(vip_drift)
        unmanaged = unmanaged_host_routes(addresses, params['vips'], entries)
        if unmanaged:
            module.warn('host routes on lo that no VIP list or record manages: %s (left by hand, or by a change '
                        'whose record was lost)' % ', '.join(unmanaged))

    result = dict(
        drift=drift,
        default_interface=default_iface,
        interfaces=interfaces,
        missing_interfaces=missing,
        expected_sysctls=expected,
        sysctls=sysctl_rows,
        effective=effective_rows,
        vips=vip_rows,
        unmanaged_host_routes=unmanaged,
        boot=boot_rows,
    )
    if params['boot_check']:
        result['boot_files'] = files
    finish(module, result, drift, prefix='LVS-DR %s drift: ' % params['mode'])


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            HOST_ARGS,
            sysctl_file=dict(type='path'),
            vip_file=dict(type='path'),
            boot_check=dict(type='bool', default=True),
            fail_on_problem=fail_on_problem_option(default=False, legacy=['fail_on_drift']),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
