# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.filter.acme import FilterModule

FILTERS = FilterModule().filters()


def test_cert_items_one_per_site_and_key_type():
    sites = [{'name': 'shop', 'domains': ['shop.test', 'www.shop.test']},
             {'name': 'blog', 'domains': ['blog.test'], 'webroot': '/srv/acme/'}]
    items = FILTERS['acme_cert_items'](sites, ['rsa', 'ecdsa'], '/etc/ssl/acme', '/var/lib/acme')
    assert [(i['name'], i['key_type']) for i in items] == [
        ('shop', 'rsa'), ('shop', 'ecdsa'), ('blog', 'rsa'), ('blog', 'ecdsa')]
    assert items[1] == dict(name='shop', key_type='ecdsa', domains=['shop.test', 'www.shop.test'],
                            webroot='/var/lib/acme', key='/etc/ssl/acme/shop/ecdsa.key',
                            csr='/etc/ssl/acme/shop/ecdsa.csr', cert='/etc/ssl/acme/shop/ecdsa.fullchain.pem')
    assert items[2]['webroot'] == '/srv/acme'
    assert FILTERS['acme_cert_items']([], ['rsa'], '/x', '/y') == []


def order(webroot, data):
    return {'item': {'webroot': webroot}, 'challenge_data': data, 'changed': True}


def test_http01_files_from_order_results():
    results = [
        order('/srv/a', {'b.test': {'http-01': {'resource': '.well-known/acme-challenge/tok2', 'resource_value': 'v2'}},
                         'a.test': {'http-01': {'resource': '.well-known/acme-challenge/tok1', 'resource_value': 'v1'}}}),
        order('/srv/b', {}),                      # every authorization already valid (reused): nothing to write
        {'skipped': True, 'item': {}},
    ]
    assert FILTERS['acme_http01_files'](results) == [
        dict(path='/srv/a/tok1', content='v1', domain='a.test'),
        dict(path='/srv/a/tok2', content='v2', domain='b.test')]
    assert FILTERS['acme_http01_files'](None) == []


def test_http01_files_refuses_orders_without_http01_or_webroot():
    with pytest.raises(AnsibleFilterError, match='offers no http-01 challenge'):
        FILTERS['acme_http01_files']([order('/srv/a', {'a.test': {'dns-01': {}}})])
    with pytest.raises(AnsibleFilterError, match='has no webroot'):
        FILTERS['acme_http01_files']([{'item': {}, 'challenge_data': {'a.test': {}}}])
