#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_server
short_description: Drain, disable, enable and weigh an HAProxy server at runtime, idempotently
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Sets a server's administrative state and weight through HAProxy's admin socket, without a reload.
  - Reads the live state first (C(show servers state)) and reports a change only when the live state differs;
    supports check mode and diff mode.
  - With O(wait=true), waits until a drained or disabled server has no sessions left (C(scur) in C(show stat)),
    bounded by O(wait_timeout).
  - The state survives reloads when HAProxy uses a C(server-state-file) that is saved before each reload, as the
    C(opsnotes.edge.haproxy) role does.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  backend:
    description: The backend.
    type: str
    required: true
  server:
    description: The server in O(backend).
    type: str
    required: true
  state:
    description:
      - V(ready) (or its alias V(enabled)) takes traffic; V(drain) keeps existing sessions and gets no new ones;
        V(maint) (or V(disabled)) gets no traffic at all.
    type: str
    choices: [enabled, disabled, drain, maint, ready]
  weight:
    description: The weight, 0 to 256 (0 also stops new traffic, in the server's current state).
    type: int
  socket:
    description: The admin socket (C(level admin)).
    type: path
    default: /run/haproxy/admin.sock
  wait:
    description: Wait until the server has no current sessions (useful after V(drain) or V(maint)).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait at most with O(wait=true).
    type: int
    default: 60
seealso:
  - module: opsnotes.edge.haproxy_check
  - module: community.general.haproxy
"""

EXAMPLES = r"""
- name: Drain www1 and wait until its sessions are gone
  opsnotes.edge.haproxy_server:
    backend: be_www
    server: www1
    state: drain
    wait: true
    wait_timeout: 120

- name: Back in service at half weight
  opsnotes.edge.haproxy_server:
    backend: be_www
    server: www1
    state: ready
    weight: 50
"""

RETURN = r"""
before:
  description: The live state before the call.
  returned: always
  type: dict
  sample: {state: ready, weight: 1, scur: 3}
after:
  description: The state after the call (as read back; in check mode, as it would be).
  returned: always
  type: dict
  sample: {state: drain, weight: 1, scur: 0}
commands:
  description: The runtime API commands sent (or, in check mode, that would be sent).
  returned: always
  type: list
  elements: str
  sample: [set server be_www/www1 state drain]
waited:
  description: Seconds spent waiting for the sessions to end.
  returned: when O(wait=true)
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_runtime import (
    RuntimeError_,
    admin_state,
    check_answer,
    command,
    parse_servers_state,
    parse_stat,
)

ALIASES = {'enabled': 'ready', 'disabled': 'maint'}


def live(module, sock, backend, server):
    """{'state', 'weight', 'scur'} of backend/server, failing clearly when either does not exist."""
    try:
        answer = command(sock, 'show servers state %s' % backend)
        if answer.strip().lower().startswith(("can't find backend", 'unknown backend')):
            module.fail_json(msg='backend %s does not exist (%s)' % (backend, answer.strip()))
        rows = [r for r in parse_servers_state(answer) if r.get('srv_name') == server]
        if not rows:
            module.fail_json(msg='server %s does not exist in backend %s' % (server, backend))
        stats = [r for r in parse_stat(command(sock, 'show stat')) if r['pxname'] == backend and r['svname'] == server]
    except RuntimeError_ as exc:
        module.fail_json(msg=str(exc))
    return dict(state=admin_state(rows[0]), weight=int(rows[0].get('srv_uweight', 0)),
                scur=int(stats[0].get('scur') or 0) if stats else 0)


def run(module):
    params = module.params
    sock, backend, server = params['socket'], params['backend'], params['server']
    for key in ('backend', 'server'):
        if not params[key] or any(c.isspace() for c in params[key]) or '/' in params[key]:
            module.fail_json(msg='%s: %r must be a name without spaces or "/"' % (key, params[key]))
    if params['weight'] is not None and not 0 <= params['weight'] <= 256:
        module.fail_json(msg='weight: %d must be from 0 to 256' % params['weight'])
    before = live(module, sock, backend, server)
    want_state = ALIASES.get(params['state'], params['state'])
    commands = []
    after = dict(before)
    if want_state and want_state != before['state']:
        commands.append('set server %s/%s state %s' % (backend, server, want_state))
        after['state'] = want_state
    if params['weight'] is not None and params['weight'] != before['weight']:
        commands.append('set weight %s/%s %d' % (backend, server, params['weight']))
        after['weight'] = params['weight']
    result = dict(changed=bool(commands), before=before, after=after, commands=commands,
                  diff=dict(before='state: %(state)s\nweight: %(weight)d\n' % before,
                            after='state: %(state)s\nweight: %(weight)d\n' % after))
    if module.check_mode:
        module.exit_json(**result)
    try:
        for text in commands:
            check_answer(command(sock, text))
    except RuntimeError_ as exc:
        module.fail_json(msg='HAProxy refused "%s": %s' % (text, exc), **result)
    result['after'] = live(module, sock, backend, server)
    if params['wait']:
        start = time.time()
        while result['after']['scur'] > 0 and time.time() - start < params['wait_timeout']:
            time.sleep(0.5)
            result['after'] = live(module, sock, backend, server)
        result['waited'] = round(time.time() - start, 2)
        if result['after']['scur'] > 0:
            module.fail_json(msg='%s/%s still has %d session(s) after %ds' % (
                backend, server, result['after']['scur'], params['wait_timeout']), **result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', required=True),
            server=dict(type='str', required=True),
            state=dict(type='str', choices=['enabled', 'disabled', 'drain', 'maint', 'ready']),
            weight=dict(type='int'),
            socket=dict(type='path', default='/run/haproxy/admin.sock'),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=60),
        ),
        required_one_of=[('state', 'weight', 'wait')],
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
