# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.filter.preflight import FilterModule


def test_filters_registered_and_name_the_variable():
    filters = FilterModule().filters()
    assert filters['ip_address_errors'](['192.0.2.1', '192.0.2.1/32'], 'lvs_dr_vips') == [
        "lvs_dr_vips[1]: '192.0.2.1/32' is not a bare IP address (no prefix length, no spaces allowed)"]
    assert filters['interface_name_errors'](['eth0;id'], 'lvs_dr_interfaces')[0].startswith(
        "lvs_dr_interfaces[0]: 'eth0;id' is not a valid interface name")
    assert filters['ip_address_errors']([]) == []


def test_nginx_acme_errors_filter():
    errors = FilterModule().filters()['nginx_acme_errors']
    assert errors([{'name': 's', 'domains': ['s.example.org']}], ['rsa', 'ecdsa']) == []
    assert errors([{'name': 's', 'domains': ['*.example.org']}], ['rsa'])[0].startswith(
        "nginx_acme_sites[0].domains[0]: '*.example.org' is a wildcard")
    assert errors([], ['rsa'], key_var_name='kt') == [] and errors([], [], key_var_name='kt')[0].startswith('kt: ')
