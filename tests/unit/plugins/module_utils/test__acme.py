# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme


@pytest.mark.parametrize('domain, fragment', [
    ('www.example.org', None),
    ('xn--bcher-kva.example', None),
    ('example.org.', None),
    ('www example.org', 'contains whitespace'),
    ('*.example.org', 'wildcard; http-01 cannot validate'),
    ('localhost', 'not a valid DNS name'),
    ('-bad.example.org', 'not a valid DNS name'),
    ('a_b.example.org', 'not a valid DNS name'),
    ('10.0.0.1', 'IP address'),
    ('', 'non-empty DNS name'),
    (None, 'non-empty DNS name'),
])
def test_domain_errors(domain, fragment):
    errors = _acme.domain_errors(domain, 'x.domains[0]')
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith('x.domains[0]: ') and fragment in errors[0]


def test_sites_errors_name_the_variable_and_value():
    sites = [
        {'name': 'ok', 'domains': ['a.example.org'], 'webroot': '/srv/acme'},
        {'name': 'ok', 'domains': [], 'webroot': 'relative/dir'},
        {'name': 'bad name', 'domains': ['a.example.org'], 'upstream': 'http://x;', 'root': '/srv', 'extra': 1},
        'not a dict',
        {'name': 'root', 'domains': ['b.example.org'], 'root': '/'},
        {'name': 'short', 'domains': ['c.example.org'], 'profile': 'shortlived'},
        {'name': 'listed', 'domains': ['d.example.org'], 'profile': ['tlsserver']},
    ]
    errors = _acme.sites_errors(sites, ['rsa', 'dsa', 'rsa'])
    expected = [
        "nginx_acme_key_types[1]: 'dsa' is not a key type (choose from rsa, ecdsa)",
        "nginx_acme_key_types: ['rsa', 'dsa', 'rsa'] lists a key type twice",
        "nginx_acme_sites[1].name: 'ok' is already defined",
        "nginx_acme_sites[1].domains: [] must be a non-empty list of DNS names",
        "nginx_acme_sites[1].webroot: 'relative/dir' must be an absolute path",
        "nginx_acme_sites[2].name: 'bad name' must be 1-64 letters",
        "nginx_acme_sites[2].domains[0]: 'a.example.org' is already served by nginx_acme_sites[0]",
        "nginx_acme_sites[2]: set upstream or root, not both",
        "nginx_acme_sites[2].upstream: 'http://x;' must be an http://",
        "nginx_acme_sites[2]: unknown keys extra",
        "nginx_acme_sites[3]: must be a dict",
        "nginx_acme_sites[4].root: '/' must be a normalised absolute path other than /",
        "nginx_acme_sites[6].profile: ['tlsserver'] must be the name of an ACME profile the CA offers",
    ]
    assert len(errors) == len(expected), errors
    for message, prefix in zip(errors, expected, strict=True):
        assert message.startswith(prefix), (message, prefix)


def test_sites_errors_accept_a_good_list_and_refuse_bad_key_type_shapes():
    assert _acme.sites_errors([{'name': 's', 'domains': ['s.example.org'], 'upstream': 'unix:/run/app.sock',
                                'hsts': True}], ['ecdsa']) == []
    assert _acme.sites_errors([], []) == ["nginx_acme_key_types: [] must be a non-empty list of rsa, ecdsa"]
    assert _acme.sites_errors('x', ['rsa']) == ['nginx_acme_sites: must be a list of sites']


# Spaces and ';' are quoted by the nginx layer; '$' (a variable to nginx) and line ends have no safe rendering.
@pytest.mark.parametrize('path, ok', [('/srv/a', True), ('srv/a', False), ('/srv/../etc', False), ('/srv/a b', True),
                                      ('/', False), ('/srv/a;', True), (None, False), ('/srv/$host', False),
                                      ('/srv/a\n', False), ('/srv/a\\', True)])
def test_absolute_path_errors(path, ok):
    assert (_acme.absolute_path_errors(path, 'w') == []) is ok


@pytest.mark.parametrize('hooks, fragment', [
    ([{'command': ['/usr/local/bin/push', '--site', "a b'; reboot"], 'sites': ['s'], 'writable': ['/var/lib/x y']}],
     None),                                                          # any word is one word: no shell
    ('/bin/true', 'nginx_acme_deploy_hooks: must be a list of hooks'),
    (['/bin/true'], 'nginx_acme_deploy_hooks[0]: must be a dict with command'),
    ([{'command': 'systemctl reload haproxy'}],
     "nginx_acme_deploy_hooks[0].command: 'systemctl reload haproxy' must be a non-empty list"),
    ([{'command': []}], 'must be a non-empty list of words'),
    ([{'command': [True]}], 'must be a non-empty list of words'),
    ([{'command': ['systemctl', 'reload']}],
     "nginx_acme_deploy_hooks[0].command[0]: 'systemctl' must be an absolute path"),
    ([{'command': ['/bin/echo', 'a\x00b']}], 'command[1]: '),
    ([{'command': ['/bin/true'], 'sites': 's'}], "sites: 's' must be a list of site names"),
    ([{'command': ['/bin/true'], 'sites': ['t']}], "sites[0]: 't' is not a site of nginx_acme_sites"),
    ([{'command': ['/bin/true'], 'writable': ['relative']}], "writable[0]: 'relative' must be an absolute path"),
    ([{'command': ['/bin/true'], 'writable': ['/srv/a\nb']}], 'writable[0]: '),
    ([{'command': ['/bin/true'], 'writable': '/srv'}], "writable: '/srv' must be a list of paths"),
    ([{'command': ['/bin/true'], 'shell': True}], 'nginx_acme_deploy_hooks[0]: unknown keys shell'),
])
def test_hooks_errors(hooks, fragment):
    errors = _acme.hooks_errors(hooks, ['s'])
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0], errors
