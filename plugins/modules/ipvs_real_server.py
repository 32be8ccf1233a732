#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ipvs_real_server
short_description: Drain an IPVS real server (weight 0) and put it back, waiting for its connections or its return
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Sets the weight of one real server in a director's IPVS table with C(ipvsadm -e), in every virtual service
    that has it or in the one named, and keeps its forwarding method and connection thresholds (an edit without
    them would reset them).
  - "V(drain) sets weight 0: the scheduler sends the real server no new connection, and the established ones
    continue. With persistence, clients already bound to it keep reaching it until their persistence template
    expires (or at once with the sysctl C(net.ipv4.vs.expire_quiescent_template=1))."
  - "V(ready) sets O(weight). keepalived takes a real server whose health check fails out of the table and puts
    it back, at its configured weight, when the check passes again; with O(wait=true) the module waits for that."
  - "Reads the table first and changes only what differs; supports check mode and diff mode. A real server that is
    not in a virtual service's table takes no connection there: V(drain) leaves it so."
  - "Where keepalived manages the table, set O(weight) to keepalived's configured weight: keepalived does not
    restore a weight changed behind it until the real server fails a health check and comes back, or keepalived
    reloads."
  - Needs C(ipvsadm) and a kernel with IPVS.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  address:
    description: The real server's address.
    type: str
    required: true
  port:
    description: The real server's port; omitted, every port of O(address).
    type: int
  virtual_address:
    description: Only the virtual service at this address (with O(virtual_port)).
    type: str
  virtual_port:
    description: Only the virtual service at this port (with O(virtual_address)).
    type: int
  protocol:
    description: The protocol of the virtual service named by O(virtual_address) and O(virtual_port).
    type: str
    choices: [tcp, udp, sctp]
    default: tcp
  fwmark:
    description: Only the firewall-mark virtual service with this mark.
    type: int
  state:
    description: V(drain) sets weight 0; V(ready) sets O(weight).
    type: str
    choices: [drain, ready]
    required: true
  weight:
    description: The weight V(ready) sets, 1 to 65535.
    type: int
  wait:
    description:
      - "After V(drain), wait until the real server has no active connection (C(ActiveConn)) in any virtual
        service concerned whose address this host holds (a firewall-mark service always counts). A director that
        does not hold the virtual address forwards nothing: the connections it still lists (after a failover they
        stay ESTABLISHED until IPVS's TCP timeout, 15 minutes by default) are not waited for, and are reported in
        RV(stale)."
      - After V(ready), wait until it is in the table of every virtual service concerned (keepalived adds it back
        when its health check passes) and set its weight there.
      - On timeout the module fails naming each virtual service still waited for, and leaves the weight it set.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait at most with O(wait=true).
    type: int
    default: 120
seealso:
  - module: opsnotes.edge.ipvs_check
  - module: opsnotes.edge.haproxy_server
"""

EXAMPLES = r"""
- name: Drain 10.0.0.11 in every virtual service and wait for its connections to end
  opsnotes.edge.ipvs_real_server:
    address: 10.0.0.11
    state: drain
    wait: true
    wait_timeout: 300

- name: Back at weight 1 in the HTTPS service, once keepalived's health check has put it back in the table
  opsnotes.edge.ipvs_real_server:
    address: 10.0.0.11
    virtual_address: 192.0.2.10
    virtual_port: 443
    state: ready
    weight: 1
    wait: true
"""

RETURN = r"""
servers:
  description: Per virtual service that has the real server, its entry before and after.
  returned: always
  type: list
  elements: dict
  sample: [{service: TCP 192.0.2.10:443, real_server: "10.0.0.11:443",
            before: {weight: 1, active: 3, inactive: 10}, after: {weight: 0, active: 0, inactive: 12}}]
absent:
  description: The virtual services concerned whose table does not hold the real server.
  returned: always
  type: list
  elements: str
  sample: [TCP 192.0.2.10:80]
commands:
  description: The ipvsadm commands run (or, in check mode, that would be run).
  returned: always
  type: list
  elements: str
  sample: [ipvsadm -e -t 192.0.2.10:443 -r 10.0.0.11:443 -g -w 0 -x 0 -y 0]
stale:
  description: After V(drain) with O(wait=true), the virtual services whose active connections were not waited for,
    because this host does not hold their address.
  returned: when O(wait=true) and O(state=drain) and not in check mode
  type: list
  elements: str
  sample: ["TCP 192.0.2.10:443 -> 10.0.0.11:443 (1 active connection(s)): this host does not hold 192.0.2.10"]
waited:
  description: Seconds spent waiting.
  returned: when O(wait=true) and not in check mode
  type: float
"""

import ipaddress
import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._ipvs import (
    ParseError,
    edit_argv,
    endpoint,
    key,
    parse,
    thresholds,
)


class Director(object):
    """The table as ipvsadm lists it, and its edits."""

    def __init__(self, module):
        self.module = module
        self.ipvsadm = module.get_bin_path('ipvsadm')
        if not self.ipvsadm:
            module.fail_json(msg='ipvsadm is not installed (the opsnotes.edge.keepalived role installs it on a '
                                 'director with keepalived_virtual_servers)')

    def run(self, argv):
        rc, out, err = self.module.run_command([self.ipvsadm] + argv)
        if rc != 0:
            self.module.fail_json(msg='ipvsadm %s failed: %s' % (' '.join(argv), (err or out).strip()))
        return out

    def table(self):
        try:
            return parse(self.run(['-Ln', '--exact']), False)
        except ParseError as exc:
            self.module.fail_json(msg='cannot read the IPVS table: %s' % exc)

    def held(self):
        """The addresses this host holds (``ip -o addr show``), or None where it cannot tell (no ip)."""
        ip = self.module.get_bin_path('ip')
        if not ip:
            return None
        rc, out, err = self.module.run_command([ip, '-o', 'addr', 'show'])
        if rc != 0:
            self.module.fail_json(msg='ip -o addr show failed: %s' % (err or out).strip())
        return {str(ipaddress.ip_address(a)) for a in re.findall(r'\sinet6?\s+([0-9A-Fa-f:.]+)/', out)}

    def thresholds(self):
        try:
            return thresholds(self.run(['-Ln', '--exact', '--thresholds']))
        except ParseError as exc:
            self.module.fail_json(msg='cannot read the IPVS thresholds: %s' % exc)


def canonical(module, name, value):
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        module.fail_json(msg='%s: %r is not an IP address' % (name, value))


def selection(module):
    """(the virtual service key asked for or None, the real server's address, its port or None)."""
    params = module.params
    address = canonical(module, 'address', params['address'])
    if (params['virtual_address'] is None) != (params['virtual_port'] is None):
        module.fail_json(msg='virtual_address and virtual_port: give both, or neither')
    named = None
    if params['virtual_address'] is not None:
        named = key(dict(protocol=params['protocol'].upper(), port=params['virtual_port'],
                         address=canonical(module, 'virtual_address', params['virtual_address'])))
    elif params['fwmark'] is not None:
        named = key(dict(fwmark=params['fwmark']))
    return named, address, params['port']


def entries(table, named, address, port):
    """([(service, real)] of the real server, [keys of the services concerned that do not hold it])."""
    found, absent = [], []
    for service in table:
        if named is not None and key(service) != named:
            continue
        reals = [r for r in service['real_servers'] if r['address'] == address and port in (None, r['port'])]
        found.extend((service, real) for real in reals)
        if not reals and named is not None:
            absent.append(key(service))
    return found, absent


def label(service, real):
    return '%s -> %s' % (key(service), endpoint(real['address'], real['port']))


def edits(module, director, found, weight):
    """The ipvsadm arguments that bring each entry of ``found`` to ``weight``."""
    todo = [(service, real) for service, real in found if real['weight'] != weight]
    if not todo:
        return []
    limits = {} if module.check_mode else director.thresholds()
    try:
        return [edit_argv(service, real, weight, *limits.get((key(service), real['address'], real['port']), (0, 0)))
                for service, real in todo]
    except ValueError as exc:
        module.fail_json(msg=str(exc))


def run(module):
    params = module.params
    named, address, port = selection(module)
    if params['state'] == 'ready' and not (params['weight'] and 1 <= params['weight'] <= 65535):
        module.fail_json(msg='weight: state=ready needs the weight to restore, from 1 to 65535')
    weight = 0 if params['state'] == 'drain' else params['weight']
    director = Director(module)
    table = director.table()
    if named is not None and named not in [key(service) for service in table]:
        module.fail_json(msg='%s is not in the IPVS table' % named)
    before, absent = entries(table, named, address, port)
    commands = edits(module, director, before, weight)
    result = dict(changed=bool(commands), absent=absent, commands=['ipvsadm ' + ' '.join(c) for c in commands])
    old = {label(service, real): real for service, real in before}

    def finish(found, fail=None):
        result['servers'] = [dict(service=key(service), real_server=endpoint(real['address'], real['port']),
                                  before=view(old.get(label(service, real))), after=view(real))
                             for service, real in found]
        result['diff'] = dict(before=describe(before), after=describe(found))
        if fail:
            module.fail_json(msg=fail, **result)
        module.exit_json(**result)

    who = endpoint(address, port) if port else address
    if params['state'] == 'ready' and not before and not params['wait']:
        finish(before, 'no virtual service holds %s%s (keepalived adds a real server when its health check '
                       'passes; wait=true waits for it)' % (who, ' in %s' % named if named else ''))
    if params['state'] == 'drain' and not before and not absent:
        module.warn('no virtual service holds %s: nothing to drain' % who)
    if module.check_mode:
        finish([(service, dict(real, weight=weight)) for service, real in before])
    for argv in commands:
        director.run(argv)
    after, left = before, []
    if commands:
        after, absent = entries(director.table(), named, address, port)
    if params['wait']:
        start = time.time()
        while True:
            late = edits(module, director, after, weight) if params['state'] == 'ready' else []
            for argv in late:
                director.run(argv)
                result['commands'].append('ipvsadm ' + ' '.join(argv))
            if late:
                result['changed'] = True
                after, absent = entries(director.table(), named, address, port)
            left = waiting(params['state'], after, absent, director.held() if params['state'] == 'drain' else None)
            if not left or time.time() - start >= params['wait_timeout']:
                break
            time.sleep(0.5)
            after, absent = entries(director.table(), named, address, port)
        result['waited'] = round(time.time() - start, 2)
        if params['state'] == 'drain':
            result['stale'] = stale(after, director.held())
    result['absent'] = absent
    if left:
        finish(after, '; '.join('%s after %ds' % (reason, params['wait_timeout']) for reason in left))
    finish(after)


def forwards(service, held):
    """Whether this host forwards for ``service``: it holds its address (None: cannot tell, so it may)."""
    return held is None or service.get('fwmark') is not None or service['address'] in held


def stale(found, held):
    return ['%s (%d active connection(s)): this host does not hold %s' % (label(s, r), r['active'], s['address'])
            for s, r in found if r['active'] and not forwards(s, held)]


def waiting(state, found, absent, held=None):
    """What is still to wait for: active connections after a drain, where this host forwards; a missing entry after
    ready."""
    if state == 'drain':
        return ['%s still has %d active connection(s)' % (label(s, r), r['active'])
                for s, r in found if r['active'] and forwards(s, held)]
    return ['%s: the real server is not in the table (its health check fails?)' % name for name in absent] + (
        [] if found or absent else ['no virtual service holds the real server'])


def view(real):
    return None if real is None else dict(weight=real['weight'], active=real['active'], inactive=real['inactive'])


def describe(found):
    return ''.join('%s weight %d\n' % (label(service, real), real['weight']) for service, real in found)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            address=dict(type='str', required=True),
            port=dict(type='int'),
            virtual_address=dict(type='str'),
            virtual_port=dict(type='int'),
            protocol=dict(type='str', default='tcp', choices=['tcp', 'udp', 'sctp']),
            fwmark=dict(type='int'),
            state=dict(type='str', required=True, choices=['drain', 'ready']),
            weight=dict(type='int'),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=120),
        ),
        mutually_exclusive=[('fwmark', 'virtual_address'), ('fwmark', 'virtual_port')],
        required_if=[('state', 'ready', ('weight',))],
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
