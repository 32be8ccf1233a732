#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: syslog_ng_config
short_description: Render, validate, swap in and reload one syslog-ng configuration fragment, rolling back on failure
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Lints a structured syslog-ng configuration (sources, destinations, templates, filters, log paths), renders it as
    one fragment in C(conf.d), and never lets a broken fragment stay live.
  - "Stage: the whole configuration (main file, other fragments, the new fragment) is copied to a temporary
    directory and checked with C(syslog-ng --syntax-only) before the live file is touched."
  - "Swap and reload: the fragment is replaced atomically and the daemon is reloaded with C(syslog-ng-ctl reload).
    Some errors only show when syslog-ng initialises the new configuration (a port in use, two file sources on one
    file); syslog-ng then keeps the old configuration running and the module restores the previous fragment, so the
    files on disk match what runs, and fails with the reason."
  - Lint refuses values that could leave their quotes, undefined references, and the C($PROGRAM) trap (a file source
    without C(program_override) feeding a destination split by C($PROGRAM)).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._provision
  - opsnotes.edge._attributes.STATE_MODULE
options:
  config:
    description:
      - "The configuration: C(file_sources), C(file_destinations), C(network_sources), C(network_destinations),
        C(templates), C(filters), C(log_paths), and C(external_sources) / C(external_destinations) (names defined
        elsewhere, such as Debian's C(s_src)). See the C(opsnotes.edge.syslog_ng) role for the item keys."
    type: dict
    required: true
  path:
    description: The fragment file. Its directory must be included by O(main_config).
    type: path
    default: /etc/syslog-ng/conf.d/50-opsnotes.conf
  main_config:
    description: The main configuration file that includes the fragment.
    type: path
    default: /etc/syslog-ng/syslog-ng.conf
  reload:
    description: Reload a running daemon after a change (and roll back when the reload fails).
    type: bool
    default: true
  header:
    description: Comment written at the top of the fragment.
    type: str
    default: Managed by Ansible (opsnotes.edge.syslog_ng_config). Local edits are overwritten.
  service:
    description: The systemd unit of syslog-ng, for O(keep_running).
    type: str
    default: syslog-ng.service
requirements:
  - syslog-ng (C(syslog-ng), C(syslog-ng-ctl))
seealso:
  - module: opsnotes.edge.syslog_ng_check
"""

EXAMPLES = r"""
- name: Tail an access log and forward it with its program name kept
  opsnotes.edge.syslog_ng_config:
    config:
      file_sources:
        - {name: s_app, path: /var/log/nginx/access.log, program_override: app.example.org}
      network_destinations:
        - {name: d_collector, host: logs.example.org, port: 514, disk_buffer: {disk_buf_size: 104857600}}
      log_paths:
        - {sources: [s_app], destinations: [d_collector]}
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
  description: The rendered fragment.
  returned: always
  type: str
validated:
  description: Whether the staged configuration passed C(syslog-ng --syntax-only).
  returned: always
  type: bool
reloaded:
  description: Whether the daemon was reloaded with the new fragment.
  returned: always
  type: bool
warnings_lint:
  description: Lint findings that are not errors (objects no log path uses).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._install import (
    PROVISION_ARGS,
    LiveFile,
    Provision,
    run_reload,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._rendered_config import prepare
from ansible_collections.opsnotes.edge.plugins.module_utils._staged import StageError, staged_tree
from ansible_collections.opsnotes.edge.plugins.module_utils._syslog_ng import (
    daemon_running,
    lint,
    locate,
    render,
    syntax_check,
    syntax_hint,
)


def stage_and_check(module, syslog_ng, main_config, path, content):
    """Validate the whole configuration with ``content`` as the fragment, on a staged copy of the tree (see
    module_utils/_staged), without touching live files. Returns (ok, output naming the live paths)."""
    try:
        with staged_tree(main_config, path, content) as (staged_main, unstage):
            ok, text = syntax_check(module, syslog_ng, staged_main)
            return ok, unstage(text)
    except StageError as exc:
        module.fail_json(msg=str(exc))


def run(module):
    params = module.params
    provision = Provision(module)
    old, content, result = prepare(module, lint, render, provision=provision)
    path = params['path']

    syslog_ng = module.get_bin_path('syslog-ng', required=True)
    ok, output = stage_and_check(module, syslog_ng, params['main_config'], path, content)
    if not ok:
        hint = syntax_hint(output, params['config'])
        # Each place syslog-ng names in the fragment gets the variable its line comes from.
        sources = {}
        render(params['config'], params['header'], sources)
        result['changed'] = bool(result['packages_installed'])
        module.fail_json(msg='the new configuration fails syslog-ng --syntax-only; nothing was changed: %s%s'
                             % (locate(output, path, sources), '\n' + hint if hint else ''), **result)
    result['validated'] = True
    if module.check_mode:
        module.exit_json(**provision.finish(result))

    ctl = module.get_bin_path('syslog-ng-ctl', required=True)
    reload = None
    if params['reload'] and daemon_running(module, ctl):
        reload = ('syslog-ng-ctl reload', lambda: run_reload(module, [ctl, 'reload']))
    # A refused reload leaves syslog-ng running its previous configuration.
    LiveFile(module, path, old).install(result, content, reload=reload,
                                        hint='. syslog-ng refused the new configuration at reload and kept the '
                                             'previous one running; the reason is in the journal: '
                                             'journalctl -u syslog-ng')
    module.exit_json(**provision.finish(result))


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            config=dict(type='dict', required=True),
            path=dict(type='path', default='/etc/syslog-ng/conf.d/50-opsnotes.conf'),
            main_config=dict(type='path', default='/etc/syslog-ng/syslog-ng.conf'),
            reload=dict(type='bool', default=True),
            header=dict(type='str', default='Managed by Ansible (opsnotes.edge.syslog_ng_config). '
                                            'Local edits are overwritten.'),
            service=dict(type='str', default='syslog-ng.service'),
            **PROVISION_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
