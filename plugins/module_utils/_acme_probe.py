# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP probes of the ACME http-01 challenge location, asked as the CA asks: a token written to the webroot and
fetched (then removed), the stateless answer for random tokens nobody wrote, and traversal probes that must not reach
a canary next to the webroot; and why a fetched token was not the token. Shared by acme_challenge_check and
acme_certificate_check (its ``challenges``)."""

from __future__ import annotations

import os
import secrets

from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import key_authorization
from ansible_collections.opsnotes.edge.plugins.module_utils._http import get

CHALLENGE_PREFIX = '/.well-known/acme-challenge/'

# What check_site takes of one site, as an AnsibleModule argument spec (with a thumbprint and a timeout besides).
SITE_ARGS = dict(
    domains=dict(type='list', elements='str', required=True),
    webroot=dict(type='path'),
    stateless_probes=dict(type='int', default=3),
    address=dict(type='str'),
    port=dict(type='int', default=80),
    traversal_probe=dict(type='bool', default=True),
)


# --- HTTP probes of the challenge location ---------------------------------------------------------------------

def http_get(host, port, path, host_header, timeout):
    """(status, headers dict with lower-case names, body text) of one GET; ``path`` is sent exactly as given."""
    response = get(host, port, path, host_header, timeout, 'opsnotes.edge acme_challenge_check')
    return response.status, response.headers, response.text()


def explain_token_miss(status, headers, body, webroot):
    """Why a fetched token is not the token, in words an operator can act on."""
    if status in (301, 302, 303, 307, 308):
        return ('HTTP %d redirect to %s instead of the token: the port-80 server has no '
                'location ^~ %s (or it does not come first)' % (status, headers.get('location', '?'), CHALLENGE_PREFIX))
    if status == 404 and webroot is None:
        return ('HTTP 404: no stateless answer at %s (a webroot-only challenge location, or another server block '
                'answers for this name)' % CHALLENGE_PREFIX)
    if status == 404:
        return ('HTTP 404: the server does not serve %s at %s (wrong alias/root, or another server block '
                'answers for this name)' % (webroot, CHALLENGE_PREFIX))
    if status == 200:
        return 'HTTP 200 but the body is not the token: %r' % body[:80]
    return 'HTTP %d instead of the token' % status


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


def check_site(params, check_mode=False):
    """Per domain of ``params`` (domains, webroot, thumbprint, stateless_probes, address, port, timeout,
    traversal_probe): the token from the webroot, the stateless answer, and the traversal probes, each domain an
    entry {domain, ok, status, reason, url, token_written, stateless, traversal}. ``check_mode`` writes nothing (an
    absent token is asked for, and traversal is not probed). Raises ValueError when neither a webroot nor a
    thumbprint is given, or the webroot does not exist."""
    if not params['webroot'] and not params['thumbprint']:
        raise ValueError('set webroot, thumbprint or both')
    webroot = (params['webroot'].rstrip('/') or '/') if params['webroot'] else None
    if webroot and not os.path.isdir(webroot):
        raise ValueError('webroot %s does not exist' % webroot)
    canary_name = canary_text = canary_path = None
    # Check mode changes nothing on the host: no token, no canary (so no traversal probe either).
    if webroot and params['traversal_probe'] and not check_mode:
        canary_name = '.opsnotes-canary-' + secrets.token_hex(8)
        canary_text = 'opsnotes-canary-' + secrets.token_hex(16)
        canary_path = os.path.join(os.path.dirname(webroot), canary_name)
    results = []
    try:
        if canary_path:
            write_file(canary_path, canary_text)
        for domain in params['domains']:
            if webroot:
                entry = check_token(params, domain, webroot, read_only=check_mode)
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
    return results
