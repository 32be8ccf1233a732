#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_config
short_description: Lint, render, validate with haproxy -c, swap in and seamlessly reload an HAProxy configuration
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Lints a structured HAProxy configuration (frontends with ACLs, http-request rules and backend switching,
    backends with servers, userlists) and renders the whole C(haproxy.cfg).
  - "Never lets a broken configuration go live: the new file is staged in a private directory and checked with
    C(haproxy -c -f) first; only a valid file replaces the live one, atomically. HAProxy's message names, after each
    line it refuses, the variable that line comes from (for example C(haproxy_frontends[0].http_request[1])): the
    lint leaves fetch, converter and action names to HAProxy."
  - "Before reloading, saves the runtime state of every server (C(show servers state)) to the
    C(server-state-file), so drains, weights and disabled servers set at runtime survive the reload. A server whose
    address or port the new configuration changes is left out: HAProxy would apply its old address and port."
  - "The file is C(0644 root:root), or C(0640 root:haproxy) when it holds userlists (password hashes), which
    are redacted in the module's result and diff."
  - "Reloads, never restarts: C(systemctl reload) makes HAProxy's master start new workers that take the
    listening sockets over from the old ones (C(expose-fd listeners)), so no connection is refused."
  - "TLS certificates without a reload: when the configuration is unchanged but a certificate file that a
    frontend's C(tls_bind) loads holds another certificate than HAProxy serves (a renewal), the file's certificate
    and key are swapped in over the admin socket (C(set ssl cert), C(commit ssl cert)). The workers stay the same
    and established connections keep theirs; new handshakes get the new certificate. HAProxy refuses a key that is
    not the certificate's, and the old certificate stays served."
  - "CA files without a stale trust: HAProxy reads the CA files its servers verify against at start only. When the
    configuration is unchanged but such a file holds other certificates than HAProxy holds (C(show ssl ca-file)),
    a CA added to the trust store or taken out of it, HAProxy is reloaded (server state saved first), so that
    server verification follows the trust store."
  - "Map and pattern files (C(config.maps)) are data of the configuration: each is written to O(maps_dir), staged
    with the configuration and checked with it (C(haproxy -c) reads the staged files where the configuration names
    the live ones), and swapped in with it; a map change alone reloads HAProxy too. When the swap or the reload
    fails, the previous configuration and files come back together. A file of O(maps_dir) that this module wrote
    (its first line is the O(header)) and that the configuration no longer lists is removed."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._provision
  - opsnotes.edge._attributes.STATE_MODULE
options:
  config:
    description:
      - "C(frontends), C(backends), C(listens), C(userlists), C(http_errors), C(maps), C(global_directives),
        C(defaults_directives) and C(global) (C(stats_socket), C(state_file), C(timeout_connect), C(timeout_client),
        C(timeout_server), C(maxconn), C(tls_profile), C(acme_thumbprint)). See the C(opsnotes.edge.haproxy) role for
        the item keys (its variables with the C(haproxy_) prefix)."
      - "C(maps) is a list of C({name, entries}): C(entries) a mapping of key to value (a map file, for the C(map*)
        converters) or a list of patterns (a pattern file, for an ACL's C(-f)). The configuration names the file by its
        live path, O(maps_dir)/C(name)."
    type: dict
    required: true
  path:
    description: The configuration file.
    type: path
    default: /etc/haproxy/haproxy.cfg
  maps_dir:
    description: The directory of the map and pattern files of C(config.maps).
    type: path
    default: /etc/haproxy/maps
  reload:
    description: Reload a running HAProxy after a change (C(systemctl reload O(service))).
    type: bool
    default: true
  service:
    description: The systemd unit (reloaded, and kept running with O(keep_running)).
    type: str
    default: haproxy.service
  header:
    description: Comment written at the top of the file.
    type: str
    default: Managed by Ansible (opsnotes.edge.haproxy_config). Local edits are overwritten.
requirements:
  - haproxy
seealso:
  - module: opsnotes.edge.haproxy_server
  - module: opsnotes.edge.haproxy_check
"""

EXAMPLES = r"""
- name: Route static content by path and host
  opsnotes.edge.haproxy_config:
    config:
      frontends:
        - name: fe_web
          bind: ["*:80"]
          acls:
            - {name: url_static, criterion: path_beg, values: [/static, /images]}
            - {name: host_www, criterion: "hdr_beg(host)", flags: [-i], values: [www]}
          use_backend:
            - {backend: be_static, cond: host_www url_static}
          default_backend: be_www
      backends:
        - {name: be_static, servers: [{name: s1, address: 10.0.0.21, port: 8080, check: true}]}
        - {name: be_www, servers: [{name: w1, address: 10.0.0.11, port: 8080, check: true}]}

- name: Terminate TLS (an ECDSA and an RSA certificate), redirect http to https, answer ACME http-01 challenges
  opsnotes.edge.haproxy_config:
    config:
      global:
        acme_thumbprint: "{{ acme_account_thumbprint }}"
      frontends:
        - name: fe_web
          bind: ["*:80"]
          tls_bind: ["*:443"]
          tls_certificates:
            - /etc/haproxy/certs/www.example.org.ecdsa.pem
            - /etc/haproxy/certs/www.example.org.rsa.pem
          redirect_https: true
          acme_challenge: true
          hsts_max_age: 31536000
          default_backend: be_www
      backends:
        - {name: be_www, servers: [{name: w1, address: 10.0.0.11, port: 8080, check: true, send_proxy_v2: true}]}

- name: Pick the backend from a map of host names, and refuse the paths of a pattern file
  opsnotes.edge.haproxy_config:
    config:
      maps:
        - {name: hosts.map, entries: {www.example.org: be_www, static.example.org: be_static}}
        - {name: blocked-paths.lst, entries: [/admin, /.git]}
      frontends:
        - name: fe_web
          bind: ["*:80"]
          acls:
            - {name: blocked, criterion: path_beg, flags: ["-f /etc/haproxy/maps/blocked-paths.lst"]}
          http_request:
            - {action: deny, cond: blocked}
          use_backend:
            - {backend: "%[req.hdr(host),lower,map(/etc/haproxy/maps/hosts.map,be_www)]"}
      backends:
        - {name: be_static, servers: [{name: s1, address: 10.0.0.21, port: 8080, check: true}]}
        - {name: be_www, servers: [{name: w1, address: 10.0.0.11, port: 8080, check: true}]}
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
  description: The rendered configuration, with the password hashes of userlists redacted (as in the diff).
  returned: always
  type: str
validated:
  description: Whether the new file passed C(haproxy -c).
  returned: always
  type: bool
reloaded:
  description: Whether HAProxy was reloaded.
  returned: always
  type: bool
state_saved:
  description: Whether the servers' runtime state was saved to the state file before the reload.
  returned: always
  type: bool
state_dropped:
  description:
    - Servers whose saved state was left out of the state file because their address or port changed (HAProxy
      would otherwise apply the old address and port over the new configuration's). They start from the
      configuration, so a runtime drain or weight of theirs is not carried over.
  returned: always
  type: list
  elements: str
  sample: ["be_web/web1: web1.example.org:80 is now web1.example.org:8080"]
certificates:
  description:
    - With the configuration unchanged and HAProxy running, each certificate file of the frontends, what HAProxy
      served before the run, and whether it was swapped in (would be, in check mode). Empty after a reload,
      which loads the files anyway.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/haproxy/certs/www.example.org.ecdsa.pem, file_fingerprint: 3F1C...,
            served_fingerprint: 3F1C..., served_serial: 04A1..., swapped: false}]
ca_files_stale:
  description:
    - With the configuration unchanged and HAProxy running, the CA files whose certificates differed from those
      HAProxy held; it was reloaded for them (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/ssl/certs/ca-certificates.crt]
maps_changed:
  description: The map and pattern files of O(maps_dir) that were (or would be) written, or removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/haproxy/maps/hosts.map]
warnings_haproxy:
  description:
    - What C(haproxy -c) warned about the new configuration, each with the variable its line comes from (a rule
      HAProxy ignores, such as an L6 fetch in an http frontend's C(tcp-request content), does nothing). Also given
      as the task's warnings. Empty when the configuration did not change. The missing server state file before
      the first reload is left out.
  returned: always
  type: list
  elements: str
  sample: ["Proxy 'fe_web': L6 sample fetches ignored on HTTP proxies (declared at /etc/haproxy/haproxy.cfg:36
            (haproxy_frontends[0].tcp_request[1]))."]
warnings_lint:
  description: Lint findings that are not errors (unused ACLs and backends).
  returned: always
  type: list
  elements: str
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._files import FileTransaction, read_text, write_atomic
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import (
    ADMIN_SOCKET,
    STATE_FILE,
    ca_files,
    certificates,
    check_warnings,
    lint,
    locate,
    redact,
    render,
    render_maps,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_runtime import (
    NotLoaded,
    RuntimeError_,
    command,
    stale_ca_files,
    state_for,
    sync_certificates,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._install import (
    PROVISION_ARGS,
    REMOVED,
    RESTORED,
    Provision,
    systemd_reload,
    unit_active,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._rendered_config import prepare


def validate(module, path, content, maps=None, references=()):
    """(ok, output) of haproxy -c on a copy staged in a private temporary directory, outside the configuration
    tree (so a check-mode run writes nothing there, and a killed run leaves nothing behind in /etc). ``maps`` ({name:
    text}) are staged beside it, in ``maps/``: the staged copy names them where the configuration names
    O(maps_dir)/NAME (NAME in ``maps`` or ``references``, the files the change removes), so HAProxy checks the new
    files, and a reference to a removed one fails as it would after the swap."""
    haproxy = module.get_bin_path('haproxy', required=True)
    stage = tempfile.mkdtemp(prefix='opsnotes-haproxy-')
    staged = os.path.join(stage, os.path.basename(path))
    live_dir, staged_dir = module.params['maps_dir'].rstrip('/'), os.path.join(stage, 'maps')
    names = sorted(set(maps or {}) | set(references), key=len, reverse=True)
    try:
        os.mkdir(staged_dir)
        for name, text in (maps or {}).items():
            with open(os.path.join(staged_dir, name), 'w') as handle:
                handle.write(text)
        if names:
            pattern = re.compile(re.escape(live_dir + '/') + '(%s)(?![A-Za-z0-9_.-])' % '|'.join(map(re.escape, names)))
            content = pattern.sub(lambda match: staged_dir + '/' + match.group(1), content)
        with open(staged, 'w') as handle:
            handle.write(content)
        rc, out, err = module.run_command([haproxy, '-c', '-f', staged])
        return rc == 0, (out + err).replace(staged_dir, live_dir).replace(staged, path).strip()
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def map_plan(module):
    """({name: text} of every map file of the configuration, [(path, text or None to remove, the text there now or
    None)] of the files of O(maps_dir) to write or remove): a file is removed when this module wrote it (its first
    line is the header's) and the configuration no longer lists it."""
    params = module.params
    directory = params['maps_dir']
    rendered = render_maps(params['config'], params['header'])
    plan = []
    for name, text in sorted(rendered.items()):
        target = os.path.join(directory, name)
        if os.path.isdir(target) or os.path.islink(target):
            module.fail_json(msg='%s is a directory or a symbolic link, not a map file this module can replace'
                                 % target)
        old = read_text(target)
        if old != text:
            plan.append((target, text, old))
    marker = ('# ' + params['header'].splitlines()[0] + '\n') if params['header'].strip() else None
    if marker and os.path.isdir(directory):
        for name in sorted(set(os.listdir(directory)) - set(rendered)):
            target = os.path.join(directory, name)
            if os.path.isfile(target) and not os.path.islink(target):
                with open(target, errors='replace') as handle:
                    if handle.readline() == marker:
                        plan.append((target, None, read_text(target)))
    return rendered, plan


def file_mode(config):
    """(mode, group): password hashes of userlists are for root and HAProxy only."""
    if config.get('userlists'):
        return 0o640, 'haproxy'
    return 0o644, None


def live_sockets(text):
    """Admin sockets declared by a configuration text ('stats socket PATH ... level admin')."""
    return re.findall(r'^\s*stats socket (/\S+)[^\n]*level admin', text or '', re.M)


def hot_swap(module, result):
    """With the configuration unchanged, make HAProxy serve what its certificate files hold: a file renewed since
    HAProxy loaded it is swapped in over the admin socket ('set ssl cert', 'commit ssl cert'), with no reload and
    no new worker. Established connections keep their certificate; new handshakes get the new one. Then a CA file
    that holds other certificates than HAProxy loaded at start gets a reload."""
    settings = module.params['config'].get('global') or {}
    socket_path = settings.get('stats_socket') or ADMIN_SOCKET
    result.update(certificates=[], ca_files_stale=[], state_saved=False, state_dropped=[])
    paths, cas = certificates(module.params['config']), ca_files(module.params['config'])
    if not (paths or cas) or not unit_active(module, module.params['service']):
        return
    try:
        result['certificates'] = sync_certificates(socket_path, paths, apply=not module.check_mode) if paths else []
        result['ca_files_stale'] = stale_ca_files(socket_path, cas)
    except NotLoaded as exc:
        module.fail_json(msg='%s: it runs another configuration than the file %s; reload it'
                             % (exc, module.params['path']), **result)
    except RuntimeError_ as exc:
        module.fail_json(msg='hot swap of the certificates failed: %s' % exc, **result)
    result['changed'] = result.get('changed') or any(entry['swapped'] for entry in result['certificates']) \
        or bool(result['ca_files_stale'])
    if result['ca_files_stale'] and module.params['reload'] and not module.check_mode:
        save_state(module, None, result)
        _name, reload = systemd_reload(module, module.params['service'])
        rc, output = reload()
        if rc != 0:
            module.fail_json(msg='the trust of %s changed, and the reload that would load it failed: %s; HAProxy '
                                 'runs as before' % (', '.join(result['ca_files_stale']), output or 'no output'),
                             **result)
        result['reloaded'] = True


def save_state(module, old, result):
    """Save the runtime state of every server to the state file before a reload, through the socket the running
    process answers on (that of the configuration it loaded, ``old``, which may not be the new one)."""
    params = module.params
    settings = params['config'].get('global') or {}
    state_file = settings.get('state_file') or STATE_FILE
    for socket_path in live_sockets(old) + [settings.get('stats_socket') or ADMIN_SOCKET]:
        try:
            saved, result['state_dropped'] = state_for(command(socket_path, 'show servers state'),
                                                       params['config'].get('backends'))
            write_atomic(module, state_file, saved, 0o600)
            result['state_saved'] = True
            return
        except RuntimeError_:
            continue


def run(module):
    provision = Provision(module)

    def unchanged(result):
        rendered, plan = map_plan(module)
        if plan:                          # the configuration holds already, its map files do not
            content = read_text(module.params['path'])
            apply(module, provision, content, content, result, rendered, plan)
        result['maps_changed'], result['warnings_haproxy'] = [], []
        hot_swap(module, result)

    old, content, result = prepare(module, lint, render, redact, file_mode(module.params['config']),
                                   unchanged=unchanged, provision=provision)
    apply(module, provision, old, content, result, *map_plan(module))


def apply(module, provision, old, content, result, rendered, plan):
    """Check the configuration ``content`` (the live file holds ``old``) with its map files (``rendered``), then
    write it and the files of ``plan`` together, and reload: a failure puts every file back. Exits the module."""
    params = module.params
    path = params['path']
    result.update(state_saved=False, state_dropped=[], certificates=[], ca_files_stale=[], warnings_haproxy=[],
                  maps_changed=[target for target, _text, _old in plan])
    if plan:
        result['changed'] = True
        result['diff'] = [result['diff']] + [dict(before_header=target, after_header=target, before=before or '',
                                                  after=text or '') for target, text, before in plan]
    ok, output = validate(module, path, content, rendered,
                          [os.path.basename(target) for target, text, _old in plan if text is None])
    # Each "[FILE:LINE]" of HAProxy's message gets the variable that line comes from.
    sources = {}
    render(params['config'], params['header'], sources)
    if not ok:
        result['changed'] = bool(result['packages_installed'])
        module.fail_json(msg='the new configuration fails haproxy -c; nothing was changed: %s'
                         % redact(locate(output, sources)), **result)
    result['validated'] = True
    result['warnings_haproxy'] = [redact(line) for line in check_warnings(output, sources)]
    for line in result['warnings_haproxy']:
        module.warn('haproxy -c: %s' % line)
    if module.check_mode:
        module.exit_json(**provision.finish(result))

    active = unit_active(module, params['service'])
    if active:
        save_state(module, old, result)
    txn = FileTransaction(module)
    mode, group = file_mode(params['config'])
    try:
        for target, text, _old in plan:
            if text is None:
                txn.remove(target)
            else:
                txn.write(target, text, 0o644)
        if old != content:
            txn.write(path, content, mode, group=group)
    except OSError as exc:
        undo(module, txn, result, 'writing the new files failed (%s)' % exc, old, plan)
    if params['reload'] and active:
        name, reload = systemd_reload(module, params['service'])
        rc, output = reload()
        if rc != 0:
            undo(module, txn, result, '%s failed (%s)' % (name, output.strip() or 'no output'), old, plan)
        result['reloaded'] = True
    module.exit_json(**provision.finish(result))


def undo(module, txn, result, problem, old, plan):
    """Put back every file the change wrote or removed, and fail with ``problem`` and what the host holds now."""
    failures = txn.rollback()
    result['changed'] = False
    done = RESTORED if old is not None else REMOVED
    if plan:
        done += ', and the map files as they were'
    if failures:
        done = 'and these could not be put back: %s' % '; '.join(failures)
    module.fail_json(msg='%s; %s' % (problem, done), **result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            config=dict(type='dict', required=True),
            path=dict(type='path', default='/etc/haproxy/haproxy.cfg'),
            maps_dir=dict(type='path', default='/etc/haproxy/maps'),
            reload=dict(type='bool', default=True),
            service=dict(type='str', default='haproxy.service'),
            header=dict(type='str', default='Managed by Ansible (opsnotes.edge.haproxy_config). '
                                            'Local edits are overwritten.'),
            **PROVISION_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
