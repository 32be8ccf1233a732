#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_certificate_check
short_description: Report days left, key type, chain validity and the certificate the server really serves per key type
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - "Reads each certificate file (a fullchain: leaf first, then intermediates) and its private key, and reports the
    days left, the key type and size, whether the certificate belongs to the key, which of the wanted names it does
    not cover, and whether the chain is valid (each certificate signed by the next, all valid now; with
    O(ca_file), also that the chain leads to one of those roots)."
  - With O(probe=true), connects to the TLS server once per name and key type as a TLS 1.2 client that offers only
    ECDSA (or only RSA) cipher suites, and checks that the server sends exactly the certificate in the file.
    This proves that nginx serves the ECDSA certificate to ECDSA-capable clients and the RSA one to the others.
  - "RV(certificates[].due) tells whether a certificate must be (re)issued: missing, unusable, not covering every
    name, or too little of its lifetime left (see O(renew_days)). The C(opsnotes.edge.nginx_acme) role uses it to
    decide what to issue in a single call."
  - "With O(probe=true) and O(policy=intermediate), also judges what the server accepts for each site's first name
    against Mozilla's I(intermediate) profile, one handshake per question: TLS 1.0 and 1.1 refused, TLS 1.2 and
    1.3 accepted, each TLS 1.2 suite accepted outside the profile named, and the key exchange groups X448 and
    secp521r1 (outside the profile) refused. Groups are asked with the C(openssl) command; without it they are
    reported as untested. Results are in RV(policies); a finding is a failure."
  - "With O(challenges), also proves the http-01 challenge path of each entry as M(opsnotes.edge.acme_challenge_check)
    does (a token from the webroot, the stateless answer with the thumbprint of O(account_key), the traversal
    probes), in the same call: the whole ACME proof of a host in one module execution. Results are in
    RV(challenges); a failed entry is a failure."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._ari
  - opsnotes.edge._attributes.INFO_MODULE
options:
  certificates:
    description: The certificates to inspect.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The site the certificate belongs to (used in the report).
        type: str
        required: true
      key_type:
        description: The key type the certificate must have. Default, the certificate's own.
        type: str
        choices: [rsa, ecdsa]
      cert:
        description: The fullchain file (an HAProxy bundle, with the key after the chain, too).
        type: path
        required: true
      key:
        description:
          - The private key file. Default, as HAProxy loads it, the key in the certificate file itself, else
            the file CERT.key.
        type: path
      domains:
        description:
          - The names the certificate must cover; the first one is used as SNI when probing. Default, the
            certificate's own names.
        type: list
        elements: str
  renew_days:
    description:
      - A certificate is due for renewal when fewer days than this are left or, for a short-lived one, when less than
        a third of its lifetime is left, whichever comes later (a 45-day certificate is renewed after 30 days, not
        15).
    type: int
    default: 30
  account_key:
    description:
      - The ACME account key (PEM). Its RFC 7638 thumbprint is returned as RV(account_thumbprint), the part of
        every http-01 reply that does not depend on the token (C(<token>.<thumbprint>)).
    type: path
  ca_file:
    description: PEM file of trusted roots; when set, the chain must lead to one of them.
    type: path
  probe:
    description: Handshake with the server per name and key type and compare the served leaf with the file.
    type: bool
    default: false
  probe_address:
    description: Where the TLS server listens.
    type: str
    default: 127.0.0.1
  probe_port:
    description: The TLS port.
    type: int
    default: 443
  policy:
    description:
      - With O(probe=true), the TLS profile the server must keep to for each site (see the description;
        V(modern) wants TLS 1.3 only); V(none) judges nothing.
    type: str
    choices: [none, intermediate, modern]
    default: none
  timeout:
    description: Seconds to wait for each handshake.
    type: float
    default: 5
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): a certificate missing, unusable, due, with an invalid chain or
        not the one served, a policy finding, an unreadable account key, a challenge path that fails."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
  challenges:
    description:
      - Challenge paths to prove after the certificates, each as M(opsnotes.edge.acme_challenge_check) would (which
        see for what is written and what check mode does).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A label for the report (the site, say).
        type: str
        required: true
      domains:
        description: The names to ask for.
        type: list
        elements: str
        required: true
      webroot:
        description: The directory the challenge location serves; without it only the stateless answer is probed.
        type: path
      stateless:
        description:
          - Also ask for random tokens that exist nowhere and expect C(<token>.<thumbprint>), with the thumbprint of
            O(account_key). Without a readable account key, an entry with a webroot is proven with a token file
            only, and one without is reported as skipped.
        type: bool
        default: false
      stateless_probes:
        description: How many random tokens per name (through a balancer, each may reach another host).
        type: int
        default: 3
      address:
        description: Connect here instead of resolving each name (the name is still the C(Host) header).
        type: str
      port:
        description: The HTTP port.
        type: int
        default: 80
      traversal_probe:
        description: Also probe that nothing outside O(challenges[].webroot) is readable through the location.
        type: bool
        default: true
requirements:
  - python3-cryptography on the target
seealso:
  - module: opsnotes.edge.acme_challenge_check
  - module: community.crypto.acme_certificate
"""

EXAMPLES = r"""
- name: Prove both certificates of a site, and that nginx serves each to the matching client
  opsnotes.edge.acme_certificate_check:
    certificates:
      - {name: shop, key_type: rsa, cert: /etc/ssl/opsnotes-acme/shop/rsa.fullchain.pem,
         key: /etc/ssl/opsnotes-acme/shop/rsa.key, domains: [shop.example.org]}
      - {name: shop, key_type: ecdsa, cert: /etc/ssl/opsnotes-acme/shop/ecdsa.fullchain.pem,
         key: /etc/ssl/opsnotes-acme/shop/ecdsa.key, domains: [shop.example.org]}
    probe: true
"""

RETURN = r"""
account_thumbprint:
  description: The RFC 7638 thumbprint of O(account_key); null when it cannot be read (which is then a failure).
  returned: when O(account_key) is given
  type: str
  sample: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs
ok:
  description: True when every certificate is usable, not due, has a valid chain and (with probing) is served.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["shop (rsa): the certificate does not cover www.shop.test"]
certificates:
  description: One entry per certificate.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The site.
      type: str
    key_type:
      description:
        - The wanted key type (without O(certificates[].key_type), the certificate's own; null when unreadable).
      type: str
    cert:
      description: The file.
      type: str
    exists:
      description: Whether the file exists.
      type: bool
    usable:
      description: Valid now, of the wanted key type, and matching the key; nginx can serve it.
      type: bool
    due:
      description: Whether it must be (re)issued now.
      type: bool
    days_left:
      description: Whole days until the leaf expires (negative when expired).
      type: int
    renew_at:
      description:
        - When the certificate becomes due (UTC), in the CA's renewal window (see O(directory_url)) or by O(renew_days)
          and its lifetime; null when there is none.
      type: str
    renewal_by:
      description:
        - What decided RV(certificates[].renew_at), V(ari) (the CA's window) or V(lifetime); null without a
          certificate.
      type: str
      version_added: 0.3.0
    ari_window:
      description:
        - The renewal window the CA suggests for this certificate (O(directory_url) with ARI), as C(start), C(end)
          (UTC) and the C(explanation) URL the CA gives, if any; null when the lifetime decides.
      type: dict
      version_added: 0.3.0
    not_after:
      description: Expiry of the leaf, UTC.
      type: str
    not_before:
      description: Start of the leaf's validity, UTC.
      type: str
      version_added: 0.3.0
    lifetime_hours:
      description: The leaf's whole validity, in hours (a 90-day certificate has 2160, a short-lived one 160).
      type: int
      version_added: 0.3.0
    serial:
      description: Serial number of the leaf, hex.
      type: str
    issuer:
      description: Issuer of the leaf.
      type: str
    key:
      description: Key type and size or curve of the leaf, for example C(rsa 3072) or C(ecdsa secp384r1).
      type: str
    key_matches:
      description: Whether the leaf belongs to the private key.
      type: bool
    domains:
      description: The DNS names of the leaf.
      type: list
      elements: str
    domains_missing:
      description: Wanted names the leaf does not cover.
      type: list
      elements: str
    chain_length:
      description: Number of certificates in the file.
      type: int
    chain_valid:
      description: Whether the chain is complete, ordered, correctly signed and valid now.
      type: bool
    served:
      description: With probing, per name, whether the server sent this certificate to a client of this key type.
      type: list
      elements: dict
    problems:
      description: Everything wrong with this certificate, in words.
      type: list
      elements: str
  sample:
    - name: shop
      key_type: ecdsa
      exists: true
      usable: true
      due: false
      days_left: 89
      key: ecdsa secp384r1
      chain_valid: true
      served: [{domain: shop.example.org, matches: true, serial: 4a1f...}]
      problems: []
policies:
  description: With O(policy) other than V(none), per site, what the server accepts against the profile.
  returned: when O(probe=true) and O(policy) is not V(none)
  type: list
  elements: dict
  contains:
    name:
      description: The site.
      type: str
    server_name:
      description: The name sent as SNI (the site's first name).
      type: str
    ok:
      description: True when nothing breaks the profile.
      type: bool
    versions:
      description: Per protocol version, whether the server accepted it (null when this host could not offer it).
      type: dict
    ciphers:
      description: TLS 1.2 suites the server accepted outside the profile.
      type: list
      elements: str
    groups:
      description: Key exchange groups outside the profile the server accepted, with the protocol version.
      type: list
      elements: str
    findings:
      description: What breaks the profile, one sentence each.
      type: list
      elements: str
    summary:
      description: One line for a report.
      type: str
    untested:
      description: What this host could not ask (its TLS library or the openssl command cannot offer it).
      type: list
      elements: str
  sample:
    - name: shop
      server_name: shop.example.org
      ok: true
      versions: {TLSv1: false, TLSv1.1: false, TLSv1.2: true, TLSv1.3: true}
      ciphers: []
      groups: []
      findings: []
      summary: "Mozilla intermediate: TLSv1.2 and TLSv1.3 only"
      untested: []
challenges:
  description: Per entry of O(challenges), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The entry's name.
      type: str
    ok:
      description: True when every name passed.
      type: bool
    webroot:
      description: The entry's webroot; null for an entry that only asks for the stateless answer (a dry run).
      type: str
    skipped:
      description:
        - True when the entry had only the stateless answer to prove and no account thumbprint (no C(domains)
          then).
      type: bool
    thumbprint:
      description: The thumbprint the stateless answer was checked with, empty without.
      type: str
    domains:
      description: Per name, the entry M(opsnotes.edge.acme_challenge_check) returns in its C(domains).
      type: list
      elements: dict
    failures:
      description: One line per failed name.
      type: list
      elements: str
failures:
  description: The same as RV(problems), under the name earlier releases gave it.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_probe import SITE_ARGS, check_site
from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import account_thumbprint
from ansible_collections.opsnotes.edge.plugins.module_utils._certificates import (
    CERTIFICATE_ITEM,
    INSPECT_ARGS,
    inspect_all,
    load_chain,
    names_of,
)
from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import PROFILES, judge, openssl_of, summary

try:
    import cryptography  # noqa: F401  # pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False


def policies(module, params, entries):
    """Per site (its first name as SNI), what the server accepts against the profile."""
    openssl, run_command = openssl_of(module, params['timeout'])
    results, seen = [], set()
    for index, item in enumerate(params['certificates']):
        names = names_of(item, entries[index])
        if item['name'] in seen or not names:
            continue
        seen.add(item['name'])
        verdict = judge(params['probe_address'], params['probe_port'], names[0],
                        PROFILES[params['policy']], openssl, run_command, params['timeout'])
        verdict.update(name=item['name'], summary=summary(verdict))
        results.append(verdict)
    return results


def challenges(module, params, thumbprint):
    """Each entry of ``challenges`` proved as acme_challenge_check does; ``thumbprint`` is the account's or None."""
    results = []
    for item in params['challenges']:
        entry = dict(name=item['name'], webroot=item['webroot'], ok=False, skipped=False, thumbprint='', failures=[])
        if item['stateless'] and not thumbprint and not item['webroot']:
            entry.update(ok=True, skipped=True, failures=[])
            results.append(entry)
            continue
        # Without a thumbprint, an entry with a webroot is still proven with a token file.
        site = dict(item, thumbprint=thumbprint if item['stateless'] else None, timeout=params['timeout'])
        entry['thumbprint'] = site['thumbprint'] or ''
        try:
            entry['domains'] = check_site(site, module.check_mode)
        except ValueError as exc:
            entry['domains'], entry['failures'] = [], [str(exc)]
        entry['failures'] += ['%s: %s' % (d['domain'], d['reason']) for d in entry['domains'] if not d['ok']]
        entry['ok'] = not entry['failures']
        results.append(entry)
    return results


def run(module):
    params = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'))
    anchors = None
    if params['ca_file']:
        try:
            with open(params['ca_file']) as handle:
                anchors = load_chain(handle.read())
        except (OSError, ValueError) as exc:
            module.fail_json(msg='cannot read ca_file %s: %s' % (params['ca_file'], exc))
    results, failures = inspect_all(module, params, anchors)
    result = dict(changed=False, certificates=results, failures=failures)
    if params['probe'] and params['policy'] != 'none':
        result['policies'] = policies(module, params, results)
        failures += ['%s: %s' % (v['name'], v['summary']) for v in result['policies'] if not v['ok']]
    if params['account_key']:
        try:
            with open(params['account_key'], 'rb') as handle:
                result['account_thumbprint'] = account_thumbprint(handle.read())
        except (OSError, ValueError, TypeError) as exc:
            result['account_thumbprint'] = None
            failures.append('account key %s: %s' % (params['account_key'], exc))
    result['challenges'] = challenges(module, params, result.get('account_thumbprint'))
    failures += ['challenge %s: %s' % (c['name'], line) for c in result['challenges'] for line in c['failures']]
    finish(module, result, failures)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            certificates=dict(type='list', elements='dict', required=True, options=CERTIFICATE_ITEM),
            account_key=dict(type='path', no_log=False),
            ca_file=dict(type='path'),
            policy=dict(type='str', default='none', choices=['none', 'intermediate', 'modern']),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
            challenges=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                stateless=dict(type='bool', default=False),
                **SITE_ARGS
            )),
            **INSPECT_ARGS
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
