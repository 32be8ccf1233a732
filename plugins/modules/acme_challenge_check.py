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
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): a domain that does not serve its token, or a traversal probe
        that leaks."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
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
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["www.shop.test: HTTP 500 instead of the token"]
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
  description: The same as RV(problems), under the name earlier releases gave it.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_probe import SITE_ARGS, check_site
from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish


def run(module):
    params = module.params
    try:
        results = check_site(params, module.check_mode)
    except ValueError as exc:
        module.fail_json(msg=str(exc), ok=False, domains=[], failures=[], problems=[str(exc)])
    failures = ['%s: %s' % (e['domain'], e['reason']) for e in results if not e['ok']]
    if module.check_mode and params['webroot']:
        module.warn('check mode: no token or canary was written, so the challenge location was only probed with '
                    'an absent token and traversal was not probed')
    finish(module, dict(domains=results, failures=failures), failures)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            thumbprint=dict(type='str', no_log=False),
            timeout=dict(type='float', default=5),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
            **SITE_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
