# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The importer: a haproxy.cfg back to the role's variables. Round trip on the role's own renderings (import, render,
the same frontend, backend and userlist sections), hand-written configurations with what the model lacks (kept as
directives, in order), and everything it cannot hold named with its line."""

from __future__ import annotations

import copy

import pytest
from hostile import HAPROXY_DOCUMENTED
from test__haproxy import CONFIG, MODEL, SECTIONS, THUMB, TLS_FRONTEND

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy as h
from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_import as imp
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_import import import_config, raw_tokens


def sections(text):
    """{header: [lines]} of every section of a haproxy.cfg, blank lines and comments dropped."""
    out, current = {}, None
    for line in text.splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        if not line.startswith(' '):
            current = line
            out[current] = []
        else:
            out[current].append(line.strip())
    return out


def round_trip(config):
    text = h.render(config)
    variables, inexpressible = import_config(text)
    again = imp.role_config(variables)
    assert h.lint(again)[0] == []
    return text, variables, inexpressible, h.render(again)


@pytest.mark.parametrize('config', [CONFIG, MODEL, SECTIONS], ids=['routing', 'model', 'sections'])
def test_the_role_s_own_configuration_comes_back_the_same(config):
    text, variables, inexpressible, again = round_trip(copy.deepcopy(config))
    assert sections(again) == sections(text)
    # The role's own global and defaults lines are its own again, and its variables are read.
    assert inexpressible == []
    assert variables['haproxy_maxconn'] == 4096 and variables['haproxy_timeout_client'] == 50000
    # No line comes back as a directive that was not one.
    for key in ('frontends', 'backends', 'listens'):
        assert [item.get('directives') for item in variables.get('haproxy_' + key, [])] == \
            [item.get('directives') for item in config.get(key, [])]


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
    assert variables['haproxy_userlists'] == [dict(name='ops', groups=[dict(name='admins')], users=[
        dict(name='ann', password='$6$abc$def', groups=['admins']), dict(name='bob', insecure_password='hunter2')])]
    assert (variables['haproxy_maxconn'], variables['haproxy_timeout_connect'], variables['haproxy_timeout_client']) \
        == (2000, 5000, 60000)
    # The global and defaults lines the role does not write itself are added to its sections; the listen section is
    # one of the role's too.
    assert variables['haproxy_global_directives'] == ['nbthread 4']
    assert variables['haproxy_defaults_directives'] == ['option forwardfor']
    assert variables['haproxy_listens'] == [dict(name='stats', bind=[':8404'], directives=['stats enable'])]
    assert inexpressible == []
    # What it imported renders, lints clean, and keeps the frontend's lines in their kinds' order.
    config = imp.role_config(variables)
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


def test_a_tls_configuration_comes_back_as_directives_with_its_tls_defaults():
    """A TLS bind comes back as a directive; the TLS defaults of the global section, which the role writes only for
    a tls_bind, come back as global lines, so the re-rendered global section is the same."""
    for profile in h.TLS_PROFILES:
        config = dict(frontends=[dict(TLS_FRONTEND, acme_challenge=False)], backends=[
            dict(name='be_www', servers=[dict(name='w', address='10.0.0.1', port=80)])],
            **{'global': dict(tls_profile=profile, acme_thumbprint=THUMB)})
        text, variables, inexpressible, again = round_trip(config)
        assert inexpressible == [] and sections(again) == sections(text)
        assert variables['haproxy_global_directives'][-1].startswith('ssl-default-bind-options ssl-min-ver')


def test_a_global_tls_default_after_the_profile_s_is_a_warning():
    config = dict(frontends=[dict(TLS_FRONTEND, acme_challenge=False)], backends=[
        dict(name='be_www', servers=[dict(name='w', address='10.0.0.1', port=80)])],
        global_directives=['ssl-default-bind-options ssl-min-ver TLSv1.0'])
    errors, warnings = h.lint(config)
    assert errors == [] and warnings == ["haproxy_global_directives[0]: 'ssl-default-bind-options ssl-min-ver "
                                         "TLSv1.0' comes after the TLS defaults of haproxy_tls_profile, and HAProxy "
                                         "takes the last"]
    assert not any('ssl-default' in w for w in h.lint(dict(config, frontends=[]))[1])  # no TLS bind: the only one


SETTINGS_CONFIG = '''global
    log /dev/log local0
    log 10.0.0.9:514 local2
    chroot /srv/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    stats socket ipv4@127.0.0.1:9999 level operator
    stats timeout 2m
    user haproxy
    daemon
    ssl-default-bind-options ssl-min-ver TLSv1.0
    ssl-default-server-options ssl-min-ver TLSv1.2
defaults
    mode tcp
    option tcplog
    load-server-state-from-file local
    errorfile 503 /etc/haproxy/errors/503.http
    errorfile 504 /srv/errors/504.http
    errorfiles site
defaults named
    mode http
http-errors site
    errorfile 503 /srv/errors/site-503.http
    errorfile 503 /srv/errors/again.http
    errorfile 404 errors/404.http
peers mypeers
    peer lb1 10.0.0.1:10000
'''


def test_the_global_and_defaults_lines_go_to_their_variables_or_are_named_with_the_reason():
    variables, inexpressible = import_config(SETTINGS_CONFIG)
    assert variables['haproxy_stats_socket'] == '/run/haproxy/admin.sock'
    assert variables['haproxy_global_directives'] == [
        'log 10.0.0.9:514 local2', 'stats socket ipv4@127.0.0.1:9999 level operator', 'daemon',
        'ssl-default-bind-options ssl-min-ver TLSv1.0', 'ssl-default-server-options ssl-min-ver TLSv1.2']
    assert variables['haproxy_defaults_directives'] == ['mode tcp', 'option tcplog', 'errorfile 504 /srv/errors/504.http',
                                                        'errorfiles site']
    assert variables['haproxy_http_errors'] == [dict(name='site', errorfiles={503: '/srv/errors/site-503.http'})]
    assert variables['haproxy_sections'] == [dict(kind='peers', name='mypeers', lines=['peer lb1 10.0.0.1:10000'])]
    assert [(i['line'], i['reason']) for i in inexpressible] == [
        (4, "the role runs HAProxy in /var/lib/haproxy (its global section is the role's own)"),
        (5, 'the role writes its admin socket at this path (haproxy_stats_socket) as "mode 600 level admin expose-fd '
            'listeners" (its global section is the role\'s own)'),
        (7, "the role writes the admin socket's timeout (its global section is the role's own)"),
        (15, "the role keeps the servers' state across reloads (its defaults section is the role's own)"),
        (19, 'a named defaults section: the role writes one defaults section'),
        (20, 'in the defaults above, which the role cannot write'),
        (23, 'an http-errors line the role cannot write (errorfile CODE /ABSOLUTE/PATH, once per code)'),
        (24, 'an http-errors line the role cannot write (errorfile CODE /ABSOLUTE/PATH, once per code)'),
    ]
    config = imp.role_config(variables)
    assert h.lint(config)[0] == []
    assert sections(h.render(config))['http-errors site'] == ['errorfile 503 /srv/errors/site-503.http']
