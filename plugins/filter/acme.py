# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters of the nginx_acme role: the certificate items of a site list, and the http-01 token files of orders."""

from __future__ import annotations

import posixpath

from ansible.errors import AnsibleFilterError


def acme_cert_items(sites, key_types, cert_dir, challenge_dir):
    """One item per site and key type: name, key_type, domains, webroot and the key, CSR and fullchain paths."""
    items = []
    for site in sites or []:
        base = posixpath.join(cert_dir, site['name'])
        for key_type in key_types:
            items.append(dict(
                name=site['name'], key_type=key_type, domains=list(site['domains']),
                webroot=(site.get('webroot') or challenge_dir).rstrip('/'),
                key=posixpath.join(base, '%s.key' % key_type), csr=posixpath.join(base, '%s.csr' % key_type),
                cert=posixpath.join(base, '%s.fullchain.pem' % key_type)))
    return items


def acme_http01_files(order_results):
    """The token files that the registered loop results of community.crypto.acme_certificate ask for.

    Each loop item must carry the webroot; returns [{path, content}], one per pending challenge.
    """
    files = []
    for result in order_results or []:
        if not isinstance(result, dict) or not result.get('challenge_data'):
            continue
        webroot = (result.get('item') or {}).get('webroot')
        if not webroot:
            raise AnsibleFilterError('acme_http01_files: the loop item of an order has no webroot')
        for identifier, challenges in sorted(result['challenge_data'].items()):
            http01 = challenges.get('http-01')
            if not http01:
                raise AnsibleFilterError('acme_http01_files: the order for %s offers no http-01 challenge' % identifier)
            files.append(dict(path=posixpath.join(webroot, posixpath.basename(http01['resource'])),
                              content=http01['resource_value'], domain=identifier))
    return files


class FilterModule(object):
    def filters(self):
        return {
            'acme_cert_items': acme_cert_items,
            'acme_http01_files': acme_http01_files,
        }
