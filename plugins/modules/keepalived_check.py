#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keepalived_check
short_description: Read keepalived's live VRRP state, and which virtual addresses this host holds
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Asks the running keepalived for its state (its DATA signal writes C(keepalived.data)) and reads the host's
    addresses. Per VRRP instance, its state (MASTER, BACKUP, FAULT), priorities and virtual addresses, and which of
    them this host holds.
  - Drift is a MASTER without its addresses, a BACKUP or FAULT holding one (two holders), a FAULT, an expected
    instance keepalived does not run, keepalived not running, or the live file failing C(keepalived --config-test).
  - Waits up to O(wait) seconds for instances to leave INIT (an election after a start or a reload).
  - "With O(virtual_servers), also reads the kernel's IPVS table (C(ipvsadm -Ln --exact), else C(/proc/net/ip_vs))
    and compares it with them, as M(opsnotes.edge.ipvs_check) does: each virtual service with its scheduler,
    persistence and forwarding method, each real server with its weight (RV(ipvs)). A real server missing from the
    table is one keepalived's health checker took out (or never added): it is listed in RV(ipvs.down), and is a
    problem only with O(fail_on_down). Anything else that differs is drift."
  - Read-only (the data dump aside, which keepalived writes to its own file); safe in check mode.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  instances:
    description: VRRP instance names keepalived must run.
    type: list
    elements: str
    default: []
  path:
    description: The live configuration file, checked with C(keepalived --config-test).
    type: path
    default: /etc/keepalived/keepalived.conf
  pid_file:
    description: keepalived's PID file.
    type: path
    default: /run/keepalived.pid
  data_file:
    description: Where keepalived writes its data dump.
    type: path
    default: /tmp/keepalived.data
  wait:
    description: Seconds to wait for every instance to leave INIT.
    type: int
    default: 15
  virtual_servers:
    description:
      - The IPVS virtual servers keepalived should hold, as M(opsnotes.edge.keepalived_config) takes them
        (C(address), C(port) or C(fwmark), C(protocol), C(lb_algo), C(lb_kind), C(persistence_timeout),
        C(real_servers) with C(address), C(port), C(weight)); keepalived's defaults apply (wlc, DR, weight 1). Other
        keys (health checks, delays) are ignored.
      - Empty, the IPVS table is not read.
    type: list
    elements: dict
    default: []
  fail_on_down:
    description: Count a real server missing from the IPVS table (its health check fails) as a problem.
    type: bool
    default: false
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): a configuration keepalived refuses, an instance not running or
        in the wrong state, drift in the IPVS table, and real servers out of it with O(fail_on_down=true)."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
requirements:
  - keepalived 2.0 or later (C(--signum))
seealso:
  - module: opsnotes.edge.keepalived_config
"""

EXAMPLES = r"""
- name: Which director holds the VIP, and in which VRRP state
  opsnotes.edge.keepalived_check:
    instances: [VI_WEB]
  register: vrrp

- name: The same, and the IPVS table against the virtual servers keepalived was given
  opsnotes.edge.keepalived_check:
    instances: [VI_WEB]
    virtual_servers: "{{ keepalived_virtual_servers }}"
    fail_on_problem: false
  register: vrrp
"""

RETURN = r"""
instances:
  description: Per VRRP instance, C(name), C(state), C(priority), C(effective_priority), C(interface), C(vips) and
    C(held) (the virtual addresses on this host).
  returned: always
  type: list
  elements: dict
  sample: [{name: VI_WEB, state: MASTER, priority: 150, effective_priority: 150, interface: eth0,
            vips: [192.0.2.100], held: [192.0.2.100]}]
running:
  description: Whether keepalived runs (its PID file names a live process).
  returned: always
  type: bool
config_ok:
  description: Whether the live file passes C(keepalived --config-test).
  returned: always
  type: bool
ok:
  description: True when there is no problem.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["VI_WEB: still INIT after 15s"]
ipvs:
  description: The IPVS table as read and judged; returned when O(virtual_servers) is given.
  returned: when O(virtual_servers) is not empty
  type: dict
  contains:
    available:
      description: Whether this kernel has an IPVS table.
      type: bool
    source:
      description: Where the table was read (C(ipvsadm), C(proc)), or null.
      type: str
    virtual_servers:
      description: The table, with each real server's live C(weight), C(active) and C(inactive) connections.
      type: list
      elements: dict
    drift:
      description: One sentence per difference (also in RV(failures)).
      type: list
      elements: str
    down:
      description: Expected real servers missing from the table (C(TCP VIP:PORT -> ADDRESS:PORT)).
      type: list
      elements: str
    extra:
      description: Virtual services in the table that were not expected (not drift).
      type: list
      elements: str
  sample: {available: true, source: ipvsadm, drift: [], down: [], extra: [],
           virtual_servers: [{protocol: TCP, address: 192.0.2.10, port: 443, scheduler: rr, persistent: null,
                              real_servers: [{address: 10.0.0.11, port: 443, forward: dr, weight: 1, active: 2,
                                              inactive: 9}]}]}
failures:
  description: The same as RV(problems), under the name earlier releases gave it.
  returned: always
  type: list
  elements: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text
from ansible_collections.opsnotes.edge.plugins.module_utils._ipvs import from_keepalived, inspect
from ansible_collections.opsnotes.edge.plugins.module_utils._keepalived import redact
from ansible_collections.opsnotes.edge.plugins.module_utils._keepalived_state import (
    addresses_held,
    judge,
    parse_data,
    settled,
)


def live_pid(pid_file):
    text = read_text(pid_file)
    if not text or not text.strip().isdigit():
        return None
    pid = int(text.strip())
    return pid if os.path.exists('/proc/%d' % pid) else None


def dump(module, keepalived, pid, data_file):
    """Ask keepalived for a fresh data dump; its text, or None when none came within 5 seconds."""
    rc, out, err = module.run_command([keepalived, '--signum=DATA'])
    if rc != 0 or not out.strip().isdigit():
        module.fail_json(msg='keepalived --signum=DATA failed: %s' % (out + err).strip())
    before = os.stat(data_file).st_mtime if os.path.exists(data_file) else None
    os.kill(pid, int(out.strip()))
    for _tick in range(50):
        time.sleep(0.1)
        if os.path.exists(data_file) and os.stat(data_file).st_mtime != before:
            time.sleep(0.1)     # written whole
            return read_text(data_file)
    return None


def run(module):
    params = module.params
    result = dict(changed=False, instances=[], running=False, config_ok=False, ok=False, failures=[])
    keepalived = module.get_bin_path('keepalived', required=True)
    ip = module.get_bin_path('ip', required=True)
    rc, out, err = module.run_command([keepalived, '--config-test', '-f', params['path']])
    result['config_ok'] = rc == 0
    output = redact(out + err).strip()
    failures = [] if rc == 0 else ['%s fails keepalived --config-test: %s' % (params['path'], output)]
    pid = live_pid(params['pid_file'])
    result['running'] = pid is not None
    if pid is None:
        failures.append('keepalived is not running (no live process in %s)' % params['pid_file'])
    else:
        deadline = time.time() + params['wait']
        while True:
            text = dump(module, keepalived, pid, params['data_file'])
            instances = parse_data(text) if text is not None else []
            if text is not None and (settled(instances, time.time()) or time.time() >= deadline):
                break
            if time.time() >= deadline:
                failures.append('keepalived wrote no data dump to %s' % params['data_file'])
                break
            time.sleep(0.5)
        held = addresses_held(module.run_command([ip, '-o', 'addr', 'show'], check_rc=True)[1])
        failures += judge(instances, held, params['instances'])
        failures += ['%s: still %s after %ds' % (i['name'], i['state'], params['wait'])
                     for i in instances if i['state'] not in ('MASTER', 'BACKUP', 'FAULT')]
        for item in instances:
            item.pop('last_transition', None)
            item.pop('master_down', None)
        result['instances'] = instances
    if params['virtual_servers']:
        result['ipvs'] = ipvs = inspect(module, from_keepalived(params['virtual_servers']), split_down=True)
        if not ipvs['available']:
            failures.append('keepalived has virtual servers, but %s' % ipvs['reason'])
        failures += ipvs['drift']
        if params['fail_on_down']:
            failures += ['%s: not in the IPVS table (its health check fails)' % label for label in ipvs['down']]
    result['failures'] = failures
    finish(module, result, failures)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            instances=dict(type='list', elements='str', default=[]),
            path=dict(type='path', default='/etc/keepalived/keepalived.conf'),
            pid_file=dict(type='path', default='/run/keepalived.pid'),
            data_file=dict(type='path', default='/tmp/keepalived.data'),
            wait=dict(type='int', default=15),
            virtual_servers=dict(type='list', elements='dict', default=[]),
            fail_on_down=dict(type='bool', default=False),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
