# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP probes of the ACME http-01 challenge location, and why a fetched token was not the token."""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils._http import get

CHALLENGE_PREFIX = '/.well-known/acme-challenge/'


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
