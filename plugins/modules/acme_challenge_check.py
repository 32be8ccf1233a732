#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_challenge_check
short_description: Prove that each domain answers ACME http-01 challenges, from a webroot or stateless
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - For each domain, writes a random token to O(webroot), fetches
    C(http://<domain>/.well-known/acme-challenge/<token>) exactly as an ACME server would (no redirects followed),
    compares the body with the token and removes the token again.
  - "Also probes that the challenge location cannot be used to read files outside the webroot (the nginx C(alias)
    traversal, C(/.well-known/acme-challenge../), and encoded variants): a canary file is written next to the
    webroot for the duration of the probe, and any response that contains it is a failure."
  - Each domain gets a structured result with the HTTP status and, when it fails, the reason in words
    (a redirect means the challenge location is missing, a 404 means it points elsewhere).
  - "With O(thumbprint), also asks for random tokens that exist nowhere and expects the stateless answer
    C(<token>.<thumbprint>) (RFC 8555 8.3). This writes nothing, so it also runs in check mode and through a balancer
    or a VIP, the address the CA would use: each of O(stateless_probes) requests may reach another host behind it."
  - The token and the canary are always removed; the module reports C(changed=false).
  - "In check mode it writes nothing on the host: it asks for a token that does not exist, and a C(404) (or, with
    O(thumbprint), the stateless answer) shows that the location exists (a redirect still fails with its reason);
    traversal is not probed."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  domains:
    description: The names to check.
    type: list
    elements: str
    required: true
  webroot:
    description:
      - The directory the challenge location serves (the nginx C(alias) or C(root)). Without it only the stateless
        answer is probed (O(thumbprint) is then required).
    type: path
  thumbprint:
    description: The RFC 7638 thumbprint of the ACME account key; probe the stateless answer with it.
    type: str
  stateless_probes:
    description: How many random tokens to ask for per domain with O(thumbprint).
    type: int
    default: 3
  address:
    description:
      - Connect to this address instead of resolving each domain; the domain is still sent as the C(Host) header.
      - Use it to check one host of several behind a name, or a host whose name does not resolve to it from itself.
    type: str
  port:
    description: The HTTP port.
    type: int
    default: 80
  timeout:
    description: Seconds to wait for each request.
    type: float
    default: 5
  traversal_probe:
    description: Also probe that no file outside O(webroot) can be read through the challenge location.
    type: bool
    default: true
  fail_on_error:
    description: Fail when a domain does not serve its token or a traversal probe leaks.
    type: bool
    default: true
seealso:
  - module: opsnotes.edge.acme_certificate_check
"""

EXAMPLES = r"""
- name: Dry-run the stateless answer through the VIP the CA reaches, as often as it takes to meet every host
  opsnotes.edge.acme_challenge_check:
    domains: [www.example.org]
    thumbprint: "{{ certs.account_thumbprint }}"
    address: 192.0.2.10
    stateless_probes: 6

- name: Prove the challenge location works for every name, through the local nginx
  opsnotes.edge.acme_challenge_check:
    domains: [www.example.org, example.org]
    webroot: /var/lib/opsnotes-acme/challenges
    address: 127.0.0.1
"""

RETURN = r"""
ok:
  description: True when every domain served its token and no traversal probe leaked.
  returned: always
  type: bool
domains:
  description: One entry per domain.
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The name.
      type: str
    ok:
      description: True when the token came back and nothing leaked.
      type: bool
    url:
      description: The URL fetched.
      type: str
    status:
      description: The HTTP status of the token request, null when the connection failed.
      type: int
    reason:
      description: Why the domain failed, empty when it passed (in check mode, what was not proven).
      type: str
    token_written:
      description: Whether a token was written (false in check mode or without O(webroot)).
      type: bool
    stateless:
      description: The stateless probes, each with its URL, status and whether the answer was the key authorization.
      type: list
      elements: dict
    traversal:
      description: The traversal paths probed, each with its status and whether the canary leaked.
      type: list
      elements: dict
  sample:
    - domain: www.example.org
      ok: false
      url: http://www.example.org/.well-known/acme-challenge/Yx3...
      status: 301
      reason: "HTTP 301 redirect to https://www.example.org/... instead of the token: the port-80 server has no
        location ^~ /.well-known/acme-challenge/ (or it does not come first)"
      traversal: []
failures:
  description: One line per failed domain.
  returned: always
  type: list
  elements: str
"""

import os
import secrets

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_probe import (
    CHALLENGE_PREFIX,
    explain_token_miss,
    http_get,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import key_authorization

TRAVERSALS = (
    '/.well-known/acme-challenge../{canary}',        # alias without the trailing slash on the location
    '/.well-known/acme-challenge/..%2f{canary}',
    '/.well-known/acme-challenge/%2e%2e/{canary}',
    '/.well-known/acme-challenge/..%5c{canary}',
)


def write_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
    os.chmod(path, 0o644)  # readable by the nginx workers whatever the umask


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def check_token(params, domain, webroot, read_only=False):
    """Write a random token, fetch it as the CA would, remove it. ``read_only`` (check mode): write nothing, and
    ask for a token that does not exist; a 404 then shows that the location exists and reads a directory."""
    token = secrets.token_urlsafe(32)
    path = CHALLENGE_PREFIX + token
    target = params['address'] or domain
    entry = dict(domain=domain, ok=False, status=None, reason='', traversal=[], token_written=not read_only,
                 url='http://%s:%d%s' % (domain, params['port'], path))
    token_file = os.path.join(webroot, token)
    if not read_only:
        write_file(token_file, token)
    try:
        status, headers, body = http_get(target, params['port'], path, domain, params['timeout'])
    except (OSError, ValueError) as exc:
        entry['reason'] = 'could not fetch %s from %s:%d: %s' % (path, target, params['port'], exc)
        return entry
    finally:
        if not read_only:
            remove(token_file)
    entry['status'] = status
    stateless = params['thumbprint'] and key_authorization(token, params['thumbprint'])
    if read_only and status == 404:
        entry['ok'] = True
        entry['reason'] = 'not proven with a token (check mode writes nothing): an absent token gets a 404'
    elif read_only and stateless and status == 200 and body.strip() == stateless:
        entry['ok'] = True
        entry['reason'] = 'not proven with a token file (check mode writes nothing): an absent token gets the ' \
                          'stateless answer'
    elif status == 200 and body.strip() == token:
        entry['ok'] = True
    else:
        entry['reason'] = explain_token_miss(status, headers, body, webroot)
    return entry


def probe_stateless(params, domain):
    """Ask for random tokens nobody wrote: a stateless server answers each with its key authorization."""
    target = params['address'] or domain
    probes = []
    for _index in range(params['stateless_probes']):
        token = secrets.token_urlsafe(32)
        path = CHALLENGE_PREFIX + token
        row = dict(url='http://%s:%d%s' % (domain, params['port'], path), status=None, ok=False, reason='')
        expected = key_authorization(token, params['thumbprint'])
        try:
            status, headers, body = http_get(target, params['port'], path, domain, params['timeout'])
        except (OSError, ValueError) as exc:
            row['reason'] = 'could not fetch %s from %s:%d: %s' % (path, target, params['port'], exc)
        else:
            row['status'] = status
            row['ok'] = status == 200 and body.strip() == expected
            if not row['ok']:
                row['reason'] = ('the stateless answer is not "<token>.%s": %s'
                                 % (params['thumbprint'], explain_token_miss(status, headers, body, None)))
        probes.append(row)
    return probes


def probe_traversal(params, domain, canary_name, canary_text):
    target = params['address'] or domain
    probes = []
    for template in TRAVERSALS:
        path = template.format(canary=canary_name)
        try:
            status, _headers, body = http_get(target, params['port'], path, domain, params['timeout'])
        except (OSError, ValueError) as exc:
            probes.append(dict(path=path, status=None, leaked=False, error=str(exc)))
            continue
        probes.append(dict(path=path, status=status, leaked=canary_text in body))
    return probes


def run(module):
    params = module.params
    if not params['webroot'] and not params['thumbprint']:
        module.fail_json(msg='set webroot, thumbprint or both', ok=False, domains=[], failures=[])
    webroot = (params['webroot'].rstrip('/') or '/') if params['webroot'] else None
    if webroot and not os.path.isdir(webroot):
        module.fail_json(msg='webroot %s does not exist' % webroot, ok=False, domains=[], failures=[])
    canary_name = canary_text = canary_path = None
    # Check mode changes nothing on the host: no token, no canary (so no traversal probe either).
    if webroot and params['traversal_probe'] and not module.check_mode:
        canary_name = '.opsnotes-canary-' + secrets.token_hex(8)
        canary_text = 'opsnotes-canary-' + secrets.token_hex(16)
        canary_path = os.path.join(os.path.dirname(webroot), canary_name)
    results = []
    try:
        if canary_path:
            write_file(canary_path, canary_text)
        for domain in params['domains']:
            if webroot:
                entry = check_token(params, domain, webroot, read_only=module.check_mode)
            else:
                entry = dict(domain=domain, ok=True, status=None, reason='', traversal=[], token_written=False,
                             url='')
            entry['stateless'] = probe_stateless(params, domain) if params['thumbprint'] else []
            misses = [p['reason'] for p in entry['stateless'] if not p['ok']]
            if misses:
                entry['ok'] = False
                entry['status'] = entry['status'] or entry['stateless'][0]['status']
                entry['reason'] = '; '.join(filter(None, [entry['reason'], '%d of %d stateless probes failed: %s'
                                                          % (len(misses), len(entry['stateless']), misses[0])]))
            if canary_path:
                entry['traversal'] = probe_traversal(params, domain, canary_name, canary_text)
                leaks = [p['path'] for p in entry['traversal'] if p['leaked']]
                if leaks:
                    entry['ok'] = False
                    entry['reason'] = '; '.join(filter(None, [
                        entry['reason'], 'files outside %s are readable through %s' % (webroot, ', '.join(leaks))]))
            results.append(entry)
    finally:
        if canary_path:
            remove(canary_path)
    failures = ['%s: %s' % (e['domain'], e['reason']) for e in results if not e['ok']]
    if module.check_mode and webroot:
        module.warn('check mode: no token or canary was written, so the challenge location was only probed with '
                    'an absent token and traversal was not probed')
    result = dict(changed=False, ok=not failures, domains=results, failures=failures)
    if failures and params['fail_on_error']:
        module.fail_json(msg='; '.join(failures), **result)
    module.exit_json(**result)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            domains=dict(type='list', elements='str', required=True),
            webroot=dict(type='path'),
            thumbprint=dict(type='str', no_log=False),
            stateless_probes=dict(type='int', default=3),
            address=dict(type='str'),
            port=dict(type='int', default=80),
            timeout=dict(type='float', default=5),
            traversal_probe=dict(type='bool', default=True),
            fail_on_error=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
