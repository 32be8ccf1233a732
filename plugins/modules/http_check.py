#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: http_check
short_description: Send one HTTP(S) request to a given address (a VIP) and report what answered
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Sends one C(GET) for O(url) from the managed host, optionally to O(address) instead of the address the
    URL's host resolves to (as C(curl --resolve) does), so a service can be proven through its VIP while the
    URL's host name is still used for the C(Host) header, SNI and certificate verification.
  - Reports the status, the peer that answered, the start of the body and, for https, the TLS version, cipher
    and certificate, and whether the certificate verified against O(ca) or the system trust store.
  - With O(marker=true) the request carries a unique C(opsnotes-probe-<hex>) query string and the module returns
    the request line the server's access log will hold, with the time it was sent. Hand them to
    M(opsnotes.edge.syslog_ng_check) (O(opsnotes.edge.syslog_ng_check#module:probe_line),
    O(opsnotes.edge.syslog_ng_check#module:probe_sent_at)) to prove that the access log line of a real
    request reaches a log collector.
  - Redirects are not followed; a redirect is an answer like any other and its C(Location) is returned.
  - "The request is sent in check mode too: it changes nothing on the managed host."
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  url:
    description: The C(http://) or C(https://) URL to request.
    type: str
    required: true
  address:
    description:
      - Connect to this IP address or host name instead of the URL's host (typically a VIP).
      - The URL's host is still sent as the C(Host) header and as the TLS server name, and the certificate is
        verified for it.
    type: str
  expect_status:
    description: The HTTP statuses that count as a pass.
    type: list
    elements: int
    default: [200]
  ca:
    description:
      - PEM text of the CA certificates to verify the server's certificate against, instead of the system trust
        store (a private CA, or an ACME test server's root).
    type: str
  validate_certs:
    description: Verify the server's certificate and host name. Only turn this off to see what a broken service sends.
    type: bool
    default: true
  marker:
    description:
      - Append a unique C(opsnotes-probe-<32 hex digits>) query string to the request, and return RV(probe) for
        M(opsnotes.edge.syslog_ng_check).
    type: bool
    default: false
  tls_policy:
    description:
      - For https, also judge what the server at the connect address accepts for the URL's name against Mozilla's
        I(intermediate) profile, one handshake per question (TLS 1.0 and 1.1 refused, TLS 1.2 and 1.3 accepted, no
        TLS 1.2 suite and no key exchange group outside the profile). Groups are asked with the C(openssl) command,
        else reported as untested. The verdict is RV(tls.policy); a finding fails the check. V(modern) wants TLS 1.3
        only.
    type: str
    choices: [none, intermediate, modern]
    default: none
  timeout:
    description: Seconds to wait for the connection and for the answer.
    type: float
    default: 10
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): the request cannot be sent, the certificate does not verify,
        the status is not expected, or (with O(tls_policy)) the server keeps outside the profile."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
seealso:
  - module: opsnotes.edge.syslog_ng_check
  - module: ansible.builtin.uri
    description: Requests by name only (no separate connect address) and does not report the peer or TLS details.
notes:
  - The request is HTTP/1.1 without ALPN, so the access log line says C(HTTP/1.1) whatever the server also offers.
"""

EXAMPLES = r"""
- name: Request the site through the VIP, with the TLS certificate verified for www.example.org
  opsnotes.edge.http_check:
    url: https://www.example.org/
    address: 192.0.2.10
    marker: true
  register: vip_request

- name: Wait for that request's access log line on the collector
  opsnotes.edge.syslog_ng_check:
    syntax: false
    probe_line: "{{ hostvars['client1'].vip_request.probe.line }}"
    probe_sent_at: "{{ hostvars['client1'].vip_request.probe.sent_at }}"
    probe_program: www.example.org
    probe_wait: /var/log/remote/$PROGRAM/$YEAR$MONTH$DAY/access_log
  delegate_to: collector1

- name: Prove that plain http redirects to https, through the load balancer
  opsnotes.edge.http_check:
    url: http://www.example.org/cart?x=1
    address: 192.0.2.10
    expect_status: [301, 308]
"""

RETURN = r"""
ok:
  description: True when a response came with an expected status (and, for https, a certificate that verified).
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["HTTP 503 Service Unavailable from 192.0.2.10:443, expected 200"]
url:
  description: The URL requested, with the marker when O(marker=true).
  returned: always
  type: str
  sample: https://www.example.org/?opsnotes-probe-5f0c0d1e2a3b4c5d6e7f8091a2b3c4d5
status:
  description: The HTTP status, null when no response came.
  returned: always
  type: int
  sample: 200
reason:
  description: Why the check failed, empty when it passed.
  returned: always
  type: str
  sample: "certificate verify failed: unable to get local issuer certificate (connected to 192.0.2.10:443)"
peer:
  description: The address and port the request was sent to, null when the connection failed.
  returned: always
  type: str
  sample: "192.0.2.10:443"
location:
  description: The C(Location) header of the response, empty when there was none.
  returned: always
  type: str
body:
  description: The first 200 characters of the response body.
  returned: always
  type: str
  sample: "served by web2"
elapsed:
  description: Seconds from the connection to the end of the body.
  returned: always
  type: float
tls:
  description: For https, what the handshake agreed and the certificate the server sent; empty for http.
  returned: always
  type: dict
  contains:
    version:
      description: The TLS version.
      type: str
      sample: TLSv1.3
    cipher:
      description: The cipher suite.
      type: str
    verified:
      description: True when the certificate was verified (chain and host name).
      type: bool
    subject:
      description: The certificate's common name, or its first DNS name when it has none (Let's Encrypt's
        C(tlsserver) and C(shortlived) profiles leave the common name out); only when verified.
      type: str
    names:
      description: The certificate's DNS names (subjectAltName); only when verified.
      type: list
      elements: str
    issuer:
      description: The issuer's common name (only when verified).
      type: str
    not_after:
      description: The certificate's expiry (only when verified).
      type: str
    serial:
      description: The certificate's serial number, lower-case hex as C(acme_certificate_check) and C(haproxy_check)
        report it (only when verified).
      type: str
      sample: 4a1f0c
    policy:
      description:
        - With O(tls_policy), the verdict against the profile; C(ok), C(versions), C(ciphers) and C(groups)
          accepted outside it, C(findings), C(untested), C(summary), C(address), C(server_name).
      type: dict
      sample: {ok: true, summary: "Mozilla intermediate: TLSv1.2 and TLSv1.3 only", findings: []}
probe:
  description: With O(marker=true), what to look for in the server's access log.
  returned: when O(marker=true)
  type: dict
  contains:
    marker:
      description: The unique marker.
      type: str
    line:
      description: The request line the access log will hold (method, target, protocol).
      type: str
      sample: GET /?opsnotes-probe-5f0c0d1e2a3b4c5d6e7f8091a2b3c4d5 HTTP/1.1
    sent_at:
      description: Epoch seconds at which the request was sent.
      type: float
    client:
      description:
        - The address the request left from (this host's end of the connection). An access log line for the
          request should name it, through proxies that pass the client's address on (PROXY protocol,
          C(X-Forwarded-For)); see O(opsnotes.edge.syslog_ng_check#module:probe_client).
      type: str
      sample: 192.0.2.33
"""

import http.client
import secrets
import ssl
import time
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._http import Client
from ansible_collections.opsnotes.edge.plugins.module_utils._tls_policy import PROFILES, judge, openssl_of, summary

BODY_CHARS = 200
USER_AGENT = 'opsnotes-http-check'


def parse_url(url):
    """(scheme, host, port, target, host_header) of ``url``; ValueError names the problem."""
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https'):
        raise ValueError('url %r must start with http:// or https://' % url)
    if not parts.hostname:
        raise ValueError('url %r has no host' % url)
    try:
        port = parts.port
    except ValueError:
        raise ValueError('url %r has an invalid port' % url) from None
    default_port = 443 if parts.scheme == 'https' else 80
    host = parts.hostname
    shown = '[%s]' % host if ':' in host else host
    host_header = shown if port in (None, default_port) else '%s:%d' % (shown, port)
    target = parts.path or '/'
    if parts.query:
        target += '?' + parts.query
    return parts.scheme, host, port or default_port, target, host_header


def add_marker(url, marker):
    parts = urlsplit(url)
    query = parts.query + '&' + marker if parts.query else marker
    return urlunsplit((parts.scheme, parts.netloc, parts.path or '/', query, ''))


def tls_context(params):
    context = ssl.create_default_context(cadata=params['ca']) if params['ca'] else ssl.create_default_context()
    if not params['validate_certs']:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def name_of(rdns):
    """The commonName of a getpeercert() subject/issuer (a tuple of RDN tuples)."""
    for rdn in rdns or ():
        for key, value in rdn:
            if key == 'commonName':
                return value
    return ''


def tls_details(sock, verified):
    details = dict(version=sock.version(), cipher=(sock.cipher() or ('',))[0], verified=verified)
    cert = sock.getpeercert() if verified else None
    if cert:
        names = [value for kind, value in cert.get('subjectAltName') or () if kind == 'DNS']
        details.update(subject=name_of(cert.get('subject')) or (names[0] if names else ''), names=names,
                       issuer=name_of(cert.get('issuer')),
                       not_after=cert.get('notAfter', ''), serial='%x' % int(cert.get('serialNumber') or '0', 16))
    return details


def request(params):
    result = dict(ok=False, url=params['url'], status=None, reason='', peer=None, location='', body='',
                  elapsed=0.0, tls={})
    try:
        if params['marker']:
            marker = 'opsnotes-probe-' + secrets.token_hex(16)
            result['url'] = add_marker(params['url'], marker)
        scheme, host, port, target, host_header = parse_url(result['url'])
    except ValueError as exc:
        result['reason'] = str(exc)
        return result
    context = None
    if scheme == 'https':
        try:
            context = tls_context(params)
        except (ssl.SSLError, ValueError) as exc:
            result['reason'] = 'ca holds no usable PEM certificate: %s' % exc
            return result
    connect_to = params['address'] or host
    started = time.time()
    with Client(connect_to, port, params['timeout']) as client:
        try:
            result['peer'] = client.connect()
        except OSError as exc:
            result['reason'] = 'could not connect to %s:%d: %s' % (connect_to, port, exc)
            return result
        if scheme == 'https':
            try:
                sock = client.start_tls(context, host)
            except ssl.SSLCertVerificationError as exc:
                result['reason'] = 'certificate verify failed for %s: %s (connected to %s)' % (
                    host, exc.verify_message or exc, result['peer'])
                return result
            except (ssl.SSLError, OSError) as exc:
                result['reason'] = 'TLS handshake with %s failed: %s' % (result['peer'], exc)
                return result
            result['tls'] = tls_details(sock, params['validate_certs'])
        if params['marker']:
            result['probe'] = dict(marker=marker, line='GET %s HTTP/1.1' % target, sent_at=time.time(),
                                   client=client.local)
        try:
            response = client.get(target, host_header, USER_AGENT)
        except (OSError, http.client.HTTPException) as exc:
            result['reason'] = 'no answer from %s: %s' % (result['peer'], exc)
            return result
    result['elapsed'] = round(time.time() - started, 3)
    result['status'] = response.status
    result['location'] = response.headers.get('location') or ''
    result['body'] = response.text().strip()[:BODY_CHARS]
    if response.status in params['expect_status']:
        result['ok'] = True
    else:
        result['reason'] = 'HTTP %d %s from %s, expected %s%s' % (
            response.status, response.reason, result['peer'], ' or '.join(str(s) for s in params['expect_status']),
            ' (Location: %s)' % result['location'] if result['location'] else '')
    return result


def judge_policy(module, result):
    """The server's TLS policy verdict (RV(tls.policy)); a finding makes the check fail."""
    params = module.params
    _scheme, host, port, _target, _host_header = parse_url(params['url'])
    openssl, run_command = openssl_of(module, params['timeout'])
    verdict = judge(result['peer'].rsplit(':', 1)[0], port, host, PROFILES[params['tls_policy']], openssl,
                    run_command, params['timeout'])
    verdict['summary'] = summary(verdict)
    result['tls']['policy'] = verdict
    if not verdict['ok']:
        result['reason'] = '; '.join(filter(None, [result['reason'], verdict['summary']]))


def run(module):
    result = request(module.params)
    problems = [] if result['ok'] else [result['reason']]
    if module.params['tls_policy'] != 'none' and result['tls'] and result['peer']:
        judge_policy(module, result)
        if not result['tls']['policy']['ok']:
            problems.append(result['tls']['policy']['summary'])
    finish(module, result, problems)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            address=dict(type='str'),
            expect_status=dict(type='list', elements='int', default=[200]),
            ca=dict(type='str'),
            validate_certs=dict(type='bool', default=True),
            marker=dict(type='bool', default=False),
            tls_policy=dict(type='str', default='none', choices=['none', 'intermediate', 'modern']),
            timeout=dict(type='float', default=10),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
        ),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
