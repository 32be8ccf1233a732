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
                                        acls_used=['METH_GET', 'host_www', 'host_wwww'], backends=['be_gone', 'be_www'],
                                        tls_binds=[])]
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


# --- TLS binds ----------------------------------------------------------------------------------------------------

def test_tls_binds_are_read_as_haproxy_reads_them():
    assert haproxy_check.tls_bind("bind *:443,[::]:8443 ssl crt '/etc/a b.pem' crt /etc/c.pem alpn h2") == [
        dict(address='*', port=443, certificates=['/etc/a b.pem', '/etc/c.pem']),
        dict(address='::', port=8443, certificates=['/etc/a b.pem', '/etc/c.pem'])]
    assert haproxy_check.tls_bind('bind *:80') == []
    binds = haproxy_check.tls_bind('bind ipv6@[::1]:443 ssl crt /c.pem')
    assert binds == [dict(address='::1', port=443, certificates=['/c.pem'])]
    assert haproxy_check.tls_bind('bind 10.0.0.1:443 ssl crt-list /etc/list') == [
        dict(address='10.0.0.1', port=443, certificates=[])]
    assert [haproxy_check.probe_address(a) for a in ('*', '', '0.0.0.0', '::', '10.0.0.1')] == [
        '127.0.0.1', '127.0.0.1', '127.0.0.1', '::1', '10.0.0.1']


def tls_site(tmp_path, fake_haproxy, configure=None):
    """An ECDSA and an RSA bundle (one with its key inside, one with FILE.key) served by a local TLS server, loaded
    into the fake HAProxy; the configuration's bind points at that server's port."""
    import pki
    import tlsserver
    paths, pairs, ca = [], [], pki.Pki()
    for kind in ('ecdsa', 'rsa'):
        key, cert = ca.leaf(kind, ['www.example.test', 'example.test'])
        bundle, key_file = tmp_path / ('%s.pem' % kind), tmp_path / ('%s.pem.key' % kind)
        if kind == 'ecdsa':
            bundle.write_text(pki.pem(cert, ca.inter) + pki.key_pem(key))
        else:
            bundle.write_text(pki.pem(cert, ca.inter))
            key_file.write_text(pki.key_pem(key))
        (tmp_path / ('%s.crt' % kind)).write_text(pki.pem(cert, ca.inter))
        (tmp_path / ('%s.key' % kind)).write_text(pki.key_pem(key))
        pairs.append((str(tmp_path / ('%s.crt' % kind)), str(tmp_path / ('%s.key' % kind))))
        fake_haproxy.load_certificate(str(bundle), bundle.read_text())
        paths.append(str(bundle))
    server = tlsserver.TlsServer(pairs, configure or tlsserver.intermediate)
    cfg = tmp_path / 'haproxy.cfg'
    cfg.write_text('frontend fe_tls\n    bind 127.0.0.1:%d ssl crt %s crt %s alpn h2\n' % (server.port, paths[0], paths[1]))
    return server, cfg, paths, ca


def test_each_certificate_is_served_to_its_key_type_and_held_in_memory(run_module, tmp_path, fake_haproxy):
    server, cfg, paths, _ca = tls_site(tmp_path, fake_haproxy)
    try:
        result, failed = run_module(haproxy_check, dict(path=str(cfg), socket=fake_haproxy.path,
                                                        tls_policy='intermediate'), run_command=haproxy())
    finally:
        server.close()
    assert not failed and result['ok'], result['failures']
    assert [(c['cert'], c['key_type'], c['usable'], c['frontend']) for c in result['tls']] == [
        (paths[0], 'ecdsa', True, 'fe_tls'), (paths[1], 'rsa', True, 'fe_tls')]
    for entry in result['tls']:
        assert entry['memory_serial'].lower() == entry['serial']
        served = [(row['name'], row['matches']) for row in entry['served']]
        assert served == [('www.example.test', True), ('example.test', True)]
    assert [p['ok'] for p in result['tls_policies']] == [True]


def test_a_renewed_file_not_swapped_in_and_a_lax_server_are_caught(run_module, tmp_path, fake_haproxy):
    """The file renewed behind HAProxy's back: memory and the served certificate are the old one (two problems);
    a server that takes TLS 1.0 breaks the profile."""
    import pki
    import tlsserver
    server, cfg, paths, _ca = tls_site(tmp_path, fake_haproxy, tlsserver.lax)
    ca = pki.Pki()
    key, renewed = ca.leaf('ecdsa', ['www.example.test', 'example.test'])
    (tmp_path / 'ecdsa.pem').write_text(pki.pem(renewed, ca.inter) + pki.key_pem(key))
    try:
        result, failed = run_module(haproxy_check, dict(path=str(cfg), socket=fake_haproxy.path,
                                                        tls_policy='intermediate'), run_command=haproxy())
    finally:
        server.close()
    assert failed and not result['ok']
    ecdsa = result['tls'][0]
    assert any('holds serial' in p and 'not the file' in p for p in ecdsa['problems']), ecdsa['problems']
    assert any('an ECDSA-only client is served serial' in p for p in ecdsa['problems']), ecdsa['problems']
    assert not result['tls'][1]['problems']
    assert 'accepts TLSv1' in ' '.join(result['tls_policies'][0]['findings'])


def test_tls_false_and_no_cryptography(run_module, tmp_path, fake_haproxy, monkeypatch):
    server, cfg, _paths, _ca = tls_site(tmp_path, fake_haproxy)
    server.close()
    result, failed = run_module(haproxy_check, dict(path=str(cfg), socket=fake_haproxy.path, tls=False),
                                run_command=haproxy())
    assert not failed and result['tls'] == []
    monkeypatch.setattr(haproxy_check, 'HAS_CRYPTOGRAPHY', False)
    result, failed = run_module(haproxy_check, dict(path=str(cfg), socket=fake_haproxy.path), run_command=haproxy())
    assert failed and 'cryptography' in result['msg'] and 'tls: false' in result['msg']
