# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx_acme, proven against a live Pebble ACME server: real issuance of RSA and ECDSA certificates on two web
hosts behind a round-robin balancer (the CA validates each order on whichever host the balancer picks), what nginx
serves to each kind of client, the challenge check and its negative controls, forced renewal by the playbook, and
the renewal unit alone renewing on both hosts five times in a row, with the webroot-only mode as negative control."""

from __future__ import annotations

import json
import re
import shlex
import time
import uuid

import helpers
import pytest

CA, LB, WEB1, WEB2 = 'opsnotes-acme-ca', 'opsnotes-acme-lb', 'opsnotes-acme-web1', 'opsnotes-acme-web2'
JOURNAL_HOSTS = [WEB1, WEB2]
CONF = '/etc/nginx/conf.d/opsnotes-acme.conf'
SITES = {'shop': ['shop.test', 'www.shop.test'], 'blog': ['blog.test']}
CERT_DIR = '/etc/ssl/opsnotes-acme'
ROOT_PEM = '/tmp/opsnotes-pebble-root.pem'
ca = helpers.host(CA)


ip_of = helpers.ip_of


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
    args = dict(certificates=certificates(), ca_file=ROOT_PEM, probe=True, fail_on_problem=False)
    args.update(extra)
    return helpers.ansible_host(name).ansible('opsnotes.edge.acme_certificate_check', json.dumps(args), check=False)


def challenge_check(name, site='shop', **extra):
    webroot = '/srv/acme-blog/challenges' if site == 'blog' else '/var/lib/opsnotes-acme/challenges'
    args = dict(domains=SITES[site], webroot=webroot, address='127.0.0.1', fail_on_problem=False)
    args.update(extra)
    return helpers.ansible_host(name).ansible('opsnotes.edge.acme_challenge_check',
                                              json.dumps({k: v for k, v in args.items() if v is not None}),
                                              check=False)


def thumbprint(name):
    result = cert_check(name, probe=False, account_key='%s/account.key' % CERT_DIR)
    return result['account_thumbprint']


def dry_run_through_the_balancer(name, site='shop'):
    """What the CA sees: random tokens for every name, fetched through the balancer (it alternates hosts)."""
    return challenge_check(name, site, webroot=None, address=ip_of(LB), thumbprint=thumbprint(name),
                           stateless_probes=4)


def renew_unit(name, force=False):
    """Start the renewal unit alone, as its timer does; returns (rc, the journal of that run)."""
    return helpers.renew_unit(helpers.host(name), force)


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


def bundles():
    """The files nginx loads: per site and key type, the fullchain and its key in one file."""
    return [dict(name=c['name'], key_type=c['key_type'], cert=c['cert'].replace('.fullchain.pem', '.pem'),
                 domains=c['domains']) for c in certificates()]


@pytest.mark.parametrize('name', [WEB1, WEB2])
def test_keys_are_root_only(name):
    h = helpers.host(name)
    for path in ['%s/account.key' % CERT_DIR] + [c['key'] for c in certificates()] + [b['cert'] for b in bundles()]:
        f = h.file(path)
        assert f.user == 'root' and f.mode == 0o600, path
    assert h.file(CERT_DIR).mode == 0o700


def test_the_hosts_behind_the_balancer_share_one_account_key():
    sums = {name: helpers.host(name).check_output('sha256sum %s/account.key' % CERT_DIR).split()[0]
            for name in (WEB1, WEB2)}
    assert sums[WEB1] == sums[WEB2]
    assert thumbprint(WEB1) == thumbprint(WEB2) and len(thumbprint(WEB1)) == 43


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


def edit_config(name, transform):
    """Apply ``transform`` (text -> text) to the live config and reload nginx; returns a function that restores it."""
    h = helpers.host(name)
    original = h.file(CONF).content_string

    def write(text):
        h.check_output("python3 -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' %s %s", CONF, text)
        h.check_output('nginx -t -q && systemctl reload nginx')
    changed = transform(original)
    assert changed != original
    write(changed)
    return lambda: write(original)


def test_challenge_check_fails_when_the_location_is_missing():
    restore = edit_config(WEB1, lambda t: t.replace('location ^~ /.well-known/acme-challenge/', 'location /unused-acme/'))
    try:
        result = challenge_check(WEB1)
    finally:
        restore()
    assert not result['ok']
    assert [d['status'] for d in result['domains']] == [301, 301]
    assert 'has no location ^~ /.well-known/acme-challenge/' in result['failures'][0]
    assert challenge_check(WEB1)['ok']


def test_challenge_check_catches_alias_traversal():
    """Negative control: the classic location without its trailing slash, with alias, serves files next to the
    webroot (the role's stateless location names files only by a base64url token, so it cannot)."""
    vulnerable = 'location ^~ /.well-known/acme-challenge { alias /var/lib/opsnotes-acme/challenges/; }'
    restore = edit_config(WEB1, lambda t: re.sub(r'location \^~ /\.well-known/acme-challenge/ \{.*?\n    \}\n',
                                                 lambda m: vulnerable + '\n', t, count=1, flags=re.S))
    try:
        result = challenge_check(WEB1)
    finally:
        restore()
    assert not result['ok']
    leaked = [p['path'] for p in result['domains'][0]['traversal'] if p['leaked']]
    assert any(p.startswith('/.well-known/acme-challenge../') for p in leaked)
    assert 'readable through' in result['failures'][0]
    assert challenge_check(WEB1)['ok']


@pytest.mark.parametrize('name', [WEB1, WEB2])
def test_the_stateless_answer_reaches_the_ca_through_the_balancer(name):
    def from_balancer():
        # The balancer passes the prober's address on (PROXY protocol): each line names the host that probed.
        return {web: int(helpers.host(web).run('grep -c "^%s .*acme-challenge" /var/log/nginx/access.log'
                                               % ip_of(name).replace('.', '\\.')).stdout.strip() or 0)
                for web in (WEB1, WEB2)}
    before = from_balancer()
    result = dry_run_through_the_balancer(name)
    assert result['ok'], result['failures']
    assert all(len(d['stateless']) == 4 and all(p['ok'] for p in d['stateless']) for d in result['domains'])
    # The balancer alternated: the probes met both hosts, and both answered for an account they share.
    after = from_balancer()
    assert all(after[web] > before[web] for web in (WEB1, WEB2)), (before, after)


def access_line(marker, hosts=(WEB1, WEB2)):
    """(host, line) of the nginx access log line holding ``marker``, on whichever web host served the request."""
    for _attempt in range(50):
        for web in hosts:
            line = helpers.host(web).run('grep -h -F -- %s /var/log/nginx/access.log', marker).stdout.strip()
            if line:
                return web, line
        time.sleep(0.1)
    raise AssertionError('no access log line holds %s' % marker)


@pytest.mark.parametrize('port, logged', [(443, 'the client'), (4443, 'the balancer')])
def test_the_access_log_names_the_client_through_the_balancer(port, logged):
    """An https request from the CA host through the balancer: on its PROXY protocol frontend (443) the web host
    logs the client's own address; on the frontend without it (4443, the negative control), the balancer's."""
    marker = 'opsnotes-pp-%d-%s' % (port, uuid.uuid4().hex)
    body = ca.check_output('curl -sS -m 5 --cacert %s --resolve %s https://www.shop.test:%s/?%s',
                           ROOT_PEM, 'www.shop.test:%d:%s' % (port, ip_of(LB)), str(port), marker)
    assert body.startswith('app on opsnotes-acme-web')
    _web, line = access_line(marker)
    assert line.split()[0] == (ip_of(CA) if logged == 'the client' else ip_of(LB)), line


# A PROXY protocol v1 header that claims the client 203.0.113.77, then a request, straight to a web host's port 8080.
FORGED = ("import socket, sys; s = socket.create_connection((sys.argv[1], 8080), 5); "
          "s.sendall(('PROXY TCP4 203.0.113.77 %s 40000 8080\\r\\nGET /?%s HTTP/1.1\\r\\nHost: shop.test\\r\\n'"
          "'Connection: close\\r\\n\\r\\n' % (sys.argv[1], sys.argv[2])).encode()); print(s.recv(12).decode())")


@pytest.mark.parametrize('sender, believed', [(CA, False), (LB, True)])
def test_only_the_balancer_can_name_the_client(sender, believed):
    """The same forged header sent to web1's PROXY port: from the CA host its own address is logged (the header is
    not believed); from the balancer's address, the only trusted source, the claimed client is (the control)."""
    marker = 'opsnotes-forged-%s' % uuid.uuid4().hex
    answer = helpers.host(sender).check_output('python3 -c %s %s %s', FORGED, ip_of(WEB1), marker)
    assert answer.startswith('HTTP/1.1 301')
    _web, line = access_line(marker, hosts=(WEB1,))
    assert line.split()[0] == ('203.0.113.77' if believed else ip_of(sender)), line


def sslyze(address, port=443, name='www.shop.test'):
    return helpers.sslyze(address, port, name)


# What only the test CA causes: Pebble's root is in no trust store, and its certificates live 5 years, where the
# profile allows 366 days. Anything else (protocols, ciphers, curves, key sizes) is a finding of the role's own.
TEST_CA_FINDINGS = {'certificate_path_validation', 'maximum_certificate_lifespan'}


def test_a_third_party_judge_finds_the_mozilla_intermediate_profile():
    """sslyze, not our modules, against a web host and through the balancer; then the collection's own judge
    (acme_certificate_check's policy). The negative control for both: with the role's ssl_ecdh_curve taken out,
    nginx's own key exchange groups offer X448 and secp521r1, and both judges say so."""
    for address in (ip_of(WEB1), ip_of(LB)):          # directly, and through the balancer's PROXY frontend
        findings = sslyze(address)
        assert set(findings) <= TEST_CA_FINDINGS, (address, findings)
    ours = cert_check(WEB1, policy='intermediate')     # the collection's own judge agrees
    assert ours['ok'] and all(p['ok'] and not p['untested'] for p in ours['policies']), ours['policies']
    restore = edit_config(WEB1, lambda t: re.sub(r'\n *ssl_ecdh_curve [^;]*;', '', t))
    try:
        loose = sslyze(ip_of(WEB1))
        ours = cert_check(WEB1, policy='intermediate')
    finally:
        restore()
    assert 'tls_curves' in loose and ('X448' in loose['tls_curves'] or 'secp521r1' in loose['tls_curves']), loose
    assert not ours['ok'] and {p['name'] for p in ours['policies'] if not p['ok']} == {'shop', 'blog'}
    assert all('X448 (TLSv1.3)' in p['groups'] for p in ours['policies']), ours['policies']


def test_check_mode_on_the_converged_hosts_passes_and_changes_nothing():
    """--check --diff after converge: the verify tasks (challenge, dry-run through the balancer, certificates,
    timer) pass read-only, nothing is reported changed, and the hosts are as before: the web hosts and the
    balancer, whose HAProxy holds ACME certificates of its own."""
    snapshot = 'find /etc/ssl/opsnotes-acme /etc/nginx /etc/haproxy /srv -type f -print0 2>/dev/null | sort -z | ' \
               'xargs -0 md5sum; systemctl show -p MainPID nginx haproxy'
    hosts = (WEB1, WEB2, LB)
    before = {name: helpers.host(name).check_output(snapshot) for name in hosts}
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--check', '--diff')
    assert run.returncode == 0, run.stdout[-4000:]
    plain = re.sub(r'\x1b\[[0-9;]*m', '', run.stdout)             # molecule forces colours
    recap = re.findall(r'(opsnotes-acme-(?:web\d|lb))\s*: ok=\d+\s+changed=(\d+)', plain)
    assert sorted(recap) == sorted((name, '0') for name in hosts), recap
    assert {name: helpers.host(name).check_output(snapshot) for name in hosts} == before


def test_a_run_repairs_drift_between_the_files_and_what_nginx_serves():
    """A certificate file replaced without a reload (here: a renewal, then the old file put back): nginx serves
    another certificate than the file holds. The check sees it; the next run reloads nginx (after nginx -t)."""
    h, cert = helpers.host(WEB2), '%s/shop/ecdsa.fullchain.pem' % CERT_DIR
    h.check_output('cp %s /root/shop-ecdsa.pem && /usr/local/sbin/opsnotes-acme-renew --force shop/ecdsa' % cert)
    for _attempt in range(20):                  # systemctl reload returns before nginx has read the new files
        if cert_check(WEB2)['ok']:
            break
        time.sleep(0.5)
    h.check_output('cp /root/shop-ecdsa.pem %s' % cert)
    drift = cert_check(WEB2)
    assert not drift['ok'] and any('not the certificate in the file' in f for f in drift['failures']), drift
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB2)
    assert run.returncode == 0, run.stdout[-4000:]
    result = cert_check(WEB2)
    assert result['ok'], result['failures']


def test_forced_renewal_reissues_and_nginx_serves_the_new_certificates():
    before = {name: serials(name) for name in (WEB1, WEB2)}
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', 'web', '-e',
                                   'nginx_acme_force_renewal=true')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    for name in (WEB1, WEB2):
        result = cert_check(name)
        assert result['ok'], result['failures']      # includes: the served leaf is the new one
        after = {(c['name'], c['key_type']): c['serial'] for c in result['certificates']}
        assert all(after[k] != before[name][k] for k in after), (before[name], after)


def test_the_unit_alone_renews_on_each_host_five_times_behind_the_balancer():
    """No playbook: the timer's unit re-issues missing (odd rounds) or forced (even rounds) certificates on each web
    host, every order validated through the balancer, and nginx serves the new ones at once."""
    for name in (WEB1, WEB2):
        h = helpers.host(name)
        assert h.service('opsnotes-acme-renew.timer').is_enabled
        assert h.check_output('systemctl is-active opsnotes-acme-renew.timer') == 'active'
        # Nothing is due: the unit runs and changes nothing.
        before = serials(name)
        rc, log = renew_unit(name)
        assert rc == 0 and 'renewed: 0, failed: 0' in log, log
        assert serials(name) == before
    for round_ in range(1, 6):
        for name in (WEB1, WEB2):
            h, before = helpers.host(name), serials(name)
            if round_ % 2:
                h.check_output('rm -f %s/shop/rsa.fullchain.pem %s/blog/ecdsa.fullchain.pem' % (CERT_DIR, CERT_DIR))
            rc, log = renew_unit(name, force=not round_ % 2)
            assert rc == 0, (round_, name, log)
            assert ('renewed: 2, failed: 0' if round_ % 2 else 'renewed: 4, failed: 0') in log, (round_, name, log)
            result = cert_check(name)
            assert result['ok'], (round_, name, result['failures'])   # chain valid, and served == file
            after = {(c['name'], c['key_type']): c['serial'] for c in result['certificates']}
            renewed = {k for k in after if after[k] != before[k]}
            assert renewed == ({('shop', 'rsa'), ('blog', 'ecdsa')} if round_ % 2 else set(after)), (round_, name)


def test_the_webroot_mode_fails_behind_the_balancer():
    """Negative control: the same unit with the old webroot-only answer. The token file is on one host, and the
    balancer sends the CA (or the client's own check) to the other: the renewal fails, naming the site and why,
    and the old certificate stays. The dry-run through the balancer sees it too."""
    webroot_mode = json.dumps({'nginx_acme_challenge_mode': 'webroot'})
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', 'web', '-e', webroot_mode)
    assert run.returncode == 0, run.stdout[-4000:]
    try:
        dry = dry_run_through_the_balancer(WEB1)
        assert not dry['ok'] and 'no stateless answer' in dry['failures'][0]
        before = serials(WEB1)
        rc, log = renew_unit(WEB1, force=True)
        assert rc != 0, log
        assert 'renewal of shop (rsa) failed: AcmeError: ' in log and 'the previous certificate stays' in log, log
        # Refused by the CA's validation, or before it by the client's own check: each reached the other host.
        assert 'the CA could not validate it' in log or 'the CA would fail too' in log, log
        assert serials(WEB1)[('shop', 'rsa')] == before[('shop', 'rsa')]
        assert cert_check(WEB1)['ok']                    # still a valid certificate, served
    finally:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', 'web')
    assert run.returncode == 0, run.stdout[-4000:]
    assert dry_run_through_the_balancer(WEB1)['ok']
    rc, log = renew_unit(WEB1, force=True)
    assert rc == 0 and 'renewed: 4, failed: 0' in log, log


def test_tls_fails_closed_when_a_certificate_breaks_and_the_ca_is_unreachable():
    """A certificate that exists but is unusable, and no working CA: the run fails naming the site, the live
    configuration (the last that worked) stays, https keeps being served and port 80 never serves the site in clear.
    A new site without any certificate answers 503 on port 80, the challenge excepted. The next good run repairs
    everything."""
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
        rc, failures = helpers.playbook_failures('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e', unreachable)
        assert rc != 0
        # The run names the site and the CA's answer, and the previous certificate stays.
        assert [(task.split(' : ')[-1], 'renewal of shop (rsa) failed' in msg and 'previous certificate' in msg)
                for _host, task, msg in failures] == [
            ('Report the certificates that could not be issued | nginx_acme', True)], failures
        assert h.check_output('md5sum %s; systemctl show -p MainPID nginx' % CONF) == before
        assert curl('https://shop.test/') == '200'           # still served, from the certificate nginx loaded
        assert curl('http://shop.test/cart') == '301'        # never the site in clear
        # A new site with no certificate yet, while the CA is unreachable: the challenge, and 503 for the rest.
        with_new = json.dumps({'nginx_acme_directory_url': no_ca,
                               'nginx_acme_sites': sites + [dict(name='new', domains=['new.test'], root='/srv/blog')]})
        h.check_output('cp /root/shop-rsa.pem %s' % cert)
        rc, failures = helpers.playbook_failures('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e', with_new)
        assert rc != 0 and any('renewal of new (rsa) failed' in msg for _h, _t, msg in failures), failures
        assert curl('http://new.test/') == '503'
        # Any token gets the stateless answer: the site's port 80 is ready for its first order.
        assert curl('http://new.test/.well-known/acme-challenge/absent-token') == '200'
    finally:
        h.run('test -s /root/shop-rsa.pem && cp /root/shop-rsa.pem %s' % cert)
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1)
    assert run.returncode == 0, run.stdout[-4000:]
    result = cert_check(WEB1)
    assert result['ok'], result['failures']


def test_a_new_key_size_with_the_ca_down_leaves_nginx_restartable_and_serving_the_old_pair():
    """nginx_acme_rsa_key_size changed while the CA cannot issue: the run fails naming the sites, the new keys are in
    place for the next order, and nginx keeps serving the previous pair from its bundles, also after a restart (it
    used to load the key file itself, so a restart failed with "key values mismatch" and ports 80 and 443 refused).
    The control: nginx -t on a configuration loading the fullchain and the key file, as before, fails. The next run
    with the CA back issues for the new keys."""
    h = helpers.host(WEB1)
    rsa = [b for b in bundles() if b['key_type'] == 'rsa']
    before = cert_check(WEB1, certificates=rsa)
    assert before['ok'], before['failures']
    probe = '/tmp/opsnotes-old-pair.conf'
    unreachable = {'nginx_acme_directory_url': 'https://%s:14000/no-such-directory' % CA}
    try:
        rc, failures = helpers.playbook_failures('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e',
                                                 json.dumps(dict(unreachable, nginx_acme_rsa_key_size=4096)))
        assert rc != 0 and all(any('renewal of %s (rsa) failed' % site in msg for _h, _t, msg in failures)
                               for site in SITES), failures
        assert 'Private-Key: (4096 bit' in h.check_output('openssl pkey -in %s/shop/rsa.key -noout -text' % CERT_DIR)
        h.check_output('systemctl restart nginx')
        after = cert_check(WEB1, certificates=rsa)
        assert after['ok'], after['failures']
        assert [(c['serial'], c['key']) for c in after['certificates']] == \
            [(c['serial'], 'rsa 3072') for c in before['certificates']]
        assert all(s['matches'] for c in after['certificates'] for s in c['served'])
        old_pair = ('%s/shop/rsa.fullchain.pem' % CERT_DIR, '%s/shop/rsa.key' % CERT_DIR, probe)
        h.check_output("printf 'events {}\\nhttp { server { listen 127.0.0.1:8443 ssl; ssl_certificate %s; "
                       "ssl_certificate_key %s; } }\\n' > %s" % old_pair)
        control = h.run('nginx -t -c %s' % probe)
        assert control.rc != 0 and 'key values mismatch' in control.stderr, control.stderr
    finally:
        h.run('rm -f %s' % probe)
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1)
    assert run.returncode == 0, run.stdout[-4000:]
    result = cert_check(WEB1, certificates=rsa)
    assert result['ok'], result['failures']
    assert all(c['key'] == 'rsa 3072' and c['serial'] not in [b['serial'] for b in before['certificates']]
               for c in result['certificates'])


def test_a_profile_the_ca_does_not_offer_fails_the_order_and_keeps_the_certificates():
    """nginx_acme_profile names an ACME profile; this CA lists only classic in its directory, so a forced renewal
    under tlsserver fails before any order, naming the profile and what the CA offers, and the previous certificates
    stay served. The control: the same forced renewal without the profile issues new ones."""
    before = serials(WEB1)
    rc, failures = helpers.playbook_failures('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e',
                                             json.dumps({'nginx_acme_profile': 'tlsserver',
                                                         'nginx_acme_force_renewal': True}))
    assert rc != 0 and any("the CA offers no profile 'tlsserver' (it offers: classic)" in msg
                           for _h, _t, msg in failures), failures
    assert serials(WEB1) == before
    result = cert_check(WEB1)
    assert result['ok'], result['failures']
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e',
                                   json.dumps({'nginx_acme_force_renewal': True}))
    assert run.returncode == 0, run.stdout[-4000:]
    after = serials(WEB1)
    assert set(after) == set(before) and all(after[k] != before[k] for k in before)


def test_http2_is_negotiated_by_alpn_and_the_switch_turns_it_off():
    """nginx_acme_http2 (on by default): a client offering h2 gets HTTP/2 over TLS, one without ALPN HTTP/1.1. The
    control: the same requests after a run with the switch off get HTTP/1.1 only."""
    web1 = ip_of(WEB1)

    def versions():
        out = ca.check_output('for o in --http2 --http1.1; do curl -s -m 5 --cacert %s --resolve shop.test:443:%s '
                              '-o /dev/null -w "%%{http_version} " $o https://shop.test/; done' % (ROOT_PEM, web1))
        alpn = ca.run('echo | timeout 5 openssl s_client -connect %s:443 -servername shop.test -alpn h2,http/1.1 '
                      '2>/dev/null | grep -o "ALPN protocol: .*"' % web1).stdout.strip()
        return out.split(), alpn

    def settled(expected):
        """What a run's reload serves once nginx's new workers answer (systemctl reload returns before that)."""
        for _attempt in range(20):
            got = versions()
            if got == expected:
                break
            time.sleep(0.5)
        return got

    h2, h1 = (['2', '1.1'], 'ALPN protocol: h2'), (['1.1', '1.1'], 'ALPN protocol: http/1.1')
    assert settled(h2) == h2
    try:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e',
                                       json.dumps({'nginx_acme_http2': False}))
        assert run.returncode == 0, run.stdout[-4000:]
        assert settled(h1) == h1
    finally:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1)
    assert run.returncode == 0, run.stdout[-4000:]
    assert settled(h2) == h2


def test_a_ca_taken_off_the_list_leaves_the_trust_store():
    """nginx_acme_trusted_ca_certs is what the host trusts: a private CA added to it reaches the system bundle, and
    once taken off the list it leaves the bundle again (it used to stay trusted for good). The files of another
    consumer on the host (the haproxy role's) are not this role's to remove."""
    h = helpers.host(WEB1)
    name = 'opsnotes-extra-ca-%s' % uuid.uuid4().hex[:12]
    extra = h.check_output('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null '
                           '-days 2 -subj /CN=%s 2>/dev/null' % name)
    listener = "{{ lookup('ansible.builtin.file', hostvars[groups['pebble'][0]].pebble_listener_pem) }}"
    other = '/usr/local/share/ca-certificates/opsnotes-acme-haproxy-0.crt'
    h.check_output('printf %%s "%s" > %s' % (extra, other))

    def trusted():
        return h.run('openssl crl2pkcs7 -nocrl -certfile /etc/ssl/certs/ca-certificates.crt | '
                     'openssl pkcs7 -print_certs -noout | grep -c "^subject=CN *= *%s$"' % name).stdout.strip()

    try:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1, '-e',
                                       json.dumps({'nginx_acme_trusted_ca_certs': [listener, extra]}))
        assert run.returncode == 0, run.stdout[-4000:]
        # The control: the check sees a trusted CA (twice: this role's file and the other consumer's).
        assert trusted() == '2'
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', WEB1)
        assert run.returncode == 0, run.stdout[-4000:]
        assert trusted() == '1' and h.file(other).exists
        h.check_output('rm -f %s && update-ca-certificates --fresh >/dev/null' % other)
        assert trusted() == '0'
    finally:
        h.run('rm -f %s && update-ca-certificates --fresh' % other)
    result = cert_check(WEB1)
    assert result['ok'], result['failures']


def test_bad_input_is_refused_before_the_host_changes():
    run = helpers.ansible_playbook('molecule/nginx_acme/bad_input.yml')
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


EAB_KID = 'opsnotes-molecule'
EAB_HMAC = 'TQ1HODmp-CQg35K3keMyPWlQEjz4FoFw3-9wn6M6YqY'     # this scenario's test CA's (molecule.yml)


def test_the_ca_requires_external_account_binding_and_the_key_stays_root_only():
    """This scenario's CA requires External Account Binding: every certificate here was ordered by an account bound
    with the roles' key ID and HMAC key. The key sits in a root-only file of the host that orders, not in the
    renewal data file (which every user can read). The control: the CA refuses a new account bound with another
    HMAC key, so the binding is checked and not only present."""
    h = helpers.host(WEB1)
    key_file = h.file('%s/eab-hmac-nginx_acme.key' % CERT_DIR)
    assert key_file.mode == 0o600 and key_file.user == 'root' and key_file.content_string.strip() == EAB_HMAC
    conf = h.file('/etc/opsnotes-acme-renew.d/nginx_acme.conf').content_string
    assert "EAB_KID='%s'" % EAB_KID in conf and EAB_HMAC not in conf
    h.check_output('openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out /tmp/opsnotes-eab.key'
                   ' && echo %s > /tmp/opsnotes-eab.wrong', 'A' * 43)
    try:
        script = ('. /etc/opsnotes-acme-renew.d/nginx_acme.conf; python3 "$ACME_CLIENT" order --account-key '
                  '/tmp/opsnotes-eab.key --csr %s/shop/ecdsa.csr --webroot /tmp --directory "$DIRECTORY_URL" '
                  '--eab-kid %s --eab-hmac-key-file /tmp/opsnotes-eab.wrong' % (CERT_DIR, EAB_KID))
        got = h.run('bash -c %s', script)
        assert got.rc == 1 and 'external account binding JWS verification error' in got.stderr, got.stderr
    finally:
        h.run('rm -f /tmp/opsnotes-eab.key /tmp/opsnotes-eab.wrong')
