# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.filter.preflight import FilterModule


def test_filters_registered_and_name_the_variable():
    filters = FilterModule().filters()
    assert filters['ip_address_errors'](['192.0.2.1', '192.0.2.1/32'], 'lvs_dr_vips') == [
        "lvs_dr_vips[1]: '192.0.2.1/32' is not a bare IP address (no prefix length, no spaces)"]
    assert filters['interface_name_errors'](['eth0;id'], 'lvs_dr_interfaces')[0].startswith(
        "lvs_dr_interfaces[0]: 'eth0;id' is not a valid interface name")
    assert filters['ip_address_errors']([]) == []


def test_nginx_acme_errors_filter():
    errors = FilterModule().filters()['nginx_acme_errors']
    assert errors([{'name': 's', 'domains': ['s.example.org']}], ['rsa', 'ecdsa']) == []
    assert errors([{'name': 's', 'domains': ['*.example.org']}], ['rsa'])[0].startswith(
        "nginx_acme_sites[0].domains[0]: '*.example.org' is a wildcard")
    assert errors([], ['rsa'], key_var_name='kt') == [] and errors([], [], key_var_name='kt')[0].startswith('kt: ')
    # The deploy hooks are checked with the sites they name.
    sites = [{'name': 'shop', 'domains': ['shop.example.org']}]
    assert errors(sites, ['rsa'], deploy_hooks=[{'command': ['/usr/bin/true'], 'sites': ['shop']}]) == []
    assert errors(sites, ['rsa'], deploy_hooks=[{'command': ['/usr/bin/true'], 'sites': ['blog']}]) == [
        "nginx_acme_deploy_hooks[0].sites[0]: 'blog' is not a site of nginx_acme_sites"]


def test_value_errors_types_and_full_matches():
    from ansible_collections.opsnotes.edge.plugins.filter.preflight import value_errors
    assert value_errors('/etc/sysctl.d/90-x.conf', 'v', 'conf_path') == []
    # A trailing newline never slips past a pattern (no '$' anchors).
    assert value_errors('/etc/sysctl.d/90-x.conf\n', 'v', 'conf_path')[0].startswith("v: '/etc/sysctl.d/90-x.conf\\n'")
    assert value_errors('lab.service\n', 'v', 'service_unit') != []
    assert value_errors('x.conf\n', 'v', 'conf_name') != []
    assert value_errors('ops$(touch /tmp/x)@example.org', 'e', 'email') != []
    assert value_errors('ops@example.org', 'e', 'email') == []
    assert value_errors('https://acme.test:14000/dir', 'u', 'https_url') == []
    assert value_errors('https://acme.test/dir\nx', 'u', 'https_url') != []
    assert value_errors('*-*-* 03:17:00\nExecStart=/bin/x', 'c', 'calendar') != []
    assert value_errors('/srv/$host', 'p', ['nginx_path', 'unit_path'])[0].startswith("p: '/srv/$host' must not contain")
    assert value_errors('/srv/x\\', 'p', ['nginx_path', 'unit_path'])[0].endswith('continuation line)')
    with pytest.raises(ValueError, match='unknown type'):
        value_errors('x', 'v', 'nope')


def test_quote_filter_renders_or_fails_loudly():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.opsnotes.edge.plugins.filter.quote import quote
    assert quote("it's", 'shell') == "'it'\\''s'"
    assert quote('/a b/%n', 'systemd_paths') == '/a\\x20b/%%n'
    with pytest.raises(AnsibleFilterError, match='quote\\(systemd\\)'):
        quote('x\nExecStartPost=/bin/evil', 'systemd')
    with pytest.raises(AnsibleFilterError, match='unknown language'):
        quote('x', 'perl')


def test_acme_sites_errors_allow_a_name_and_domains_only():
    from ansible_collections.opsnotes.edge.plugins.filter.preflight import acme_sites_errors
    sites = [{'name': 'www', 'domains': ['www.test']}, {'name': 'x', 'domains': ['*.test'], 'upstream': 'http://a'}]
    errors = acme_sites_errors(sites, ['rsa', 'dsa'], 'haproxy_acme_sites', 'haproxy_acme_key_types')
    assert "haproxy_acme_key_types[1]: 'dsa' is not a key type (choose from rsa, ecdsa)" in errors
    assert any(e.startswith("haproxy_acme_sites[1].domains[0]: '*.test'") for e in errors)
    assert 'haproxy_acme_sites[1]: unknown keys upstream' in errors and len(errors) == 3
    assert acme_sites_errors(sites[:1], ['ecdsa'], 'v', 'k') == []
