# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The importer: a haproxy.cfg back to the role's variables. Round trip on the role's own renderings (import, render,
the same frontend, backend and userlist sections), hand-written configurations with what the model lacks (kept as
directives, in order), and everything it cannot hold named with its line."""

from __future__ import annotations

import copy

import pytest
from hostile import HAPROXY_DOCUMENTED
from test__haproxy import CONFIG, MODEL

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy as h
from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_import as imp
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_import import import_config, raw_tokens


def sections(text):
    """{header: [lines]} of the frontend, backend and userlist sections of a haproxy.cfg, blank lines dropped."""
    out, current = {}, None
    for line in text.splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        if not line.startswith(' '):
            current = line if line.split()[0] in ('frontend', 'backend', 'userlist') else None
            if current:
                out[current] = []
        elif current:
            out[current].append(line.strip())
    return out


def role_config(variables):
    return dict(frontends=variables['haproxy_frontends'], backends=variables['haproxy_backends'],
                userlists=variables['haproxy_userlists'])


def round_trip(config):
    text = h.render(config)
    variables, inexpressible = import_config(text)
    again = role_config(variables)
    assert h.lint(again)[0] == []
    return text, variables, inexpressible, h.render(again)


@pytest.mark.parametrize('config', [CONFIG, MODEL], ids=['routing', 'model'])
def test_the_role_s_own_configuration_comes_back_the_same(config):
    text, variables, inexpressible, again = round_trip(copy.deepcopy(config))
    assert sections(again) == sections(text)
    # The role's global and defaults lines are named, never dropped, and its own variables read.
    assert inexpressible and all(i['reason'].startswith('the role writes the') for i in inexpressible)
    assert variables['haproxy_maxconn'] == 4096 and variables['haproxy_timeout_client'] == 50000
    assert not any('directives' in item for item in variables['haproxy_frontends'] + variables['haproxy_backends'])


HANDWRITTEN = '''global
    maxconn 2000
    nbthread 4            # not the role's
defaults
    mode http
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    option forwardfor

userlist ops
    group admins
    user ann password $6$abc$def groups admins
    user bob insecure-password hunter2

frontend fe_main
    bind *:80
    bind :443 ssl crt /etc/haproxy/site.pem alpn h2,http/1.1
    option http-buffer-request
    acl is_api path_beg -i /api/
    acl blocked src -f /etc/haproxy/blocked.lst
    acl token req.hdr(x-token) -m str "a b"
    http-request deny deny_status 403 if blocked   # keep
    http-request set-header X-Proto https if { ssl_fc }
    http-request return status 200 content-type "text/plain" string "ok" if { path /health }
    use_backend be_api if is_api
    use_backend be_%[req.hdr(x-pool),lower] if { req.hdr(x-pool) -m found }
    default_backend be_web

backend be_api
    balance leastconn
    option httpchk GET /health
    http-check expect status 200
    server api1 10.0.0.21:8080 check weight 10
    server api2 10.0.0.22:8080 check ssl verify none

backend be_web
    cookie SRV insert indirect nocache
    server w1 10.0.0.31:80 check cookie w1
    server w2 10.0.0.32:80 check cookie w2

listen stats
    bind :8404
    stats enable
'''


def test_a_handwritten_configuration_keeps_every_line_somewhere():
    variables, inexpressible = import_config(HANDWRITTEN)
    frontend = variables['haproxy_frontends'][0]
    assert frontend['bind'] == ['*:80']
    assert frontend['directives'] == ['bind :443 ssl crt /etc/haproxy/site.pem alpn h2,http/1.1',
                                      'option http-buffer-request']
    assert frontend['acls'] == [dict(name='is_api', criterion='path_beg', flags=['-i'], values=['/api/']),
                                dict(name='blocked', criterion='src', flags=['-f /etc/haproxy/blocked.lst']),
                                dict(name='token', criterion='req.hdr(x-token)', flags=['-m str'], values=['a b'])]
    assert frontend['http_request'] == [
        dict(action='deny', args='deny_status 403', cond='blocked'),
        dict(action='set-header', args='X-Proto https', cond='{ ssl_fc }'),
        dict(action='return', args='status 200 content-type "text/plain" string "ok"', cond='{ path /health }')]
    assert frontend['use_backend'][1] == dict(backend='be_%[req.hdr(x-pool),lower]', cond='{ req.hdr(x-pool) -m found }')
    api = variables['haproxy_backends'][0]
    # One server has TLS options the model has no key for: both servers stay directives, in their order.
    assert 'servers' not in api and api['directives'] == [
        'option httpchk GET /health', 'http-check expect status 200', 'server api1 10.0.0.21:8080 check weight 10',
        'server api2 10.0.0.22:8080 check ssl verify none']
    assert variables['haproxy_backends'][1]['servers'][0] == dict(name='w1', address='10.0.0.31', port=80, check=True,
                                                                  cookie='w1')
    assert variables['haproxy_userlists'] == [dict(name='ops', groups=[dict(name='admins')],
                                                   users=[dict(name='ann', password='$6$abc$def', groups=['admins'])])]
    assert (variables['haproxy_maxconn'], variables['haproxy_timeout_connect'], variables['haproxy_timeout_client']) \
        == (2000, 5000, 60000)
    assert [(i['line'], i['text']) for i in inexpressible] == [
        (3, 'nbthread 4            # not the role\'s'), (5, 'mode http'), (9, 'option forwardfor'),
        (14, 'user bob insecure-password hunter2'), (42, 'listen stats'), (43, 'bind :8404'), (44, 'stats enable')]
    assert inexpressible[-3]['reason'].endswith('write it as a frontend and a backend')
    # What it imported renders, lints clean, and keeps the frontend's lines in their kinds' order.
    config = role_config(variables)
    assert h.lint(config)[0] == []
    text = h.render(config)
    requests = [line.strip() for line in text.splitlines() if line.strip().startswith('http-request')]
    assert requests == ['http-request deny deny_status 403 if blocked', 'http-request set-header X-Proto https if '
                        '{ ssl_fc }', 'http-request return status 200 content-type "text/plain" string "ok" if '
                        '{ path /health }']


def test_a_rule_that_cannot_take_its_key_keeps_its_kind_in_order():
    text = '\n'.join(['frontend fe', '    bind *:80', '    http-request deny if { src 10.0.0.0/8 }',
                      '    http-request Weird-Action', '    http-request allow', '    default_backend be',
                      'backend be', '    server s 10.0.0.1:80'])
    variables, _inexpressible = import_config(text)
    frontend = variables['haproxy_frontends'][0]
    assert 'http_request' not in frontend
    assert frontend['directives'] == ['http-request deny if { src 10.0.0.0/8 }', 'http-request Weird-Action',
                                      'http-request allow']


@pytest.mark.parametrize('cond', HAPROXY_DOCUMENTED)
def test_documented_conditions_come_back_as_written(cond):
    text = 'frontend fe\n    bind *:80\n    http-request deny if %s\n    default_backend be\n' % cond
    variables, _inexpressible = import_config(text)
    assert variables['haproxy_frontends'][0]['http_request'] == [dict(action='deny', cond=cond)]


def test_raw_tokens_keep_the_quoting():
    assert raw_tokens('string "a b" \'c d\' e\\ f') == ['string', '"a b"', "'c d'", 'e\\ f']


def test_lines_haproxy_would_not_read_are_named():
    variables, inexpressible = import_config('frontend fe\n    bind *:80\n    acl a path "open\n')
    assert inexpressible[0]['line'] == 3 and 'unmatched double quote' in inexpressible[0]['reason']


MAPS_CONFIG = '''frontend fe
    bind *:80
    acl blocked path_beg -f /etc/haproxy/maps/blocked.lst
    acl known hdr(host) -M -f /etc/haproxy/maps/known.map
    acl old src -f /etc/haproxy/old.lst
    http-request deny if blocked || { src -f /etc/haproxy/maps/missing.lst }
    http-request set-var(txn.b) req.hdr(host),lower,map_str(/etc/haproxy/maps/hosts.map,be)
    http-request set-map(/etc/haproxy/maps/both.lst) %[src] x if { path /both -f /etc/haproxy/maps/both.lst }
    default_backend be
backend be
    server s 10.0.0.1:80
'''
FILES = {
    '/etc/haproxy/maps/blocked.lst': '# a comment\n/admin\n  /x y \n\n',
    '/etc/haproxy/maps/known.map': 'a 1\n',
    '/etc/haproxy/maps/hosts.map': '# hosts\n www.example.org \t be_www  \nwww.example.org be_other\n #h be\nk\n',
    '/etc/haproxy/maps/both.lst': 'x\n',
    '/etc/haproxy/old.lst': '10.0.0.0/8\n',
}


def read(path):
    if path not in FILES:
        raise FileNotFoundError(2, 'No such file or directory')
    return FILES[path]


def test_the_map_and_pattern_files_of_the_maps_directory_are_imported_as_haproxy_reads_them():
    variables, inexpressible = imp.import_config(MAPS_CONFIG, '/etc/haproxy/maps', read)
    assert variables['haproxy_maps'] == [
        dict(name='blocked.lst', entries=['/admin', '/x y ']),
        # The first of a key is the one HAProxy matches; a key after a blank that begins with '#' is a key.
        dict(name='hosts.map', entries={'www.example.org': 'be_www', '#h': 'be', 'k': ''}),
        dict(name='known.map', entries={'a': '1'}),
    ]
    assert [(i['line'], i['reason'].split(':')[0]) for i in inexpressible] == [
        (5, '/etc/haproxy/old.lst is not in /etc/haproxy/maps'),
        (6, 'cannot read /etc/haproxy/maps/missing.lst'),
        (8, '/etc/haproxy/maps/both.lst is read both as a map and as a pattern file'),
    ]
    # What the role writes of them reads back the same.
    for item in variables['haproxy_maps']:
        text = h.render_maps(dict(maps=[item]))[item['name']]
        assert imp.read_entries(text, isinstance(item['entries'], dict)) == item['entries']


def test_without_a_maps_directory_nothing_is_read():
    variables, inexpressible = imp.import_config(MAPS_CONFIG)
    assert 'haproxy_maps' not in variables and inexpressible == []
