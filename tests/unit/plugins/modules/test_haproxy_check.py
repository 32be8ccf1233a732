# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.modules import haproxy_check

CFG = """global
    stats socket /run/haproxy/admin.sock mode 600 level admin
# a comment
frontend fe_web
    bind *:80
    acl host_www hdr_beg(host) -i www   # trailing comment
    acl unused path /x
    http-request deny if { path_sub ../ } !METH_GET
    use_backend be_www if host_www
    use_backend be_gone if host_wwww
    default_backend be_www

backend be_www
    server www1 10.0.0.11:8080 check
    server www2 10.0.0.12:8080 check
"""


def haproxy(rc=0):
    return lambda argv, **kw: (rc, '', 'Configuration file is valid' if rc == 0 else '[ALERT] bad')


def test_parse_config():
    parsed = haproxy_check.parse_config(CFG)
    assert parsed['backends'] == ['be_www']
    assert parsed['frontends'] == [dict(name='fe_web', acls_defined=['host_www', 'unused'],
                                        acls_used=['METH_GET', 'host_www', 'host_wwww'], backends=['be_gone', 'be_www'])]
    assert parsed['errors'] == ['frontend fe_web line 10: ACL host_wwww is used but not defined',
                                'frontend fe_web line 10: backend be_gone is not defined']
    assert parsed['warnings'] == ['frontend fe_web: ACL unused is defined but never used']


def test_reports_runtime_and_fails_on_undefined(run_module, tmp_path, fake_haproxy):
    path = tmp_path / 'haproxy.cfg'
    path.write_text(CFG)
    result, failed = run_module(haproxy_check, dict(path=str(path), socket=fake_haproxy.path), run_command=haproxy())
    assert failed and 'ACL host_wwww is used but not defined' in result['msg']
    fe = result['frontends'][0]
    assert fe['status'] == 'OPEN' and fe['scur'] == 0
    www = result['backends'][0]
    assert www['status'] == 'UP'
    assert www['servers'] == [dict(name='www1', status='UP', scur=0, weight=1, admin_state='ready'),
                              dict(name='www2', status='UP', scur=0, weight=1, admin_state='ready')]


def test_clean_config_ok_and_down_servers(run_module, tmp_path, fake_haproxy):
    path = tmp_path / 'haproxy.cfg'
    path.write_text(CFG.replace('    use_backend be_gone if host_wwww\n', ''))
    result, failed = run_module(haproxy_check, dict(path=str(path), socket=fake_haproxy.path), run_command=haproxy())
    assert not failed and result['ok'] and result['down'] == []
    fake_haproxy.servers[('be_www', 'www2')]['status'] = 'DOWN'
    fake_haproxy.servers[('be_www', 'www1')]['state'] = 'maint'       # in maintenance: not counted as down
    result, failed = run_module(haproxy_check, dict(path=str(path), socket=fake_haproxy.path), run_command=haproxy())
    assert not failed and result['down'] == ['be_www/www2']
    result, failed = run_module(haproxy_check, dict(path=str(path), socket=fake_haproxy.path, fail_on_down=True),
                                run_command=haproxy())
    assert failed and result['msg'] == 'servers DOWN: be_www/www2'


def test_syntax_error_and_missing_socket(run_module, tmp_path):
    path = tmp_path / 'haproxy.cfg'
    path.write_text('backend be\n')
    result, failed = run_module(haproxy_check, dict(path=str(path), socket=str(tmp_path / 'x.sock')),
                                run_command=haproxy(rc=1))
    assert failed and result['msg'] == 'haproxy -c failed: [ALERT] bad'
    assert result['runtime_error'].startswith('cannot connect to the HAProxy admin socket')
    result, failed = run_module(haproxy_check, dict(path=str(tmp_path / 'none.cfg')), run_command=haproxy())
    assert failed and result['msg'].endswith('none.cfg does not exist')
