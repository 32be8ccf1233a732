#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_import
short_description: Read an existing haproxy.cfg as the variables of the opsnotes.edge.haproxy role
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Reads O(path) and returns RV(variables), the C(opsnotes.edge.haproxy) role's variables for the same
    configuration, to take over a running HAProxy with the role.
  - Frontends, backends, listen sections and userlists become C(haproxy_frontends), C(haproxy_backends),
    C(haproxy_listens) and C(haproxy_userlists). What the role has a key for becomes that key (binds, mode, ACLs, the
    rule lists, C(use_backend), C(default_backend), stick tables, balance, cookie, stick and use-server rules,
    servers). Every other line of the section is kept in its C(directives), as written. Conditions and arguments
    keep their quoting. http-errors sections become C(haproxy_http_errors), and the sections the role has no keys
    for (peers, resolvers, mailers, cache, ring, log-forward, program...) C(haproxy_sections), their lines as
    written.
  - Where one line of a kind whose order matters (C(http-request), C(server)...) cannot take its key, every line of
    that kind in the section is kept as a directive, in the order written, so that no rule jumps ahead of another.
  - The global and defaults sections are the role's own. The values it has variables for are read (C(maxconn), the
    connect, client and server timeouts, the stats socket, the server state file), and the lines the role writes
    itself are left to it. Every other line joins C(haproxy_global_directives) or C(haproxy_defaults_directives), as
    written (the TLS defaults too, as a TLS C(bind) line comes back as a directive), but for those the role writes
    its own way (C(chroot), C(user), C(group), the admin socket's options and timeout).
  - Those lines, and a named defaults section with its lines, are listed in RV(inexpressible) with their line number
    and the reason. Nothing is dropped silently.
  - "The map and pattern files the configuration reads from O(maps_dir) (an ACL's C(-f), the C(map*) converters,
    C(set-map), C(add-acl)...) become C(haproxy_maps), their entries as HAProxy reads them (comments and blank
    lines dropped; of a key given twice, the first, which is the one HAProxy matches). A file elsewhere is listed
    in RV(inexpressible): the role installs its files in one directory."
  - Read-only.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  path:
    description: The configuration file to read.
    type: path
    default: /etc/haproxy/haproxy.cfg
  maps_dir:
    description: The directory of the map and pattern files to import (the role's C(haproxy_maps_dir)).
    type: path
    default: /etc/haproxy/maps
  fail_on_inexpressible:
    description: Fail when some lines have no place in the role's variables (RV(inexpressible) is not empty).
    type: bool
    default: false
notes:
  - "To take a running HAProxy over: import, put RV(variables) in the inventory, read RV(inexpressible) and decide
    for each line (the role's own global and defaults sections replace those), then run the role with C(--check
    --diff) and read the difference before the real run."
seealso:
  - module: opsnotes.edge.haproxy_config
"""

EXAMPLES = r"""
- name: Read the running configuration as the role's variables
  opsnotes.edge.haproxy_import:
    path: /etc/haproxy/haproxy.cfg
  register: imported

- name: Write them where the inventory reads them
  ansible.builtin.copy:
    content: "{{ imported.variables | to_nice_yaml }}"
    dest: "host_vars/{{ inventory_hostname }}/haproxy.yml"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
variables:
  description: The role's variables for the configuration read.
  returned: success
  type: dict
  sample:
    haproxy_frontends:
      - name: fe_web
        bind: ["*:80"]
        acls: [{name: host_www, criterion: "hdr_beg(host)", flags: [-i], values: [www]}]
        http_request: [{action: deny, args: "deny_status 400", cond: dup_host}]
        use_backend: [{backend: be_www, cond: host_www}]
        default_backend: be_default
        directives: ["option forwardfor"]
    haproxy_backends:
      - name: be_www
        balance: roundrobin
        servers: [{name: w1, address: 10.0.0.11, port: 8080, check: true}]
        directives: ["option httpchk GET /health"]
    haproxy_listens:
      - name: stats
        bind: ["127.0.0.1:8404"]
        directives: ["stats enable", "stats uri /"]
    haproxy_userlists: []
    haproxy_http_errors: [{name: site, errorfiles: {'503': /etc/haproxy/errors/site/503.http}}]
    haproxy_maps: [{name: hosts.map, entries: {www.example.org: be_www}}]
    haproxy_global_directives: ["nbthread 4"]
    haproxy_defaults_directives: ["option forwardfor", "errorfiles site"]
    haproxy_maxconn: 4096
inexpressible:
  description: The lines the variables cannot hold, C({line, text, reason}) each, in the file's order.
  returned: success
  type: list
  elements: dict
  sample:
    - {line: 4, text: "chroot /srv/haproxy", reason: "the role runs HAProxy in /var/lib/haproxy (its global section is
       the role's own)"}
    - {line: 40, text: "defaults tcp", reason: "a named defaults section: the role writes one defaults section"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_import import import_config


def read_file(path):
    with open(path, encoding='utf-8', errors='surrogateescape') as handle:
        return handle.read()


def run(module):
    path = module.params['path']
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as handle:
            text = handle.read()
    except OSError as exc:
        module.fail_json(msg='cannot read %s: %s' % (path, exc.strerror))
    variables, inexpressible = import_config(text, module.params['maps_dir'], read_file)
    result = dict(changed=False, variables=variables, inexpressible=inexpressible)
    if inexpressible and module.params['fail_on_inexpressible']:
        module.fail_json(msg='%d line(s) of %s have no place in the role\'s variables: %s' % (
            len(inexpressible), path, '; '.join('line %d (%s): %s' % (i['line'], i['text'], i['reason'])
                                                for i in inexpressible)), **result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/haproxy/haproxy.cfg'),
            maps_dir=dict(type='path', default='/etc/haproxy/maps'),
            fail_on_inexpressible=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
