# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx_acme, proven against a live Pebble ACME server: real issuance of RSA and ECDSA certificates on two web
hosts (web2's only through the challenge group), what nginx serves to each kind of client, the challenge check
and its negative controls, forced renewal by the playbook and renewal by the systemd timer alone."""

from __future__ import annotations

import json
import shlex

import helpers
import pytest

CA, WEB1, WEB2 = 'opsnotes-acme-ca', 'opsnotes-acme-web1', 'opsnotes-acme-web2'
JOURNAL_HOSTS = [WEB1, WEB2]
CONF = '/etc/nginx/conf.d/opsnotes-acme.conf'
SITES = {'shop': ['shop.test', 'www.shop.test'], 'blog': ['blog.test']}
CERT_DIR = '/etc/ssl/opsnotes-acme'
ROOT_PEM = '/tmp/opsnotes-pebble-root.pem'
ca = helpers.host(CA)


def ip_of(name):
    return helpers.host(name).check_output("ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1")


@pytest.fixture(scope='module', autouse=True)
def pebble_root():
    """Pebble makes a new root at each start; its management API hands it out. Web hosts and the CA get a copy."""
    pem = ca.check_output('curl -sk https://127.0.0.1:15000/roots/0')
    assert pem.startswith('-----BEGIN CERTIFICATE-----')
    for name in (CA, WEB1, WEB2):
        helpers.host(name).check_output('printf %%s "%s" > %s' % (pem, ROOT_PEM))
    return pem


def certificates():
    return [dict(name=site, key_type=kind, cert='%s/%s/%s.fullchain.pem' % (CERT_DIR, site, kind),
                 key='%s/%s/%s.key' % (CERT_DIR, site, kind), domains=domains)
            for site, domains in SITES.items() for kind in ('rsa', 'ecdsa')]


def cert_check(name, **extra):
    args = dict(certificates=certificates(), ca_file=ROOT_PEM, probe=True, fail_on_error=False)
    args.update(extra)
    return helpers.ansible_host(name).ansible('opsnotes.edge.acme_certificate_check', json.dumps(args), check=False)


def challenge_check(name, site='shop', **extra):
    webroot = '/srv/acme-blog/challenges' if site == 'blog' else '/var/lib/opsnotes-acme/challenges'
    args = dict(domains=SITES[site], webroot=webroot, address='127.0.0.1', fail_on_error=False)
    args.update(extra)
    return helpers.ansible_host(name).ansible('opsnotes.edge.acme_challenge_check', json.dumps(args), check=False)


def serials(name):
    return {(c['name'], c['key_type']): c['serial'] for c in cert_check(name)['certificates']}


@pytest.mark.parametrize('name', [WEB1, WEB2])
def test_both_certificates_issued_chained_to_pebble_and_served(name):
    result = cert_check(name)
    assert result['ok'], result['failures']
    for entry in result['certificates']:
        assert entry['key'] == ('rsa 3072' if entry['key_type'] == 'rsa' else 'ecdsa secp384r1')
        assert entry['chain_length'] >= 2 and entry['chain_valid'] and entry['key_matches']
        assert entry['domains'] == SITES[entry['name']] and entry['days_left'] > 30
        assert 'Pebble' in entry['issuer']
        assert [s['domain'] for s in entry['served']] == SITES[entry['name']]
        assert all(s['matches'] and s['serial'] == entry['serial'] for s in entry['served'])


@pytest.mark.parametrize('name', [WEB1, WEB2])
def test_keys_are_root_only(name):
    h = helpers.host(name)
    for path in ['%s/account.key' % CERT_DIR] + [c['key'] for c in certificates()]:
        f = h.file(path)
        assert f.user == 'root' and f.mode == 0o600, path
    assert h.file(CERT_DIR).mode == 0o700


@pytest.mark.parametrize('cipher, algorithm', [('ECDHE-ECDSA-AES256-GCM-SHA384', 'id-ecPublicKey'),
                                               ('ECDHE-RSA-AES256-GCM-SHA384', 'rsaEncryption')])
def test_an_independent_client_gets_the_certificate_of_its_key_type(cipher, algorithm):
    """openssl s_client on the CA host, not the module: an ECDSA-only client gets ECDSA, an RSA-only one RSA."""
    out = ca.check_output('openssl s_client -connect %s:443 -servername www.shop.test -tls1_2 -cipher %s '
                          '-verify_return_error -CAfile %s </dev/null 2>/dev/null | openssl x509 -noout -text',
                          ip_of(WEB2), cipher, ROOT_PEM)
    assert 'Public Key Algorithm: %s' % algorithm in out and 'DNS:www.shop.test' in out


def test_https_serves_the_sites_and_http_redirects():
    web1 = ip_of(WEB1)

    def curl(url, *flags):
        # flags are literal curl options, url is quoted
        return ca.run('curl -s -m 5 --cacert %s --resolve shop.test:443:%s --resolve blog.test:443:%s '
                      '--resolve shop.test:80:%s %s %s' % (ROOT_PEM, web1, web1, web1, ' '.join(flags), shlex.quote(url)))
    assert curl('https://shop.test/').stdout.strip() == 'app on %s' % WEB1           # proxied to the upstream
    assert curl('https://blog.test/').stdout.strip() == 'blog on %s' % WEB1          # served from root
    headers = curl('https://shop.test/', '-D -', '-o /dev/null').stdout.lower()
    assert 'strict-transport-security: max-age=31536000' in headers
    assert 'strict-transport-security' not in curl('https://blog.test/', '-D -', '-o /dev/null').stdout.lower()
    redirect = curl('http://shop.test/cart?x=1', '-o /dev/null', "-w '%{http_code} %{redirect_url}'").stdout
    assert redirect == '301 https://shop.test/cart?x=1'
    # TLS 1.2+ only: a client that allows TLS 1.1 (SECLEVEL=0) gets a protocol_version alert from the server.
    tls11 = ca.run('openssl s_client -connect %s:443 -servername shop.test -tls1_1 -cipher DEFAULT@SECLEVEL=0 '
                   '</dev/null 2>&1' % web1).stdout
    assert 'alert protocol version' in tls11


@pytest.mark.parametrize('site', ['shop', 'blog'])
def test_challenge_check_passes(site):
    result = challenge_check(WEB1, site)
    assert result['ok'], result['failures']
    assert all(d['status'] == 200 for d in result['domains'])
    assert all(len(d['traversal']) == 4 and not any(p['leaked'] for p in d['traversal']) for d in result['domains'])


def edit_config(name, python_expr):
    """Apply a text change to the live config and reload nginx; returns a function that restores it."""
    h = helpers.host(name)
    original = h.file(CONF).content_string
    h.check_output("python3 -c 'import sys; p=sys.argv[1]; t=open(p).read(); open(p, \"w\").write(%s)' %s"
                   % (python_expr, CONF))
    h.check_output('nginx -t -q && systemctl reload nginx')

    def restore():
        h.check_output("python3 -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' %s %s",
                       CONF, original)
        h.check_output('nginx -t -q && systemctl reload nginx')
    return restore


def test_challenge_check_fails_when_the_location_is_missing():
    restore = edit_config(WEB1, 't.replace("location ^~ /.well-known/acme-challenge/", "location /unused-acme/")')
    try:
        result = challenge_check(WEB1)
    finally:
        restore()
    assert not result['ok']
    assert [d['status'] for d in result['domains']] == [301, 301]
    assert 'has no location ^~ /.well-known/acme-challenge/' in result['failures'][0]
    assert challenge_check(WEB1)['ok']


def test_challenge_check_catches_alias_traversal():
    """Negative control: the location without its trailing slash serves files next to the webroot."""
    restore = edit_config(WEB1, 't.replace("location ^~ /.well-known/acme-challenge/", '
                                '"location ^~ /.well-known/acme-challenge")')
    try:
        result = challenge_check(WEB1)
    finally:
        restore()
    assert not result['ok']
    leaked = [p['path'] for p in result['domains'][0]['traversal'] if p['leaked']]
    assert any(p.startswith('/.well-known/acme-challenge../') for p in leaked)
    assert 'readable through' in result['failures'][0]


def test_forced_renewal_reissues_and_nginx_serves_the_new_certificates():
    before = {name: serials(name) for name in (WEB1, WEB2)}
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '-e', 'nginx_acme_force_renewal=true')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for name in (WEB1, WEB2):
        result = cert_check(name)
        assert result['ok'], result['failures']      # includes: the served leaf is the new one
        after = {(c['name'], c['key_type']): c['serial'] for c in result['certificates']}
        assert all(after[k] != before[name][k] for k in after), (before[name], after)


def test_the_timer_renews_without_a_playbook_run():
    h = helpers.host(WEB1)
    assert h.service('opsnotes-acme-renew.timer').is_enabled
    assert h.check_output('systemctl is-active opsnotes-acme-renew.timer') == 'active'
    # Nothing is due: the service runs and renews nothing.
    before = serials(WEB1)
    h.check_output('systemctl start opsnotes-acme-renew.service')
    assert serials(WEB1) == before
    # Forced through the unit's environment file, as an operator would.
    h.check_output('echo RENEW_ARGS=--force > /etc/default/opsnotes-acme-renew')
    try:
        run = h.run('systemctl start opsnotes-acme-renew.service')
    finally:
        h.check_output('rm -f /etc/default/opsnotes-acme-renew')
    log = h.run('journalctl -u opsnotes-acme-renew.service --no-pager -n 20').stdout
    assert run.rc == 0, log
    assert 'renewed: 4, failed: 0' in log
    result = cert_check(WEB1)
    assert result['ok'], result['failures']           # valid chain, and nginx was reloaded onto the new files
    after = {(c['name'], c['key_type']): c['serial'] for c in result['certificates']}
    assert all(after[k] != before[k] for k in after)


def test_tls_fails_closed_when_a_certificate_breaks_and_the_ca_is_unreachable():
    """A certificate that exists but is unusable, and no working CA: the run fails naming the site, the live
    configuration (the last that worked) stays, https keeps being served and port 80 never serves the site in clear.
    A new site without any certificate answers 503 on port 80. The next good run repairs everything."""
    h, web1 = helpers.host(WEB1), ip_of(WEB1)
    cert = '%s/shop/rsa.fullchain.pem' % CERT_DIR
    h.check_output('cp %s /root/shop-rsa.pem && echo "not a certificate" > %s' % (cert, cert))
    before = h.check_output('md5sum %s; systemctl show -p MainPID nginx' % CONF)
    sites = [dict(name='shop', domains=['shop.test', 'www.shop.test'], upstream='http://127.0.0.1:8081', hsts=True),
             dict(name='blog', domains=['blog.test'], root='/srv/blog', webroot='/srv/acme-blog/challenges')]
    # A CA that does not answer as one (its directory is missing). A refused port would fail the same way after
    # community.crypto's 20 retries (3.5 minutes, measured), which proves nothing more.
    no_ca = 'https://%s:14000/no-such-directory' % CA
    unreachable = json.dumps({'nginx_acme_directory_url': no_ca})

    def curl(url, *flags):
        return ca.run('curl -s -m 5 --cacert %s --resolve shop.test:443:%s --resolve shop.test:80:%s '
                      '--resolve new.test:80:%s -o /dev/null -w "%%{http_code}" %s %s'
                      % (ROOT_PEM, web1, web1, web1, ' '.join(flags), shlex.quote(url))).stdout
    try:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e', unreachable)
        assert run.returncode != 0
        assert 'shop rsa' in run.stdout and 'Order the certificates that are due' in run.stdout, run.stdout[-3000:]
        assert h.check_output('md5sum %s; systemctl show -p MainPID nginx' % CONF) == before
        assert curl('https://shop.test/') == '200'           # still served, from the certificate nginx loaded
        assert curl('http://shop.test/cart') == '301'        # never the site in clear
        # A new site with no certificate yet, while the CA is unreachable: the challenge, and 503 for the rest.
        with_new = json.dumps({'nginx_acme_directory_url': no_ca,
                               'nginx_acme_sites': sites + [dict(name='new', domains=['new.test'], root='/srv/blog')]})
        h.check_output('cp /root/shop-rsa.pem %s' % cert)
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e', with_new)
        assert run.returncode != 0 and 'new rsa' in run.stdout, run.stdout[-3000:]
        assert curl('http://new.test/') == '503'
        assert curl('http://new.test/.well-known/acme-challenge/absent-token') == '404'
    finally:
        h.run('test -s /root/shop-rsa.pem && cp /root/shop-rsa.pem %s' % cert)
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1)
    assert run.returncode == 0, run.stdout[-4000:]
    result = cert_check(WEB1)
    assert result['ok'], result['failures']


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/nginx_acme/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
