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
  - With O(wait=true), waits until a drained or disabled server has no sessions left (C(scur) in C(show stat)), or
    until a server set V(ready) is C(UP) again (every health check passing), bounded by O(wait_timeout).
  - Without O(backend), acts on the server of that name in every backend that has one, so a rolling restart drains
    a web host wherever the balancer sends it traffic.
  - The state survives reloads when HAProxy uses a C(server-state-file) that is saved before each reload, as the
    C(opsnotes.edge.haproxy) role does.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  backend:
    description:
      - The backend.
      - Omitted, every backend that has a server named O(server) (at least one must).
    type: str
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
    description:
      - After V(drain) or V(maint) (or with no O(state)), wait until the server has no current sessions.
      - After V(ready), wait until HAProxy reports the server C(UP) (C(no check) for a server without health checks),
        so that a server back from maintenance is known to take traffic, its health checks passing.
      - In every backend concerned; on timeout the module fails naming each server still waited for, and leaves
        the state it set.
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

- name: Drain web1 in every backend that has it (a rolling restart), waiting for its sessions to end
  opsnotes.edge.haproxy_server:
    server: web1
    state: drain
    wait: true

- name: Back in service, once its health checks pass again
  opsnotes.edge.haproxy_server:
    server: web1
    state: ready
    wait: true

- name: Back in service at half weight
  opsnotes.edge.haproxy_server:
    backend: be_www
    server: www1
    state: ready
    weight: 50
"""

RETURN = r"""
before:
  description: The live state before the call (C(status) is HAProxy's, as C(show stat) says it).
  returned: when the server is in one backend
  type: dict
  sample: {state: ready, weight: 1, scur: 3, status: UP}
after:
  description: The state after the call (as read back; in check mode, as it would be).
  returned: when the server is in one backend
  type: dict
  sample: {state: drain, weight: 1, scur: 0, status: DRAIN}
backends:
  description: The backends acted on.
  returned: always
  type: list
  elements: str
  sample: [be_www, be_api]
servers:
  description: Per backend acted on, the state before and after.
  returned: always
  type: list
  elements: dict
  sample: [{backend: be_www, before: {state: ready, weight: 1, scur: 3, status: UP},
            after: {state: drain, weight: 1, scur: 0, status: DRAIN}}]
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

from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import ADMIN_SOCKET
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
    """[(backend, {'state', 'weight', 'scur', 'status'})] of ``server`` in ``backend``, or in every backend that
    has a server of that name when ``backend`` is None; fails clearly when there is none."""
    try:
        answer = command(sock, 'show servers state' + (' %s' % backend if backend else ''))
        if answer.strip().lower().startswith(("can't find backend", 'unknown backend')):
            module.fail_json(msg='backend %s does not exist (%s)' % (backend, answer.strip()))
        rows = [r for r in parse_servers_state(answer) if r.get('srv_name') == server]
        if not rows:
            module.fail_json(msg='server %s does not exist in backend %s' % (server, backend) if backend
                             else 'no backend has a server named %s' % server)
        stats = dict(((r['pxname'], r['svname']), r) for r in parse_stat(command(sock, 'show stat')))
    except RuntimeError_ as exc:
        module.fail_json(msg=str(exc))
    out = []
    for row in rows:
        stat = stats.get((row['be_name'], server), {})
        out.append((row['be_name'], dict(state=admin_state(row), weight=int(row.get('srv_uweight', 0)),
                                         scur=int(stat.get('scur') or 0), status=stat.get('status', ''))))
    return out


def is_up(state):
    """HAProxy's status of a server fully in service: UP (every check passed), or no health check at all."""
    return state['status'] in ('UP', 'no check')


def waiting(servers, want_state):
    """The (backend, reason) of each server still to wait for: sessions left after a drain or maint (or with no
    state asked), or not yet UP after ready."""
    if want_state == 'ready':
        return [(b, 'is %s, not UP' % (s['status'] or 'unknown')) for b, s in servers if not is_up(s)]
    return [(b, 'still has %d session(s)' % s['scur']) for b, s in servers if s['scur'] > 0]


def describe(servers):
    return ''.join('%s: state %s, weight %d\n' % (b, s['state'], s['weight']) for b, s in servers)


def run(module):
    params = module.params
    sock, backend, server = params['socket'], params['backend'], params['server']
    for key in ('backend', 'server'):
        value = params[key]
        if (value is not None or key == 'server') and (not value or any(c.isspace() for c in value) or '/' in value):
            module.fail_json(msg='%s: %r must be a name without spaces or "/"' % (key, value))
    if params['weight'] is not None and not 0 <= params['weight'] <= 256:
        module.fail_json(msg='weight: %d must be from 0 to 256' % params['weight'])
    before = live(module, sock, backend, server)
    want_state = ALIASES.get(params['state'], params['state'])
    commands, after = [], []
    for name, state in before:
        state = dict(state)
        if want_state and want_state != state['state']:
            commands.append('set server %s/%s state %s' % (name, server, want_state))
            state['state'] = want_state
        if params['weight'] is not None and params['weight'] != state['weight']:
            commands.append('set weight %s/%s %d' % (name, server, params['weight']))
            state['weight'] = params['weight']
        after.append((name, state))
    result = dict(changed=bool(commands), commands=commands, diff=dict(before=describe(before), after=describe(after)))

    def finish(servers, fail=None):
        result['backends'] = [name for name, _state in servers]
        old = dict(before)
        result['servers'] = [dict(backend=name, before=old.get(name), after=new) for name, new in servers]
        if len(servers) == 1:
            result['before'], result['after'] = before[0][1], servers[0][1]
        if fail:
            module.fail_json(msg=fail, **result)
        module.exit_json(**result)

    if module.check_mode:
        finish(after)
    try:
        for text in commands:
            check_answer(command(sock, text))
    except RuntimeError_ as exc:
        finish(before, 'HAProxy refused "%s": %s' % (text, exc))
    after = live(module, sock, backend, server)
    if params['wait']:
        start = time.time()
        while waiting(after, want_state) and time.time() - start < params['wait_timeout']:
            time.sleep(0.5)
            after = live(module, sock, backend, server)
        result['waited'] = round(time.time() - start, 2)
        left = waiting(after, want_state)
        if left:
            finish(after, '; '.join('%s/%s %s after %ds' % (name, server, reason, params['wait_timeout'])
                                    for name, reason in left))
    finish(after)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str'),
            server=dict(type='str', required=True),
            state=dict(type='str', choices=['enabled', 'disabled', 'drain', 'maint', 'ready']),
            weight=dict(type='int'),
            socket=dict(type='path', default=ADMIN_SOCKET),
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
