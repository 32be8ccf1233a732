#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keepalived_config
short_description: Render, validate with keepalived --config-test, swap in and reload keepalived.conf
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Lints a structured keepalived configuration (VRRP instances, tracked scripts and processes, IPVS virtual
    servers with their real servers and health checks) and renders the whole C(keepalived.conf).
  - "Stage: the new file is written in a private temporary directory outside the configuration tree (nothing is
    written there in check mode) and checked with C(keepalived --config-test); keepalived
    starts even with errors in its configuration (it drops what it cannot read: a script, a tracked check), so a
    file that fails the check never goes live."
  - "Swap and reload: the file is replaced atomically (mode 0600: it holds the VRRP password) and a running
    keepalived is reloaded with SIGHUP (C(systemctl reload)), which keeps each unchanged VRRP instance in its state:
    the virtual addresses do not move. When the reload fails, the previous file is restored."
  - "With virtual servers, the kernel must have IPVS (keepalived exits at start without it): where C(/proc/net/ip_vs)
    is missing the module loads C(ip_vs) (C(modprobe), also in check mode: the virtual servers need it anyway), and
    where that fails it fails before anything changes, the packages included, with RV(ipvs) false."
  - Lint refuses what keepalived would misread or silently change (a password longer than its 8 characters,
    C(nopreempt) with state MASTER, a real server port other than the virtual server's in direct routing),
    undefined tracked scripts and processes, and script words with no safe spelling; the rest is rendered so that
    keepalived reads every value back as it was given.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._provision
  - opsnotes.edge._attributes.STATE_MODULE
options:
  config:
    description:
      - "The configuration: C(global) (C(router_id)), C(vrrp_scripts), C(track_processes), C(vrrp_instances),
        C(virtual_servers). See the C(opsnotes.edge.keepalived) role for the item keys."
    type: dict
    required: true
  path:
    description: The configuration file.
    type: path
    default: /etc/keepalived/keepalived.conf
  service:
    description: The systemd unit reloaded after a change, when it is running (and kept running, with O(keep_running)).
    type: str
    default: keepalived.service
  reload:
    description: Reload a running keepalived after a change (and restore the previous file when that fails).
    type: bool
    default: true
  header:
    description: Comment written at the top of the file.
    type: str
    default: Managed by Ansible (opsnotes.edge.keepalived_config). Local edits are overwritten.
requirements:
  - keepalived 2.0.11 or later (C(--config-test), C(vrrp_track_process))
seealso:
  - module: opsnotes.edge.ipvs_check
"""

EXAMPLES = r"""
- name: One VIP held by one of two directors, moving when HAProxy stops
  opsnotes.edge.keepalived_config:
    config:
      track_processes:
        - {name: haproxy, process: haproxy, weight: -100}
      vrrp_instances:
        - name: VI_WEB
          interface: eth0
          virtual_router_id: 51
          priority: 150
          unicast_src_ip: 192.0.2.11
          unicast_peers: [192.0.2.12]
          auth_pass: s3cret
          virtual_ipaddresses: [192.0.2.100/24]
          track_processes: [haproxy]
"""

RETURN = r"""
packages_installed:
  description: The packages of O(packages) that were (or, in check mode, would be) installed.
  returned: success
  type: list
  elements: str
  sample: []
service_actions:
  description: What O(keep_running) did (or would do) to O(service), among V(enable) and V(start).
  returned: success
  type: list
  elements: str
  sample: []
content:
  description: The rendered file, with the VRRP passwords redacted.
  returned: always
  type: str
ipvs:
  description: Whether the kernel has IPVS; null when the configuration has no virtual servers (not looked for).
  returned: always, except in check mode on a host that lacks the packages (nothing to check with yet)
  type: bool
  sample: true
  version_added: 0.2.0
validated:
  description: Whether the new file passed C(keepalived --config-test).
  returned: always
  type: bool
reloaded:
  description: Whether a running keepalived was reloaded with the new file.
  returned: always
  type: bool
warnings_lint:
  description: Lint findings that are not errors.
  returned: always
  type: list
  elements: str
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._install import (
    PROVISION_ARGS,
    LiveFile,
    Provision,
    systemd_reload,
    unit_active,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._keepalived import lint, redact, render
from ansible_collections.opsnotes.edge.plugins.module_utils._rendered_config import prepare

MODE = 0o600
IPVS_PROC = '/proc/net/ip_vs'


def ipvs_missing(module):
    """None where the kernel has IPVS (loading ip_vs where it is a module), else why not."""
    if os.path.exists(IPVS_PROC):
        return None
    modprobe = module.get_bin_path('modprobe')
    if not modprobe:
        return 'no %s, and no modprobe to load ip_vs with' % IPVS_PROC
    rc, out, err = module.run_command([modprobe, 'ip_vs'])
    if rc == 0 and os.path.exists(IPVS_PROC):
        return None
    return 'no %s, and modprobe ip_vs failed: %s' % (IPVS_PROC, (out + err).strip() or 'exit status %d' % rc)


def config_test(module, keepalived, path, content):
    """keepalived --config-test on ``content``, staged in a private temporary directory outside the configuration
    tree (never the live file; a check-mode run writes nothing there, and a killed run leaves nothing in /etc):
    (ok, output)."""
    stage = tempfile.mkdtemp(prefix='opsnotes-keepalived-')
    staged = os.path.join(stage, os.path.basename(path))
    try:
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
        with os.fdopen(fd, 'w') as handle:
            handle.write(content)
        rc, out, err = module.run_command([keepalived, '--config-test', '-f', staged])
        return rc == 0, redact((out + err).replace(staged, path).strip())
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def run(module):
    params = module.params
    ipvs = None
    if params['config'].get('virtual_servers'):
        missing = ipvs_missing(module)
        ipvs = missing is None
        if missing:
            module.fail_json(msg='virtual_servers: this host\'s kernel has no IPVS (%s): keepalived would exit at '
                                 'start; nothing was changed' % missing, ipvs=False, changed=False)
    provision = Provision(module)
    old, content, result = prepare(module, lint, render, redact=redact, perms=(MODE, None), provision=provision,
                                   unchanged=lambda unchanged: unchanged.update(ipvs=ipvs))
    result['ipvs'] = ipvs
    path = params['path']
    keepalived = module.get_bin_path('keepalived', required=True)
    ok, output = config_test(module, keepalived, path, content)
    if not ok:
        result['changed'] = bool(result['packages_installed'])
        module.fail_json(msg='the new configuration fails keepalived --config-test; nothing was changed: %s'
                             % (output or '(no output)'), **result)
    result['validated'] = True
    if module.check_mode:
        module.exit_json(**provision.finish(result))

    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    reload = None
    if params['reload'] and unit_active(module, params['service']):
        reload = systemd_reload(module, params['service'])
    LiveFile(module, path, old, MODE).install(result, content, reload=reload)
    module.exit_json(**provision.finish(result))


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            config=dict(type='dict', required=True),
            path=dict(type='path', default='/etc/keepalived/keepalived.conf'),
            service=dict(type='str', default='keepalived.service'),
            reload=dict(type='bool', default=True),
            header=dict(type='str', default='Managed by Ansible (opsnotes.edge.keepalived_config). '
                                            'Local edits are overwritten.'),
            **PROVISION_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
