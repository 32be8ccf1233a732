# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Preflight filters: they run on the controller, so roles can refuse bad input before touching a host."""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils import _quote
from ansible_collections.opsnotes.edge.plugins.module_utils._acme import hooks_errors, sites_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import address_errors, interface_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import lint as haproxy_lint
from ansible_collections.opsnotes.edge.plugins.module_utils._keepalived import lint as keepalived_lint
from ansible_collections.opsnotes.edge.plugins.module_utils._oom import SELECTORS, target_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._syslog_ng import lint as syslog_ng_lint


def ip_address_errors(values, var_name='value', networks=False):
    return address_errors(values, var_name, networks=networks)


def interface_name_errors(values, var_name='value'):
    return interface_errors(values, var_name)


def oom_target_errors(items, var_name='value', allowed=None, positive_only=False):
    return target_errors(items, var_name, allowed=tuple(allowed or SELECTORS), positive_only=positive_only)


def syslog_ng_errors(config):
    return syslog_ng_lint(config)[0]


def haproxy_errors(config):
    return haproxy_lint(config)[0]


def keepalived_errors(config):
    return keepalived_lint(config)[0]


def nginx_acme_errors(sites, key_types, var_name='nginx_acme_sites', key_var_name='nginx_acme_key_types',
                      deploy_hooks=None, hooks_var_name='nginx_acme_deploy_hooks'):
    errors = sites_errors(sites, key_types, var_name, key_var_name)
    if deploy_hooks is not None:
        names = [site.get('name') for site in sites if isinstance(site, dict)] if isinstance(sites, list) else []
        errors += hooks_errors(deploy_hooks, names, hooks_var_name)
    return errors


def acme_sites_errors(sites, key_types, var_name, key_var_name, fields=('name', 'domains', 'profile')):
    """The ACME sites of a role that only needs certificates for them (haproxy): a name and domains each."""
    return sites_errors(sites, key_types, var_name, key_var_name, fields=tuple(fields))


def _suffixed(suffix):
    def check(value):
        _quote.abs_path(value)
        if not value.endswith(suffix) or value.endswith('/' + suffix):
            raise _quote.Unsafe('%r must be a file name ending in %s' % (value, suffix))
    return check


def _file_name(suffix):
    def check(value):
        if not _quote.fullmatch(r'[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,250}', value) or not value.endswith(suffix) \
                or value == suffix:
            raise _quote.Unsafe('%r must be a file name (A-Z a-z 0-9 _ . @ -) ending in %s' % (value, suffix))
    return check


def _email(value):
    if not _quote.fullmatch(r'[A-Za-z0-9.!#%&*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?', value):
        raise _quote.Unsafe('%r is not an e-mail address (local@domain, no spaces, quotes or "$")' % (value,))


def _https_url(value):
    if not _quote.fullmatch(r'https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!&()*+,;=:@%/-]*)?', value):
        raise _quote.Unsafe('%r must be an https:// URL (host, optional port and path; no spaces, quotes, "$" '
                            'or "?")' % (value,))


# The types of the rendering layer, by the name roles use in their preflight.
TYPES = {
    'abs_path': _quote.abs_path,
    'conf_path': _suffixed('.conf'),
    'conf_name': _file_name('.conf'),
    'service_unit': _quote.unit_name,
    'interface_name': _quote.interface_name,
    'calendar': _quote.systemd_calendar,
    'email': _email,
    'https_url': _https_url,
    'dns_name': _quote.dns_name,
    'port': _quote.port,
    'text': _quote.text,
    'nginx_path': _quote.nginx_path,
    'unit_path': _quote.systemd_path,
}


def value_errors(value, var_name, kind):
    """[] or ['<var_name>: <why>'] for ``value`` checked as ``kind`` (a key of TYPES, or a list of them when the
    value goes to several languages: the first refusal is reported)."""
    for one in [kind] if isinstance(kind, str) else kind:
        if one not in TYPES:
            raise ValueError('value_errors: unknown type %r (known: %s)' % (one, ', '.join(sorted(TYPES))))
        problems = _quote.errors(var_name, TYPES[one], value)
        if problems:
            return problems
    return []


class FilterModule(object):
    def filters(self):
        return {
            'ip_address_errors': ip_address_errors,
            'interface_name_errors': interface_name_errors,
            'oom_target_errors': oom_target_errors,
            'syslog_ng_errors': syslog_ng_errors,
            'haproxy_errors': haproxy_errors,
            'keepalived_errors': keepalived_errors,
            'nginx_acme_errors': nginx_acme_errors,
            'acme_sites_errors': acme_sites_errors,
            'value_errors': value_errors,
        }
