# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Preflight filters: they run on the controller, so roles can refuse bad input before touching a host."""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils._acme import sites_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._addresses import address_errors, interface_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy import lint as haproxy_lint
from ansible_collections.opsnotes.edge.plugins.module_utils._oom import SELECTORS, target_errors
from ansible_collections.opsnotes.edge.plugins.module_utils._syslog_ng import lint as syslog_ng_lint


def ip_address_errors(values, var_name='value'):
    return address_errors(values, var_name)


def interface_name_errors(values, var_name='value'):
    return interface_errors(values, var_name)


def oom_target_errors(items, var_name='value', allowed=None, positive_only=False):
    return target_errors(items, var_name, allowed=tuple(allowed or SELECTORS), positive_only=positive_only)


def syslog_ng_errors(config):
    return syslog_ng_lint(config)[0]


def haproxy_errors(config):
    return haproxy_lint(config)[0]


def nginx_acme_errors(sites, key_types, var_name='nginx_acme_sites', key_var_name='nginx_acme_key_types'):
    return sites_errors(sites, key_types, var_name, key_var_name)


class FilterModule(object):
    def filters(self):
        return {
            'ip_address_errors': ip_address_errors,
            'interface_name_errors': interface_name_errors,
            'oom_target_errors': oom_target_errors,
            'syslog_ng_errors': syslog_ng_errors,
            'haproxy_errors': haproxy_errors,
            'nginx_acme_errors': nginx_acme_errors,
        }
