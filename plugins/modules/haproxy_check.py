#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_check
short_description: Check a live HAProxy configuration, its ACL and backend references, and its servers
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Runs C(haproxy -c) on the live configuration file.
  - Parses the file (any C(haproxy.cfg), not only one rendered by this collection) for ACL definitions and the ACLs
    each condition uses, and for the backends C(use_backend) and C(default_backend) name; an ACL or backend that is
    used but not defined is an error, an ACL defined but never used a warning.
  - Reads C(show stat) and C(show servers state) from the admin socket and returns each frontend, backend and server
    with its status, admin state (ready, drain, maint), weight and current sessions.
  - "For every bind line that terminates TLS (C(ssl), C(crt FILE)): each certificate file (validity, key type,
    names, days left, the key in the file or in FILE.key), the certificate HAProxy holds in memory for it
    (C(show ssl cert): a renewal not swapped in yet is a problem), and, per name of the certificate, which
    certificate a TLS 1.2 client offering only the certificate's key type is served, which must be this one.
    With O(tls_policy=intermediate), also what each TLS bind accepts against Mozilla's I(intermediate) profile
    (see C(opsnotes.edge.acme_certificate_check)). A certificate that is due for renewal is reported, not failed."
  - Fails on its problems (RV(problems)), which include servers that are DOWN when O(fail_on_down=true).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._ari
  - opsnotes.edge._attributes.INFO_MODULE
options:
  path:
    description: The configuration file.
    type: path
    default: /etc/haproxy/haproxy.cfg
  socket:
    description: The admin socket. The runtime part is skipped when it does not answer (reported in RV(runtime_error)).
    type: path
    default: /run/haproxy/admin.sock
  fail_on_down:
    description:
      - Count a server (not in maintenance) that is DOWN as a problem. With V(false), DOWN servers are only listed
        in RV(down).
    type: bool
    default: false
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): a syntax error, an undefined reference, a TLS problem, and DOWN
        servers with O(fail_on_down=true)."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
  tls:
    description: Check the certificates of the TLS binds (needs python3-cryptography on the target when there are any).
    type: bool
    default: true
  tls_policy:
    description:
      - The Mozilla TLS profile every TLS bind must keep to (V(modern) wants TLS 1.3 only); V(none) judges nothing.
    type: str
    choices: [none, intermediate, modern]
    default: none
  renew_days:
    description: A certificate with fewer days left (or less than a third of its lifetime) is reported as due.
    type: int
    default: 30
  timeout:
    description: Seconds to wait for each TLS handshake.
    type: float
    default: 5
requirements:
  - python3-cryptography on the target, when the configuration has TLS binds and O(tls=true)
seealso:
  - module: opsnotes.edge.haproxy_config
  - module: opsnotes.edge.haproxy_server
"""

EXAMPLES = r"""
- name: Prove the live configuration and that every server is up
  opsnotes.edge.haproxy_check:
    fail_on_down: true
"""

RETURN = r"""
ok:
  description: True when nothing failed.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["servers DOWN: be_web/web2"]
syntax_ok:
  description: Result of C(haproxy -c).
  returned: always
  type: bool
syntax_output:
  description: What C(haproxy -c) printed.
  returned: always
  type: str
errors:
  description: Undefined ACLs and backends, each with its section and line.
  returned: always
  type: list
  elements: str
  sample: ["frontend fe_web line 31: ACL host_wwww is used but not defined"]
warnings_config:
  description: ACLs defined but never used.
  returned: always
  type: list
  elements: str
frontends:
  description: Per frontend, the ACLs defined and used, the backends named, and the live status and sessions.
  returned: always
  type: list
  elements: dict
  sample: [{name: fe_web, acls_defined: [host_www, url_static], acls_used: [host_www, url_static],
            backends: [be_static, be_www], status: OPEN, scur: 0}]
backends:
  description: Per backend, its live status and its servers (status, admin_state, weight, scur).
  returned: always
  type: list
  elements: dict
  sample: [{name: be_www, status: UP, servers: [{name: w1, status: UP, admin_state: ready, weight: 1, scur: 0}]}]
down:
  description: Servers that are DOWN and not in maintenance, as BACKEND/SERVER.
  returned: always
  type: list
  elements: str
tls:
  description:
    - Per certificate of each TLS bind, what C(opsnotes.edge.acme_certificate_check) reports for a certificate
      (C(exists), C(usable), C(due), C(days_left), C(not_after), C(not_before), C(lifetime_hours), C(serial), C(key),
      C(key_type), C(domains), C(chain_valid), C(renew_at), C(renewal_by), C(ari_window), C(problems)), plus the
      C(frontend), the C(bind), the C(memory_serial) HAProxy holds, and C(served), per name, whether a client of the
      key type got this certificate.
  returned: always
  type: list
  elements: dict
  sample: [{frontend: fe_site, bind: "*:443", cert: /etc/haproxy/certs/www.example.org.ecdsa.pem, key_type: ecdsa,
            serial: 4a1f0c, memory_serial: 4A1F0C, days_left: 61, due: false,
            served: [{name: www.example.org, matches: true, serial: 4a1f0c, error: null}], problems: []}]
tls_policies:
  description: With O(tls_policy), per TLS bind, the verdict of the profile (as in C(acme_certificate_check)).
  returned: always
  type: list
  elements: dict
tls_error:
  description: Why the certificates could not be checked (no python3-cryptography).
  returned: when the TLS binds could not be checked
  type: str
failures:
  description: The same as RV(problems), under the name earlier releases gave it.
  returned: always
  type: list
  elements: str
runtime_error:
  description: Why the runtime part was skipped, when the socket did not answer.
  returned: when the socket did not answer
  type: str
"""

import datetime
import re
import shlex
import ssl

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import ADMIN_SOCKET, PREDEFINED, condition_acls
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_runtime import (
    RuntimeError_,
    admin_state,
    command,
    der_fingerprint,
    parse_servers_state,
    parse_stat,
    served_certificate,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import PROFILES, judge, openssl_of, summary

try:
    import cryptography  # noqa: F401  # pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

SECTION_RE = re.compile(r'(global|defaults|frontend|backend|listen|userlist|peers|resolvers|cache|program|'
                        r'http-errors|ring|mailers)\b\s*(\S*)')


def tls_bind(line):
    """[{address, port, certificates}] for a 'bind' line that terminates TLS ('ssl' and 'crt FILE' words; several
    addresses separated by commas), else []. Words are read as HAProxy reads them (quotes, backslashes)."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    if 'ssl' not in words or len(words) < 2:
        return []
    certificates = [words[index + 1] for index, word in enumerate(words[:-1]) if word == 'crt']
    binds = []
    for spec in words[1].split(','):
        address, _sep, port = spec.rpartition(':')
        if not port.isdigit():
            continue
        address = re.sub(r'^(ipv4|ipv6)@', '', address).strip('[]')
        binds.append(dict(address=address, port=int(port), certificates=certificates))
    return binds


def probe_address(address):
    """Where to reach a bind address from the host itself: loopback for a wildcard."""
    if address in ('', '*', '0.0.0.0'):
        return '127.0.0.1'
    if address == '::':
        return '::1'
    return address


def tls_report(module, binds, socket_path):
    """Per certificate of each TLS bind: the file (validity, key, names, days left), what HAProxy holds in memory
    ('show ssl cert'), and what a client of the certificate's key type is served for each of its names; per bind,
    with O(tls_policy), what it accepts against the profile."""
    from ansible_collections.opsnotes.edge.plugins.module_utils._certificates import (
        inspect_certificate,
        renewal_reader,
        serial_of,
        served_leaf,
    )
    params, now = module.params, datetime.datetime.now(datetime.timezone.utc)
    openssl, run_command = openssl_of(module, params['timeout'])
    renewal_info = renewal_reader(params['directory_url'], params['timeout'])
    certificates, policies = [], []
    for bind in binds:
        address = probe_address(bind['address'])
        for path in bind['certificates']:
            entry = inspect_certificate(dict(name=bind['frontend'], cert=path), params['renew_days'], now,
                                        due_is_problem=False, renewal_info=renewal_info)
            leaf = entry.pop('leaf_der', None)
            entry.update(frontend=bind['frontend'], bind='%s:%d' % (bind['address'] or '*', bind['port']),
                         memory_serial=None, served=[])
            try:
                memory = served_certificate(socket_path, path)
                entry['memory_serial'] = memory['serial']
                if leaf is not None and memory['fingerprint'] != der_fingerprint(leaf):
                    entry['problems'].append('HAProxy holds serial %s in memory, not the file\'s %s (a renewal not '
                                             'swapped in yet)' % (memory['serial'], (entry['serial'] or '').upper()))
            except RuntimeError_ as exc:
                entry['memory_error'] = str(exc)
            for name in [n for n in entry['domains'] if not n.startswith('*.')] if leaf else []:
                row = dict(name=name, matches=False, serial=None, error=None)
                try:
                    der = served_leaf(address, bind['port'], name, entry['key_type'], params['timeout'], openssl,
                                      run_command)
                    row['matches'] = der == leaf
                    row['serial'] = serial_of(der)
                except (OSError, ssl.SSLError, ValueError) as exc:
                    row['error'] = str(exc)
                if not row['matches']:
                    entry['problems'].append('%s: an %s-only client %s' % (
                        name, entry['key_type'].upper(), 'could not connect: %s' % row['error'] if row['error']
                        else 'is served serial %s, not this certificate' % row['serial']))
                entry['served'].append(row)
            certificates.append(entry)
        names = [n for c in certificates[-len(bind['certificates']):] for n in c['domains'] if not n.startswith('*.')]
        if params['tls_policy'] != 'none' and bind['certificates'] and names:
            verdict = judge(address, bind['port'], names[0], PROFILES[params['tls_policy']], openssl, run_command,
                            params['timeout'])
            verdict.update(frontend=bind['frontend'], summary=summary(verdict))
            policies.append(verdict)
    return certificates, policies


def parse_config(text):
    """{'frontends': {name: info}, 'backends': [names], 'errors': [...], 'warnings': [...]}."""
    sections, current = [], None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(' #', 1)[0].strip() if not raw.strip().startswith('#') else ''
        if not line:
            continue
        match = SECTION_RE.match(line)
        if match and not raw[:1].isspace():
            current = dict(kind=match.group(1), name=match.group(2), lines=[])
            sections.append(current)
        elif current is not None:
            current['lines'].append((lineno, line))
    backends = {s['name'] for s in sections if s['kind'] in ('backend', 'listen')}
    frontends, errors, warnings = [], [], []
    for section in sections:
        if section['kind'] not in ('frontend', 'listen'):
            continue
        defined, used, named_backends, tls_binds = [], [], [], []
        for lineno, line in section['lines']:
            words = line.split()
            if words[0] == 'bind':
                tls_binds.extend(tls_bind(line))
            if words[0] == 'acl' and len(words) > 1:
                defined.append(words[1])
            if words[0] in ('use_backend', 'default_backend') and len(words) > 1:
                named_backends.append((lineno, words[1]))
            cond = re.search(r'\s(if|unless)\s+(.*)$', line)
            if cond:
                try:
                    named, _anon = condition_acls(cond.group(2))
                except ValueError as exc:
                    errors.append('%s %s line %d: %s' % (section['kind'], section['name'], lineno, exc))
                    named = []
                used.extend((lineno, acl) for acl in named)
        where = '%s %s' % (section['kind'], section['name'])
        for lineno, acl in used:
            if acl not in defined and acl not in PREDEFINED:
                errors.append('%s line %d: ACL %s is used but not defined' % (where, lineno, acl))
        for lineno, backend in named_backends:
            if backend not in backends and '%[' not in backend:
                errors.append('%s line %d: backend %s is not defined' % (where, lineno, backend))
        for acl in sorted(set(defined) - {a for _l, a in used}):
            warnings.append('%s: ACL %s is defined but never used' % (where, acl))
        frontends.append(dict(name=section['name'], acls_defined=sorted(set(defined)),
                              acls_used=sorted({a for _l, a in used}),
                              backends=sorted({b for _l, b in named_backends}), tls_binds=tls_binds))
    return dict(frontends=frontends, backends=sorted(backends), errors=errors, warnings=warnings)


def run(module):
    params = module.params
    text = read_text(params['path'])
    if text is None:
        module.fail_json(msg='%s does not exist' % params['path'])
    haproxy = module.get_bin_path('haproxy', required=True)
    rc, out, err = module.run_command([haproxy, '-c', '-f', params['path']])
    parsed = parse_config(text)
    result = dict(changed=False, syntax_ok=rc == 0, syntax_output=(out + err).strip(), errors=parsed['errors'],
                  warnings_config=parsed['warnings'], frontends=parsed['frontends'],
                  backends=[dict(name=b, servers=[]) for b in parsed['backends']], down=[])
    try:
        stats = parse_stat(command(params['socket'], 'show stat'))
        states = parse_servers_state(command(params['socket'], 'show servers state'))
    except RuntimeError_ as exc:
        result['runtime_error'] = str(exc)
        stats, states = [], []
    by_state = {(r.get('be_name'), r.get('srv_name')): r for r in states}
    for front in result['frontends']:
        row = next((s for s in stats if s['pxname'] == front['name'] and s['svname'] == 'FRONTEND'), None)
        if row:
            front.update(status=row.get('status'), scur=int(row.get('scur') or 0))
    for back in result['backends']:
        row = next((s for s in stats if s['pxname'] == back['name'] and s['svname'] == 'BACKEND'), None)
        if row:
            back.update(status=row.get('status'), scur=int(row.get('scur') or 0))
        for srv in (s for s in stats if s['pxname'] == back['name'] and s['svname'] not in ('BACKEND', 'FRONTEND')):
            state = by_state.get((back['name'], srv['svname']))
            entry = dict(name=srv['svname'], status=srv.get('status'), scur=int(srv.get('scur') or 0),
                         weight=int(srv.get('weight') or 0), admin_state=admin_state(state) if state else None)
            back['servers'].append(entry)
            if (srv.get('status') or '').startswith('DOWN') and entry['admin_state'] != 'maint':
                result['down'].append('%s/%s' % (back['name'], srv['svname']))
    binds = [dict(bind, frontend=front['name']) for front in result['frontends'] for bind in front['tls_binds']]
    result['tls'], result['tls_policies'] = [], []
    if params['tls'] and binds:
        if not HAS_CRYPTOGRAPHY:
            result['tls_error'] = missing_required_lib('cryptography') + ' (or set tls: false)'
        else:
            result['tls'], result['tls_policies'] = tls_report(module, binds, params['socket'])
    problems = []
    if result.get('tls_error'):
        problems.append(result['tls_error'])
    problems += ['%s %s: %s' % (c['bind'], c['cert'], '; '.join(c['problems'])) for c in result['tls'] if c['problems']]
    problems += ['%s %s: %s' % (v['frontend'], v['address'], v['summary']) for v in result['tls_policies']
                 if not v['ok']]
    if not result['syntax_ok']:
        problems.append('haproxy -c failed: %s' % result['syntax_output'])
    problems.extend(result['errors'])
    if params['fail_on_down'] and result['down']:
        problems.append('servers DOWN: %s' % ', '.join(result['down']))
    result['failures'] = list(problems)
    finish(module, result, problems)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/haproxy/haproxy.cfg'),
            socket=dict(type='path', default=ADMIN_SOCKET),
            fail_on_down=dict(type='bool', default=False),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
            tls=dict(type='bool', default=True),
            tls_policy=dict(type='str', default='none', choices=['none', 'intermediate', 'modern']),
            renew_days=dict(type='int', default=30),
            directory_url=dict(type='str'),
            timeout=dict(type='float', default=5),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
