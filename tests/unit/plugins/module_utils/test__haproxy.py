# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy

import pytest
from hostile import HAPROXY_DOCUMENTED
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy as h
from ansible_collections.opsnotes.edge.plugins.module_utils._haproxy_import import read_entries

CONFIG = dict(
    frontends=[dict(
        name='fe_web', bind=['*:80', '[::]:80', '192.0.2.1:8080'],
        acls=[dict(name='url_static', criterion='path_beg', values=['/static', '/images']),
              dict(name='url_static', criterion='path_end', values=['.png']),
              dict(name='host_www', criterion='hdr_beg(host)', flags=['-i'], values=['www']),
              dict(name='bad_path', criterion='path_sub', values=['../']),
              dict(name='auth_ok', criterion='http_auth(admins)'),
              dict(name='odd', criterion='req.hdr(x-thing),lower', raw=True, values=['a b'])],
        http_request=[dict(action='deny', cond='bad_path'), dict(action='auth', args='realm admin', cond='!auth_ok',
                                                                 ), dict(action='deny', cond='odd METH_POST')],
        use_backend=[dict(backend='be_static', cond='host_www url_static || { path_beg /assets/ }')],
        default_backend='be_www')],
    backends=[dict(name='be_static', servers=[dict(name='s1', address='10.0.0.21', port=8080, check=True)]),
              dict(name='be_www', balance='leastconn',
                   servers=[dict(name='w1', address='web-1.example.test', port=8080, weight=10, maxconn=100,
                                 check=True), dict(name='w2', address='10.0.0.12', port=8080, backup=True, send_proxy_v2=True)])],
    userlists=[dict(name='admins', users=[dict(name='ops', password='$6$salt$hash')])],
    global_=None,
)
CONFIG.pop('global_')


def test_condition_terms_read_words_as_haproxy_does():
    assert h.condition_terms('a b || { src 10.0.0.0/8 } !c') == [
        (False, 'a', None), (False, 'b', None), (False, 'or', None), (False, None, ['src', '10.0.0.0/8']),
        (True, 'c', None)]
    assert h.condition_acls('host_static or host_www url_static') == (['host_static', 'host_www', 'url_static'], [])
    assert h.condition_acls('!a { path_beg /x }') == (['a'], ['path_beg /x'])
    # '!' glued to a brace, alone before one, doubled: haproxy -c accepts all three.
    assert h.condition_terms('{ path_beg /admin } !{ src 10.0.0.0/8 }')[1] == (True, None, ['src', '10.0.0.0/8'])
    assert h.condition_terms('! { src 10.0.0.0/8 }') == [(True, None, ['src', '10.0.0.0/8'])]
    assert h.condition_terms('!!a') == [(False, 'a', None)]
    with pytest.raises(ValueError, match="missing closing"):
        h.condition_terms('{ src 10.0.0.0/8')


@pytest.mark.parametrize('cond', ['{ path_beg /admin } !{ src 10.0.0.0/8 }', '! { src 10.0.0.0/8 }',
                                  'host_www ! url_static', '!!host_www', 'host_www OR url_static'])
def test_conditions_haproxy_accepts_lint_clean(cond):
    assert errors_of(lambda c: c['frontends'][0]['http_request'][0].update(cond=cond)) == []
    assert h.parse_criterion('hdr_beg(host)') == ('hdr_beg', 'host')
    assert h.parse_criterion('path') == ('path', None)
    assert h.parse_criterion('hdr(a b)') == ('hdr', 'a b')      # the lint then refuses the argument
    assert h.parse_criterion('hdr(a(b))') is None


def test_valid_config_lints_clean_and_renders():
    errors, warnings = h.lint(CONFIG)
    assert errors == []
    assert warnings == []
    text = h.render(CONFIG, 'managed')
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == '# managed'
    assert 'stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners' in lines
    assert 'server-state-file /var/lib/haproxy/server-state' in lines
    assert 'load-server-state-from-file global' in lines
    assert "acl url_static path_beg -- /static /images" in lines
    assert "acl host_www hdr_beg(host) -i -- www" in lines
    assert "acl odd req.hdr(x-thing),lower -- 'a b'" in lines
    assert "acl auth_ok http_auth(admins)" in lines
    assert 'http-request auth realm admin if !auth_ok' in lines
    assert 'use_backend be_static if host_www url_static || { path_beg /assets/ }' in lines
    assert 'default_backend be_www' in lines
    assert 'server w1 web-1.example.test:8080 check weight 10 maxconn 100' in lines
    assert 'server w2 10.0.0.12:8080 backup send-proxy-v2' in lines
    # A backend without balance has no balance line: HAProxy's default (roundrobin), or the defaults section's.
    assert 'balance leastconn' in lines and 'balance roundrobin' not in lines
    assert 'user ops password $6$salt$hash' in lines


def test_hostile_values_stay_one_pattern_each():
    config = copy.deepcopy(CONFIG)
    config['frontends'][0]['acls'][0]['values'] = ['-f', '/etc/shadow', "it's", 'a b # c', '$HOME']
    config['global'] = dict(stats_socket="/run/hap proxy/admin's.sock")
    assert h.lint(config)[0] == []
    text = h.render(config)
    assert "acl url_static path_beg -- -f /etc/shadow 'it'\\''s' 'a b # c' '$HOME'" in text
    assert "stats socket '/run/hap proxy/admin'\\''s.sock' mode 600" in text


def test_long_value_lists_go_on_several_lines_of_the_same_acl():
    config = copy.deepcopy(CONFIG)
    config['frontends'][0]['acls'][0]['values'] = ['/v%d' % i for i in range(120)]
    lines = [line.split() for line in h.render(config).splitlines() if line.startswith('    acl url_static path_beg')]
    assert [len(words) for words in lines] == [4 + 50, 4 + 50, 4 + 20]      # haproxy reads at most 64 words a line
    assert [w for words in lines for w in words[4:]] == ['/v%d' % i for i in range(120)]
    assert all(words[3] == '--' for words in lines)


def test_global_settings_render():
    config = dict(CONFIG, **{'global': dict(stats_socket='/run/x.sock', state_file='/var/lib/x', maxconn=10,
                                            timeout_client=7)})
    text = h.render(config)
    assert 'stats socket /run/x.sock mode 600' in text and 'server-state-file /var/lib/x' in text
    assert 'maxconn 10' in text and 'timeout client 7' in text


def test_unused_acls_and_backends_are_warnings():
    config = copy.deepcopy(CONFIG)
    config['frontends'][0]['acls'].append(dict(name='lonely', criterion='path', values=['/x']))
    config['backends'].append(dict(name='be_spare', servers=[]))
    assert h.lint(config)[1] == ['haproxy_frontends[0]: ACL lonely is defined but never used',
                                 'backend be_spare is not used by any frontend']


def errors_of(change, base=None):
    """The lint errors of a copy of ``base`` (default: CONFIG) after ``change``."""
    config = copy.deepcopy(CONFIG if base is None else base)
    change(config)
    return h.lint(config)[0]


@pytest.mark.parametrize('change, message', [
    (lambda c: c['frontends'][0]['use_backend'].append(dict(backend='be_www', cond='host_wwww')),
     "haproxy_frontends[0].use_backend[1].cond: ACL 'host_wwww' is not defined in this frontend"),
    (lambda c: c['frontends'][0].update(default_backend='be_nope'),
     "haproxy_frontends[0].default_backend: backend 'be_nope' is not defined"),
    (lambda c: c['frontends'][0]['use_backend'].append(dict(backend='be_nope', cond='host_www')),
     "haproxy_frontends[0].use_backend[1].backend: backend 'be_nope' is not defined"),
    (lambda c: c['frontends'][0]['acls'][2].update(name='host www'),
     "haproxy_frontends[0].acls[2].name: 'host www' must be 1-64 characters"),
    (lambda c: c['frontends'][0]['acls'][2].update(name='a#b'), "haproxy_frontends[0].acls[2].name: 'a#b'"),
    (lambda c: c['frontends'][0]['acls'][2].update(name='TRUE'), "haproxy_frontends[0].acls[2].name: 'TRUE' is a predefined"),
    (lambda c: c['frontends'][0]['acls'][0].update(values=['/x\nbackend evil']),
     "haproxy_frontends[0].acls[0].values[0]: '/x\\nbackend evil' must not contain a line end"),
    (lambda c: c['frontends'][0]['acls'][0].update(values=['/x\rbackend evil']), "values[0]: '/x\\rbackend evil' must not"),
    (lambda c: c['frontends'][0]['acls'][0].update(values=['/x\x00']), "values[0]: '/x\\x00' must not"),
    (lambda c: c['frontends'][0]['acls'][0].update(values=['']), "values[0]: value must not be empty"),
    (lambda c: c.update({'global': dict(stats_socket='/run/x.sock\nstats socket ipv4@0.0.0.0:9999 level admin')}),
     "haproxy_stats_socket: '/run/x.sock\\nstats socket ipv4@0.0.0.0:9999 level admin' must not contain a line end"),
    (lambda c: c.update({'global': dict(state_file='/var/lib/x\nstats socket ipv4@0.0.0.0:9999 level admin')}),
     "haproxy_state_file: '/var/lib/x\\nstats socket"),
    (lambda c: c.update({'global': dict(state_file='/var/lib/../x')}), "haproxy_state_file: '/var/lib/../x' must be a normalised"),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond='{ src 10.0.0.0/8'), "missing closing '}'"),
    (lambda c: c['frontends'][0]['acls'][0].update(values='/x'), 'haproxy_frontends[0].acls[0].values: must be a list'),
    (lambda c: c['frontends'][0]['acls'][0].update(criterion='path beg'),
     "haproxy_frontends[0].acls[0].criterion: 'path beg' must be one fetch"),
    (lambda c: c['frontends'][0]['acls'][2].update(criterion='hdr_beg(ho st)'), "criterion: 'hdr_beg(ho st)' must be one fetch"),
    (lambda c: c['frontends'][0]['acls'][2].update(criterion='-f'), "criterion: '-f' must be one fetch"),
    (lambda c: c['frontends'][0]['acls'][4].update(criterion='http_auth(nobody)'), "names userlist 'nobody'"),
    (lambda c: c['frontends'][0]['acls'][5].update(criterion='req.hdr(x) "evil'), 'has an unmatched double quote'),
    (lambda c: c['frontends'][0]['acls'][5].update(criterion='req.hdr(x)\nbackend evil', raw=True), 'must stay on one line'),
    (lambda c: c['frontends'][0]['acls'][2].update(flags=['-x']), "flags[0]: '-x' must be -i, -n, -M, -m METHOD, -f"),
    (lambda c: c['frontends'][0]['acls'][2].update(flags=['-f etc/hosts.lst']), "flags[0]: 'etc/hosts.lst' must be an absolute"),
    (lambda c: c['frontends'][0]['http_request'][0].update(action='deny deny'), "http_request[0].action: 'deny deny' must be"),
    (lambda c: c['frontends'][0]['http_request'][1].update(args='realm "x'), 'http_request[1].args: \'realm "x\' has an unmatched'),
    (lambda c: c['frontends'][0]['http_request'][1].update(args='realm x # y'), 'an unquoted "#" starts a comment'),
    (lambda c: c['frontends'][0]['http_request'][1].update(args='string "a $1"'), 'starts an environment variable'),
    (lambda c: c['frontends'][0]['http_request'][1].update(args='string a\\x0'), '"\\x" must be followed by two'),
    (lambda c: c['frontends'][0]['http_request'][1].update(args='string a\\x00b'), '"\\x00" would end the word'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond='if bad_path'), 'write the condition without "if"'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond='{src 10.0.0.0/8}'), 'need spaces inside the braces'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond='{ -m found }'), 'must start with a fetch'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond='bad_path # comment'), 'an unquoted "#" starts a comment'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond="{ path_beg '/x }"), 'unmatched single quote'),
    (lambda c: c['frontends'][0]['http_request'][0].update(cond=''), 'must be a non-empty condition'),
    (lambda c: c['frontends'][0].update(bind=['*:70000']), "haproxy_frontends[0].bind[0]: '*:70000': port 70000 is out of range"),
    (lambda c: c['frontends'][0].update(bind=['eth0:80']), "bind[0]: 'eth0:80' must be ADDRESS:PORT"),
    (lambda c: c['frontends'][0].update(mode='udp'), "haproxy_frontends[0].mode: 'udp' must be one of http, tcp"),
    (lambda c: c['frontends'].append(dict(name='fe_web', bind=['*:81'])), "haproxy_frontends[1].name: 'fe_web' is already defined"),
    (lambda c: c['backends'].append(dict(name='be_www', servers=[])), "haproxy_backends[2].name: 'be_www' is already defined"),
    (lambda c: c['backends'][0]['servers'][0].update(port=70000), 'haproxy_backends[0].servers[0].port: 70000 must be a port'),
    (lambda c: c['backends'][0]['servers'][0].update(port='80; evil'), "port: '80; evil' must be a port"),
    (lambda c: c['backends'][0]['servers'][0].update(address='10.0.0.1 check'), "address: '10.0.0.1 check' is not a host"),
    (lambda c: c['backends'][0]['servers'][0].update(address='fe80::1%eth0 check'), "address: 'fe80::1%eth0 check' is not"),
    (lambda c: c['backends'][0]['servers'][0].update(weight=300), 'weight: 300 must be an integer from 0 to 256'),
    (lambda c: c['backends'][0]['servers'][0].update(check='yes'), "check: 'yes' must be true or false"),
    (lambda c: c['backends'][0]['servers'].append(dict(name='s1', address='10.0.0.2', port=80)), "servers[1].name: 's1' is already"),
    (lambda c: c['backends'][0].update(balance='fastest'), "haproxy_backends[0].balance: 'fastest' must be one of"),
    (lambda c: c['userlists'][0]['users'][0].update(password='hunter2'), 'must be a crypt(3) hash'),
    (lambda c: c.update({'global': dict(stats_socket='run/x.sock')}), "haproxy_stats_socket: 'run/x.sock' must be an absolute"),
    (lambda c: c.update({'global': dict(maxconn=0)}), 'haproxy_maxconn: 0 must be a positive integer'),
    (lambda c: c.update(frontends='x'), "haproxy_frontends: must be a list, got 'x'"),
    (lambda c: c.update(backends=['x']), "haproxy_backends[0]: must be a dict, got 'x'"),
])
def test_lint_errors(change, message):
    errors = errors_of(change)
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize('cond', HAPROXY_DOCUMENTED)
def test_documented_conditions_pass_and_render_as_written(cond):
    config = copy.deepcopy(CONFIG)
    config['frontends'][0]['http_request'] = [dict(action='deny', cond=cond)]
    assert h.lint(config)[0] == []
    assert '    http-request deny if %s\n' % cond in h.render(config)


def test_any_action_and_quoted_arguments_pass_and_named_acls_take_pattern_files():
    config = copy.deepcopy(CONFIG)
    frontend = config['frontends'][0]
    frontend['http_request'] = [
        dict(action='return', args='status 200 content-type "text/plain" string "ok ${HOSTNAME}\\n"',
             cond='{ path /health }'),
        dict(action='set-var(txn.host)', args='req.hdr(host),lower'),
        dict(action='track-sc0', args='src table st_src'),
        dict(action='replace-path', args="'(.*)/$' '\\1'"),
    ]
    frontend['acls'].append(dict(name='blocked', criterion='src', flags=['-f /etc/haproxy/blocked list.lst', '-M']))
    frontend['http_request'].append(dict(action='deny', cond='blocked'))
    assert h.lint(config)[0] == []
    text = h.render(config)
    assert "    acl blocked src -f '/etc/haproxy/blocked list.lst' -M\n" in text
    assert '    http-request return status 200 content-type "text/plain" string "ok ${HOSTNAME}\\n" if { path /health }\n' \
        in text
    assert "    http-request replace-path '(.*)/$' '\\1'\n" in text


def test_predefined_acls_are_allowed():
    assert errors_of(lambda c: c['frontends'][0]['http_request'].append(dict(action='deny', cond='!METH_GET !HTTP_1.1'))) == []


TLS_FRONTEND = dict(name='fe_tls', bind=['*:80'], tls_bind=['*:443', '[::]:443'],
                    tls_certificates=['/etc/haproxy/certs/www.ecdsa.pem', '/etc/haproxy/certs/www rsa.pem'],
                    redirect_https=True, acme_challenge=True, hsts_max_age=600, hsts_include_subdomains=True,
                    default_backend='be_www')
THUMB = 'Ab-_' + 'x' * 39


def tls_config(**frontend):
    config = copy.deepcopy(CONFIG)
    config['frontends'].append(dict(TLS_FRONTEND, **frontend))
    config['global'] = dict(acme_thumbprint=THUMB)
    return config


def test_tls_frontend_renders_the_profile_the_certificates_and_the_challenge_answer():
    config = tls_config()
    assert h.lint(config)[0] == []
    text = h.render(config)
    assert ("    bind *:443 ssl crt /etc/haproxy/certs/www.ecdsa.pem crt '/etc/haproxy/certs/www rsa.pem' "
            "alpn h2,http/1.1 curves X25519:prime256v1:secp384r1\n") in text
    assert '    bind [::]:443 ssl crt' in text and '    bind *:80\n' in text
    assert ('    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:'
            'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:'
            'ECDHE-RSA-CHACHA20-POLY1305\n') in text
    assert '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n' in text
    lines = text[text.index('frontend fe_tls'):].splitlines()
    rules = [line.strip() for line in lines if line.strip().startswith(('http-request', 'http-after-response'))]
    assert rules == [
        'http-request return status 200 content-type text/plain lf-string "%%[path,field(4,/)].%s" '
        'if { path_reg ^/[.]well-known/acme-challenge/[-_A-Za-z0-9]{1,128}$ }' % THUMB,
        'http-request redirect scheme https code 301 if !{ ssl_fc } !{ path_beg /.well-known/acme-challenge/ }',
        'http-after-response set-header Strict-Transport-Security "max-age=600; includeSubDomains" if { ssl_fc }']
    assert h.certificates(config) == TLS_FRONTEND['tls_certificates']


def test_the_challenge_answer_may_be_limited_to_some_names():
    config = tls_config(acme_challenge_domains=['LB.Shop.test.', 'lb2.shop.test'])
    assert h.lint(config)[0] == []
    assert ('http-request return status 200 content-type text/plain lf-string "%%[path,field(4,/)].%s" '
            'if { path_reg ^/[.]well-known/acme-challenge/[-_A-Za-z0-9]{1,128}$ } '
            '{ req.hdr(host),field(1,:) -i lb.shop.test lb2.shop.test }\n' % THUMB) in h.render(config)


def test_tls_options_that_are_not_set_render_nothing():
    config = tls_config(redirect_https=False, acme_challenge=None, hsts_max_age=0, hsts_include_subdomains=None,
                        mode='tcp', alpn=None)
    config['global'] = dict(tls_profile='modern')
    assert h.lint(config)[0] == []
    text = h.render(config)
    assert 'ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets' in text
    assert 'ssl-default-bind-ciphers ' not in text and 'alpn' not in text     # TLS 1.3 only; tcp mode: no ALPN
    assert 'http-request return' not in text and 'redirect scheme' not in text and 'Strict-Transport' not in text
    assert 'ssl-default-bind' not in h.render(CONFIG)                          # no TLS frontend, no TLS settings
    assert h.certificates(CONFIG) == []


def test_an_unset_tls_profile_is_intermediate():
    config = tls_config()
    config['global'] = dict(acme_thumbprint=THUMB, tls_profile=None)
    assert h.lint(config)[0] == []
    assert 'ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets' in h.render(config)


def test_a_frontend_may_only_terminate_tls():
    config = tls_config(bind=None, alpn=['http/1.1'])
    assert h.lint(config)[0] == []
    assert 'alpn http/1.1 curves' in h.render(config)


@pytest.mark.parametrize('change, message', [
    (dict(tls_certificates=None), 'tls_certificates: tls_bind needs at least one certificate'),
    (dict(tls_certificates=['certs/www.pem']), "tls_certificates[0]: 'certs/www.pem' must be an absolute"),
    (dict(tls_certificates=['/c/a.pem\n    bind *:1 ssl crt /x']), 'tls_certificates[0]: '),
    (dict(tls_certificates=['/c/a.pem', '/c/a.pem']), "tls_certificates[1]: '/c/a.pem' is listed twice"),
    (dict(tls_bind=None), 'tls_certificates: must be a list of PEM files, with tls_bind'),
    (dict(tls_bind=['*:99999']), "tls_bind[0]: '*:99999': port 99999 is out of range"),
    (dict(tls_bind='*:443'), 'tls_bind: must be a list of ADDRESS:PORT'),
    (dict(alpn=['h2 crt /x']), "alpn[0]: 'h2 crt /x' must be a protocol name"),
    (dict(alpn='h2'), 'alpn: must be a list of protocol names'),
    (dict(redirect_https='yes'), "redirect_https: 'yes' must be true or false"),
    (dict(mode='tcp'), 'acme_challenge: needs mode http'),
    (dict(tls_bind=None, tls_certificates=None), 'redirect_https: needs tls_bind'),
    (dict(hsts_max_age='1y'), "hsts_max_age: '1y' must be a number of seconds"),
    (dict(tls_bind=None, tls_certificates=None, redirect_https=False), 'hsts_max_age: needs mode http and tls_bind'),
    (dict(acme_challenge_domains='a.test'), 'acme_challenge_domains: must be a list of DNS names, with acme_challenge'),
    (dict(acme_challenge=False, acme_challenge_domains=['a.test']), 'acme_challenge_domains: must be a list of DNS'),
    (dict(acme_challenge_domains=['a.test }\n    http-request deny']), 'acme_challenge_domains[0]: '),
])
def test_tls_lint_errors(change, message):
    errors = h.lint(tls_config(**change))[0]
    assert any(message in e for e in errors), errors
    assert all(e.startswith('haproxy_frontends[1]') for e in errors), errors


@pytest.mark.parametrize('settings, message', [
    (dict(), 'haproxy_frontends[1].acme_challenge: needs haproxy_acme_thumbprint'),
    (dict(acme_thumbprint='x" if TRUE\n    http-request deny'), "haproxy_acme_thumbprint: 'x\" if TRUE"),
    (dict(acme_thumbprint=THUMB, tls_profile='old'), "haproxy_tls_profile: 'old' must be one of intermediate, modern"),
])
def test_tls_global_errors(settings, message):
    config = tls_config()
    config['global'] = settings
    errors = h.lint(config)[0]
    assert any(message in e for e in errors), errors


def server_line(config, name):
    return next(line.split() for line in h.render(config).splitlines() if line.strip().startswith('server %s ' % name))


def test_tls_to_servers_verifies_by_default():
    config = copy.deepcopy(CONFIG)
    servers = config['backends'][1]['servers']
    servers[0].update(ssl=True, sni='www.example.org', send_proxy_v2=True)      # verified, for that name
    servers[1].update(ssl=True, ca_file='/etc/haproxy/ca/private root.pem')     # the chain only, another CA
    config['backends'][0]['servers'][0].update(ssl=True, ssl_verify=False, sni='s1.example.org')
    assert h.lint(config)[0] == []
    w1 = server_line(config, 'w1')
    assert w1[w1.index('ssl'):] == ['ssl', 'ssl-min-ver', 'TLSv1.2', 'verify', 'required', 'ca-file',
                                    '/etc/ssl/certs/ca-certificates.crt', 'verifyhost', 'www.example.org',
                                    'sni', 'str(www.example.org)', 'check-sni', 'www.example.org']
    assert 'send-proxy-v2' in w1
    w2 = server_line(config, 'w2')
    assert w2[w2.index('ssl'):] == ['ssl', 'ssl-min-ver', 'TLSv1.2', 'verify', 'required', 'ca-file',
                                    "'/etc/haproxy/ca/private", "root.pem'"]
    s1 = server_line(config, 's1')
    assert s1[s1.index('ssl'):] == ['ssl', 'ssl-min-ver', 'TLSv1.2', 'verify', 'none', 'sni', 'str(s1.example.org)',
                                    'check-sni', 's1.example.org']
    # Without ssl, nothing of it.
    assert 'ssl' not in server_line(CONFIG, 'w1') and 'verify' not in server_line(CONFIG, 'w1')


@pytest.mark.parametrize('server, message', [
    (dict(sni='a.test'), 'servers[0].sni: only applies to a server with ssl: true'),
    (dict(ssl_verify=True), 'servers[0].ssl_verify: only applies to a server with ssl: true'),
    (dict(ssl='yes'), "servers[0].ssl: 'yes' must be true or false"),
    (dict(ssl=True, ssl_verify='no'), "servers[0].ssl_verify: 'no' must be true or false"),
    (dict(ssl=True, ca_file='ca.pem'), "servers[0].ca_file: 'ca.pem' must be an absolute"),
    (dict(ssl=True, ca_file='/etc/ca.pem\n    server evil 10.6.6.6:80'), 'servers[0].ca_file: '),
    (dict(ssl=True, ssl_verify=False, ca_file='/etc/ca.pem'), 'servers[0].ca_file: is only read with ssl_verify: true'),
    (dict(ssl=True, sni='a.test) verify none'), "servers[0].sni: 'a.test) verify none' is not a host name"),
    (dict(ssl=True, sni='*.a.test'), "servers[0].sni: '*.a.test' is not a host name"),
    (dict(ssl=True, sni='a.test.'), "servers[0].sni: 'a.test.' is not a host name"),
])
def test_tls_to_servers_lint_errors(server, message):
    errors = errors_of(lambda c: c['backends'][0]['servers'][0].update(server))
    assert any(message in e for e in errors), errors
    assert all(e.startswith('haproxy_backends[0].servers[0].') for e in errors), errors


def test_ca_files_are_those_the_verifying_tls_servers_read():
    config = dict(backends=[
        dict(name='a', servers=[dict(name='s1', address='10.0.0.1', port=443, ssl=True),
                                dict(name='s2', address='10.0.0.2', port=443, ssl=True, ca_file='/etc/x.pem'),
                                dict(name='s3', address='10.0.0.3', port=443, ssl=True, ssl_verify=False,
                                     ca_file='/etc/unread.pem')]),
        dict(name='b', servers=[dict(name='s4', address='10.0.0.4', port=80),
                                dict(name='s5', address='10.0.0.5', port=443, ssl=True, ca_file='/etc/x.pem')])])
    assert h.ca_files(config) == [h.SYSTEM_CA_FILE, '/etc/x.pem']
    assert h.ca_files({}) == []


def test_render_records_the_variable_of_each_line_and_locate_names_it():
    config = copy.deepcopy(CONFIG)
    sources = {}
    lines = h.render(config, 'header', sources).splitlines()
    by_text = {line.strip(): sources.get(number) for number, line in enumerate(lines, 1)}
    assert by_text['frontend fe_web'] == 'haproxy_frontends[0]'
    assert by_text['http-request deny if bad_path'] == 'haproxy_frontends[0].http_request[0]'
    assert by_text['use_backend be_static if host_www url_static || { path_beg /assets/ }'] == \
        'haproxy_frontends[0].use_backend[0]'
    assert by_text['default_backend be_www'] == 'haproxy_frontends[0]'
    assert by_text['backend be_static'] == 'haproxy_backends[0]'
    assert sources.get(1) is None            # the header and the global section are the role's own
    number = lines.index('    http-request deny if bad_path') + 1
    assert h.locate('[ALERT] parsing [/etc/haproxy/haproxy.cfg:%d] : x' % number, sources) == (
        '[ALERT] parsing [/etc/haproxy/haproxy.cfg:%d] (haproxy_frontends[0].http_request[0]) : x' % number)
    assert h.locate('[ALERT] parsing [/etc/haproxy/haproxy.cfg:1] : x', sources).endswith(':1] : x')


MODEL = dict(
    frontends=[dict(
        name='fe_limits', bind=['*:8089', '*:8090'],
        stick_table=dict(type='ip', size='100k', expire='30s', store=['http_req_rate(1s)', 'conn_cur']),
        tcp_request=[dict(phase='connection', action='reject', cond='{ dst_port 8090 }'),
                     dict(phase='inspect-delay', args='5s'),
                     dict(phase='content', action='accept', cond='{ req.len gt 0 }')],
        http_request=[dict(action='track-sc0', args='src'),
                      dict(action='deny', args='deny_status 429', cond='{ sc_http_req_rate(0) gt 10 }')],
        http_response=[dict(action='set-header', args='X-Server %[srv_name]')],
        http_after_response=[dict(action='set-header', args='X-Edge "opsnotes"', cond='{ status 429 }')],
        use_backend=[dict(backend='be_%[req.hdr(x-pool),lower]', cond='{ req.hdr(x-pool) -m found }')],
        default_backend='be_sticky')],
    backends=[dict(name='be_sticky', cookie='SRV insert indirect nocache',
                   acls=[dict(name='admin', criterion='path_beg', values=['/admin'])],
                   stick_table=dict(type='string', len=32, size='1m'),
                   stick=[dict(action='on', args='req.cook(sess)', cond='{ req.cook(sess) -m found }')],
                   use_server=[dict(server='www2', cond='admin')],
                   http_response=[dict(action='del-header', args='Server')],
                   servers=[dict(name='www1', address='10.0.0.1', port=80, cookie='w1'),
                            dict(name='www2', address='10.0.0.2', port=80, cookie="w 2")]),
              dict(name='be_static', servers=[dict(name='s', address='10.0.0.3', port=80)])])


def test_the_model_renders_rate_limits_sticky_sessions_tcp_rules_and_dynamic_backends():
    errors, warnings = h.lint(MODEL)
    assert errors == [] and warnings == []          # a dynamic use_backend may use any backend: none unused
    text = h.render(MODEL)
    frontend = text[text.index('frontend fe_limits'):text.index('\nbackend be_sticky') + 1].splitlines()
    assert frontend[3:] == [
        '    stick-table type ip size 100k expire 30s store http_req_rate(1s),conn_cur',
        '    tcp-request connection reject if { dst_port 8090 }',
        '    tcp-request inspect-delay 5s',
        '    tcp-request content accept if { req.len gt 0 }',
        '    http-request track-sc0 src',
        '    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 10 }',
        '    http-response set-header X-Server %[srv_name]',
        '    http-after-response set-header X-Edge "opsnotes" if { status 429 }',
        '    use_backend be_%[req.hdr(x-pool),lower] if { req.hdr(x-pool) -m found }',
        '    default_backend be_sticky', '']
    backend = text[text.index('\nbackend be_sticky') + 1:text.index('\nbackend be_static') + 1].splitlines()
    assert backend[1:] == [
        '    cookie SRV insert indirect nocache',
        '    stick-table type string len 32 size 1m',
        '    acl admin path_beg -- /admin',
        '    http-response del-header Server',
        '    stick on req.cook(sess) if { req.cook(sess) -m found }',
        '    use-server www2 if admin',
        '    server www1 10.0.0.1:80 cookie w1', "    server www2 10.0.0.2:80 cookie 'w 2'", '']


@pytest.mark.parametrize('change, message', [
    (lambda m: m['frontends'][0]['stick_table'].update(type='ipv5'), "stick_table.type: 'ipv5' must be one of"),
    (lambda m: m['frontends'][0]['stick_table'].update(size='100 k'), "stick_table.size: '100 k' must be a number"),
    (lambda m: m['frontends'][0]['stick_table'].update(expire='soon'), "stick_table.expire: 'soon' must be"),
    (lambda m: m['frontends'][0]['stick_table'].update(store=['http_req_rate(10s) conn_cur']), 'stick_table.store[0]:'),
    (lambda m: m['frontends'][0]['stick_table'].update(peers='p'), 'stick_table: unknown key(s) peers'),
    (lambda m: m['frontends'][0]['tcp_request'][0].update(phase='handshake'), "tcp_request[0].phase: 'handshake' must be one"),
    (lambda m: m['frontends'][0]['tcp_request'][1].update(args='soon'), "tcp_request[1].args: 'soon' must be a delay"),
    (lambda m: m['frontends'][0]['tcp_request'][0].update(cond='{ dst_port 8090 } # x'), 'an unquoted "#"'),
    (lambda m: m['frontends'][0]['http_response'][0].update(phase='content'), 'http_response[0].phase: only applies to tcp'),
    (lambda m: m['frontends'][0]['http_after_response'][0].update(cond='nope'), "ACL 'nope' is not defined"),
    (lambda m: m['frontends'][0]['use_backend'][0].update(backend='be_%[a b]'), 'must be one word'),
    (lambda m: m['backends'][0].update(tcp_request=[dict(phase='connection', action='reject')]),
     "haproxy_backends[0].tcp_request[0].phase: 'connection' must be one of content, inspect-delay"),
    (lambda m: m['backends'][0]['use_server'][0].update(server='www9'), "use_server[0].server: server 'www9' is not"),
    (lambda m: m['backends'][0]['stick'][0].update(action='glue'), "stick[0].action: 'glue' must be one of"),
    (lambda m: m['backends'][0]['stick'][0].update(args=''), 'stick[0].args: needs the pattern'),
    (lambda m: m['backends'][0].update(cookie='SRV "insert'), 'cookie: \'SRV "insert\' has an unmatched'),
    (lambda m: m['backends'][0]['servers'][0].update(cookie='w\n1'), 'servers[0].cookie:'),
])
def test_the_model_s_errors_name_the_variable(change, message):
    errors = errors_of(change, MODEL)
    assert any(message in e for e in errors), errors


def test_directives_and_userlist_groups_render_as_written():
    config = copy.deepcopy(MODEL)
    config['backends'][1]['directives'] = ['option httpchk GET /health', 'http-check expect status 200',
                                           'timeout server 30s', 'compression algo gzip']
    config['frontends'][0]['directives'] = ['monitor-uri /haproxy-alive', 'option http-buffer-request']
    config['userlists'] = [dict(name='ops', groups=[dict(name='admins'), dict(name='viewers')],
                                users=[dict(name='ann', password='$6$s$h', groups=['admins', 'viewers'])])]
    assert h.lint(config)[0] == []
    sources = {}
    text = h.render(config, None, sources).splitlines()
    static = text.index('backend be_static')
    assert text[static + 1:static + 5] == ['    option httpchk GET /health', '    http-check expect status 200',
                                           '    timeout server 30s', '    compression algo gzip']
    assert sources[static + 3] == 'haproxy_backends[1].directives[1]'    # line numbers count from 1
    assert '    monitor-uri /haproxy-alive' in text
    assert text[text.index('userlist ops') + 1:text.index('userlist ops') + 4] == [
        '    group admins', '    group viewers', '    user ann password $6$s$h groups admins,viewers']


@pytest.mark.parametrize('lines, message', [
    (['backend evil'], "directives[0]: 'backend evil' would start a backend section"),
    (['  listen x'], 'would start a listen section'),
    (['option httpchk # x'], 'an unquoted "#" starts a comment'),
    (['timeout server 1s\nfrontend x'], 'must stay on one line'),
    ([''], 'directives[0]: must not be empty'),
    ('option httpchk', 'directives: must be a list'),
])
def test_a_directive_stays_one_line_of_its_section(lines, message):
    config = copy.deepcopy(MODEL)
    config['backends'][1]['directives'] = lines
    errors = h.lint(config)[0]
    assert any(message in e for e in errors), errors


def test_a_user_s_group_must_be_one_of_the_userlist():
    config = copy.deepcopy(MODEL)
    config['userlists'] = [dict(name='ops', groups=[dict(name='admins')],
                                users=[dict(name='ann', password='$6$s$h', groups=['root'])])]
    assert "haproxy_userlists[0].users[0].groups[0]: 'root' is not a group of this userlist" in h.lint(config)[0]


# --- map and pattern files ------------------------------------------------------------------------------------------

MAP_TEXT = st.text(alphabet=st.sampled_from(list(' \t#\\"\'$%{}()[]é\u2028:,;=ab019/.-') + ['\x0b', '\x7f']),
                   max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(MAP_TEXT, MAP_TEXT, max_size=6), st.lists(MAP_TEXT, max_size=6))
def test_every_accepted_map_entry_and_pattern_reads_back_as_given(entries, patterns):
    for value, two in ((entries, True), (patterns, False)):
        try:
            lines = h.map_lines(value)
        except h.Unsafe:
            continue
        text = h.render_maps(dict(maps=[dict(name='f', entries=value)]), 'Managed\nby us')['f']
        assert text.startswith('# Managed\n# by us\n') and '\n'.join(lines) in text
        # read_entries follows HAProxy's reader (pat_ref_read_from_file_smp, pat_ref_read_from_file), which the
        # differential test runs for real.
        read = read_entries(text, two)
        assert (list(read.items()) == list(value.items())) if two else read == value


def test_map_entries_haproxy_would_read_otherwise_are_refused_with_the_reason():
    assert h.map_lines({'#x': 'a b', 'k': '', 7: 1.5}) == [' #x a b', 'k', '7 1.5']
    assert h.map_lines(['#x', 'a b ', '/p']) == [' #x', 'a b ', '/p']
    for entries, reason in (({'a b': 'x'}, 'one word'), ({'': 'x'}, 'one word'), ({'k': ' x'}, 'blank'),
                            ({'k': 'x\t'}, 'blank'), ({'k': 'a\nb'}, 'line end'), ({'k': True}, 'string or a number'),
                            (['\tx'], 'begin with a blank'), ([''], 'empty'), (['a\rb'], 'line end'),
                            ({'k': 'x' * 16001}, 'longer than'), ('text', 'mapping'), ({'k': [1]}, 'string')):
        with pytest.raises(h.Unsafe, match=reason):
            h.map_lines(entries)


def test_the_maps_lint_names_each_problem():
    errors, _warnings = h.lint(dict(maps=[dict(name='a.map', entries={}), dict(name='a.map', entries=[]),
                                          dict(name='../x', entries=[]), dict(name='b', entries={'a b': 1}),
                                          dict(name='c'), dict(name='d', entries=[], mode='0600'), 'e']))
    assert errors == [
        "haproxy_maps[6]: must be a dict, got 'e'",
        "haproxy_maps[1].name: 'a.map' is already defined",
        "haproxy_maps[2].name: '../x' must be a file name (letters, digits, \".\", \"_\", \"-\"; no \"/\")",
        "haproxy_maps[3].entries: the key 'a b' must be one word: HAProxy ends a key at its first blank",
        'haproxy_maps[4].entries: is required: a mapping of key to value (a map file), or a list of patterns (a '
        "pattern file for an ACL's -f)",
        'haproxy_maps[5]: unknown keys mode (a map file has name and entries)',
    ], errors


# --- listen sections, http-errors sections, the global and defaults lines -------------------------------------------
SECTIONS = dict(
    listens=[dict(name='stats', bind=['127.0.0.1:8404'], directives=['stats enable', 'stats uri /']),
             dict(name='mysql', bind=['*:3306'], mode='tcp', balance='leastconn',
                  acls=[dict(name='office', criterion='src', values=['192.0.2.0/24'])],
                  tcp_request=[dict(phase='connection', action='reject', cond='!office')],
                  stick_table=dict(type='ip', size='10k'), stick=[dict(action='on', args='src')],
                  servers=[dict(name='db1', address='10.0.0.5', port=3306, check=True),
                           dict(name='db2', address='10.0.0.6', port=3306, check=True, backup=True)])],
    frontends=[dict(name='fe', bind=['*:80'], use_backend=[dict(backend='stats', cond='{ path_beg /stats }')],
                    default_backend='be', directives=['errorfiles site'])],
    backends=[dict(name='be', servers=[dict(name='w1', address='10.0.0.1', port=80)])],
    http_errors=[dict(name='site', errorfiles={503: '/etc/haproxy/errors/site/503.http',
                                               '429': '/etc/haproxy/errors/site/too many.http'})],
    global_directives=['nbthread 4', 'tune.bufsize 32768'],
    defaults_directives=['option forwardfor', 'timeout http-request 10s'],
)


def test_listen_http_errors_and_the_global_and_defaults_lines_render_in_their_sections():
    errors, warnings = h.lint(SECTIONS)
    assert errors == [] and warnings == []           # a frontend's use_backend may name a listen section
    sources = {}
    text = h.render(SECTIONS, None, sources)
    lines = text.splitlines()

    def section(head):
        start = lines.index(head)
        end = lines.index('', start) if '' in lines[start:] else len(lines)
        return lines[start + 1:end]
    assert section('global')[-2:] == ['    nbthread 4', '    tune.bufsize 32768']
    assert sources[lines.index('    nbthread 4') + 1] == 'haproxy_global_directives[0]'
    assert section('defaults')[-2:] == ['    option forwardfor', '    timeout http-request 10s']
    assert sources[lines.index('    timeout http-request 10s') + 1] == 'haproxy_defaults_directives[1]'
    # Codes in order, a path with a blank quoted as one word.
    assert section('http-errors site') == ["    errorfile 429 '/etc/haproxy/errors/site/too many.http'",
                                           '    errorfile 503 /etc/haproxy/errors/site/503.http']
    assert sources[lines.index('http-errors site') + 2] == 'haproxy_http_errors[0].errorfiles.429'
    assert section('listen stats') == ['    bind 127.0.0.1:8404', '    stats enable', '    stats uri /']
    assert section('listen mysql') == [
        '    bind *:3306', '    mode tcp', '    balance leastconn', '    stick-table type ip size 10k',
        '    acl office src -- 192.0.2.0/24', '    tcp-request connection reject if !office', '    stick on src',
        '    server db1 10.0.0.5:3306 check', '    server db2 10.0.0.6:3306 check backup']
    assert sources[lines.index('    stick on src') + 1] == 'haproxy_listens[1].stick[0]'
    # The sections come in an order HAProxy reads: http-errors before the proxies that use them.
    assert lines.index('http-errors site') < lines.index('frontend fe') < lines.index('listen stats') < \
        lines.index('backend be')


def test_listen_sections_count_their_servers_for_the_tls_trust_store():
    config = copy.deepcopy(SECTIONS)
    config['listens'][1]['servers'][0].update(ssl=True)
    assert h.ca_files(config) == [h.SYSTEM_CA_FILE]
    config['listens'][0].update(tls_bind=['*:8443'], tls_certificates=['/etc/ssl/stats.pem'])
    assert h.certificates(config) == ['/etc/ssl/stats.pem']
    assert 'ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets' in h.render(config)


@pytest.mark.parametrize('change, message', [
    (lambda c: c['listens'][0].update(name='fe'), "haproxy_frontends[0].name: 'fe' is already defined"),
    (lambda c: c['listens'][0].update(name='be'), "haproxy_listens[0].name: 'be' is already defined"),
    (lambda c: c['listens'][1].update(balance='fastest'), "haproxy_listens[1].balance: 'fastest' must be one of"),
    (lambda c: c['listens'][1].update(use_server=[dict(server='db9', cond='office')]),
     "haproxy_listens[1].use_server[0].server: server 'db9' is not defined in this section"),
    (lambda c: c['listens'][1]['servers'].append(dict(name='db1', address='10.0.0.7', port=3306)),
     "haproxy_listens[1].servers[2].name: 'db1' is already defined in this section"),
    (lambda c: c['listens'][1]['tcp_request'][0].update(cond='!offices'), "ACL 'offices' is not defined"),
    (lambda c: c['listens'][0].update(acme_sites=['www']), 'haproxy_listens[0]: unknown key acme_sites'),
    (lambda c: c['listens'][0].update(server=[]), 'haproxy_listens[0]: unknown key server (a listen section has'),
    (lambda c: c['frontends'][0].update(defualt_backend='be'), 'haproxy_frontends[0]: unknown key defualt_backend'),
    (lambda c: c['backends'][0].update(bind=['*:81']), 'haproxy_backends[0]: unknown key bind (a backend has'),
    (lambda c: c['http_errors'][0]['errorfiles'].update({418: '/x'}), 'errorfiles.418: 418 is not a status code'),
    (lambda c: c['http_errors'][0]['errorfiles'].update({'5O3': '/x'}), "errorfiles.5O3: '5O3' is not a status code"),
    (lambda c: c['http_errors'][0]['errorfiles'].update({503: 'errors/503.http'}), 'errorfiles.503: '),
    (lambda c: c['http_errors'][0].update(errorfiles={}), 'haproxy_http_errors[0].errorfiles: must be a mapping'),
    (lambda c: c['http_errors'][0]['errorfiles'].update({'503': '/y'}), 'errorfiles.503: status code 503 is given twice'),
    (lambda c: c['http_errors'].append(dict(name='site', errorfiles={503: '/x'})),
     "haproxy_http_errors[1].name: 'site' is already defined"),
    (lambda c: c['http_errors'][0].update(files={}), 'haproxy_http_errors[0]: unknown key files'),
    (lambda c: c['global_directives'].append('maxconn 100'),
     "haproxy_global_directives[2]: 'maxconn 100': set haproxy_maxconn instead"),
    (lambda c: c['global_directives'].append('server-state-file /x'), 'set haproxy_state_file instead'),
    (lambda c: c['defaults_directives'].append('timeout  client 5s'),
     "haproxy_defaults_directives[2]: 'timeout  client 5s': set haproxy_timeout_client instead"),
    (lambda c: c['defaults_directives'].append('frontend evil'),
     "haproxy_defaults_directives[2]: 'frontend evil' would start a frontend section"),
    (lambda c: c['global_directives'].append('nbthread 4\nuser root'), 'haproxy_global_directives[2]:'),
    (lambda c: c.update(global_directives='nbthread 4'), 'haproxy_global_directives: must be a list'),
])
def test_the_sections_errors_name_the_variable(change, message):
    errors = errors_of(change, SECTIONS)
    assert any(message in e for e in errors), errors


def test_a_timeout_the_role_has_no_variable_for_is_a_defaults_line():
    config = copy.deepcopy(SECTIONS)
    config['defaults_directives'] = ['timeout queue 30s', 'timeout tunnel 1h', 'mode tcp', 'errorfiles site']
    assert h.lint(config)[0] == []


def test_what_haproxy_accepts_and_is_of_no_use_is_a_warning():
    """A frontend without an address (HAProxy warns, and it receives nothing), a frontend with the name of a backend
    (HAProxy tells them apart), users given to a group and a clear-text password: accepted, the useless and the
    unsafe with a warning."""
    config = copy.deepcopy(SECTIONS)
    config['frontends'].append(dict(name='be', default_backend='be'))
    config['userlists'] = [dict(name='ops', groups=[dict(name='admins', users=['ann', 'bob'])],
                                users=[dict(name='ann', password='$6$k6y3o.eP$JlKBx9za9667qe4(...)xHSwRv6J.C0/D7cV91'),
                                       dict(name='bob', insecure_password='hunter 2')])]
    errors, warnings = h.lint(config)
    assert errors == []
    assert sorted(warnings) == [
        'haproxy_frontends[1]: no address to listen on (bind, tls_bind or a bind directive): it receives nothing',
        'haproxy_userlists[0].users[1].insecure_password: a clear-text password in haproxy.cfg; a crypt(3) hash '
        '(password) keeps it out of the file']
    lines = h.render(config).splitlines()
    assert lines[lines.index('userlist ops') + 1:lines.index('userlist ops') + 4] == [
        '    group admins users ann,bob', '    user ann password $6$k6y3o.eP$JlKBx9za9667qe4(...)xHSwRv6J.C0/D7cV91',
        "    user bob insecure-password 'hunter 2'"]
    assert "user bob insecure-password <redacted>" in h.redact('\n'.join(lines))
    assert 'user ann password <redacted>' in h.redact('\n'.join(lines))


@pytest.mark.parametrize('change, message', [
    (lambda u: u['users'][0].pop('password'), 'haproxy_userlists[0].users[0]: needs one of password'),
    (lambda u: u['users'][0].update(insecure_password='x'), 'haproxy_userlists[0].users[0]: needs one of password'),
    (lambda u: u['users'][0].update(password='$6$a#b'), "users[0].password: must be a crypt(3) hash"),
    (lambda u: u['users'][1].update(insecure_password='a\nb'), 'users[1].insecure_password:'),
    (lambda u: u['groups'][0].update(users=['carl']), "groups[0].users[0]: 'carl' is not a user of this userlist"),
])
def test_the_userlist_errors_name_the_variable(change, message):
    userlist = dict(name='ops', groups=[dict(name='admins', users=['ann'])],
                    users=[dict(name='ann', password='$6$s$h'), dict(name='bob', insecure_password='pw')])
    change(userlist)
    errors = h.lint(dict(SECTIONS, userlists=[userlist]))[0]
    assert any(message in e for e in errors), errors


def test_other_sections_are_written_as_given_and_checked_for_their_kind_and_lines():
    config = dict(SECTIONS, sections=[dict(kind='cache', name='pages', lines=['total-max-size 64', 'max-age 60']),
                                      dict(kind='peers', name='lbs', lines=['peer lb1 10.0.0.1:10000'])])
    assert h.lint(config) == ([], [])
    sources = {}
    lines = h.render(config, None, sources).splitlines()
    start = lines.index('cache pages')
    assert lines[start:start + 3] == ['cache pages', '    total-max-size 64', '    max-age 60']
    assert sources[start + 3] == 'haproxy_sections[0].lines[1]'
    assert lines[lines.index('peers lbs') + 1] == '    peer lb1 10.0.0.1:10000'
    for sections, message in (([dict(kind='frontend', name='x', lines=[])], "sections[0].kind: 'frontend' must be"),
                              ([dict(kind='cache', name='a b', lines=[])], "sections[0].name: 'a b' must be"),
                              ([dict(kind='cache', name='c', lines=['backend x'])], "lines[0]: 'backend x' would"),
                              ([dict(kind='cache', name='c'), dict(kind='cache', name='c')], "cache 'c' is already"),
                              ([dict(kind='cache', name='c', line=[])], 'sections[0]: unknown key line')):
        errors = h.lint(dict(SECTIONS, sections=sections))[0]
        assert any(message in e for e in errors), (message, errors)
