# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The haproxy role with ACME certificates of its own, against the live Pebble: issued through HAProxy's own
challenge answer (for its name only; the web hosts' names still reach them), an RSA and an ECDSA certificate served
per client, TLS 1.1 refused, Mozilla's profile judged by sslyze, and a renewal by the timer's unit alone swapped into
the running HAProxy without a reload (same processes, a held TLS connection answering on), with a reload as the
negative control."""

from __future__ import annotations

import json
import re
import time
import uuid

import helpers
import pytest

CA, LB, WEB1 = 'opsnotes-acme-ca', 'opsnotes-acme-lb', 'opsnotes-acme-web1'
JOURNAL_HOSTS = [LB]
NAME, PORT = 'lb.shop.test', '9443'     # testinfra quotes its arguments: strings
BUNDLE = '/etc/ssl/opsnotes-acme/lb/%s.pem'
ROOT_PEM = '/tmp/opsnotes-pebble-root.pem'
# TLS 1.3 ties an ECDSA scheme to its curve: the ECDSA key is P-384, so SHA384 (and SHA256 for P-256 keys).
SIGALGS = {'ecdsa': 'ECDSA+SHA384:ECDSA+SHA256', 'rsa': 'RSA-PSS+SHA256:RSA+SHA256'}
ca, lb = helpers.host(CA), helpers.host(LB)


@pytest.fixture(scope='module', autouse=True)
def pebble_root():
    pem = ca.check_output('curl -sk https://127.0.0.1:15000/roots/0')
    assert pem.startswith('-----BEGIN CERTIFICATE-----')
    ca.check_output('printf %%s "%s" > %s' % (pem, ROOT_PEM))


def bundle_serial(key_type):
    return int(lb.check_output('openssl x509 -in %s -noout -serial', BUNDLE % key_type).split('=')[1], 16)


def served(*flags):
    """The serial the balancer serves to the CA host's openssl s_client (verified against Pebble's root), or None."""
    run = ca.run('echo | timeout 10 openssl s_client -connect %s:%s -servername %s -verify_return_error -CAfile %s '
                 + ' '.join(flags) + ' 2>/dev/null | openssl x509 -noout -serial', helpers.ip_of(LB), PORT, NAME,
                 ROOT_PEM)
    return int(run.stdout.strip().split('=')[1], 16) if run.stdout.startswith('serial=') else None


def workers():
    main = lb.check_output('systemctl show -p MainPID --value haproxy')
    return {main} | set(lb.check_output('pgrep -P %s', main).split())


def token_answer(host):
    """What the balancer's port 80 answers for a fresh token with this Host header."""
    token = uuid.uuid4().hex
    return token, ca.check_output('curl -s -m 5 -H %s http://%s/.well-known/acme-challenge/%s',
                                  'Host: %s' % host, helpers.ip_of(LB), token)


def thumbprint(name):
    args = dict(certificates=[], account_key='/etc/ssl/opsnotes-acme/account.key')
    return helpers.ansible_host(name).ansible('opsnotes.edge.acme_certificate_check', json.dumps(args),
                                              check=False)['account_thumbprint']


def test_haproxy_answers_the_challenge_for_its_own_name_only():
    """HAProxy's answer carries its own account's thumbprint for lb.shop.test; the web hosts' names still reach the
    web hosts, which answer with their shared account (another thumbprint): the control that the rule is HAProxy's
    and limited to its name."""
    own, web = thumbprint(LB), thumbprint(WEB1)
    assert own != web and len(own) == 43
    token, answer = token_answer(NAME)
    assert answer == '%s.%s' % (token, own)
    token, answer = token_answer('shop.test')
    assert answer == '%s.%s' % (token, web)


@pytest.mark.parametrize('version', ['-tls1_2', '-tls1_3'])
@pytest.mark.parametrize('key_type', ['ecdsa', 'rsa'])
def test_pebble_issued_both_certificates_and_each_client_gets_its_key_type(version, key_type):
    assert served(version, '-sigalgs', SIGALGS[key_type]) == bundle_serial(key_type)
    issuer = lb.check_output('openssl x509 -in %s -noout -issuer', BUNDLE % key_type)
    assert 'Pebble' in issuer
    assert lb.file(BUNDLE % key_type).mode == 0o600


def test_tls_1_1_is_refused():
    out = ca.run('echo | timeout 10 openssl s_client -connect %s:%s -servername %s -tls1_1 '
                 '-cipher DEFAULT@SECLEVEL=0 2>&1', helpers.ip_of(LB), PORT, NAME).stdout
    assert 'alert protocol version' in out, out


def test_a_third_party_judge_finds_the_mozilla_intermediate_profile():
    findings = helpers.sslyze(helpers.ip_of(LB), int(PORT), NAME)
    # Only what the test CA causes: Pebble's root is in no trust store, its certificates live 5 years.
    assert set(findings) <= {'certificate_path_validation', 'maximum_certificate_lifespan'}, findings


def renew_unit():
    """The renewal unit alone, forced, as its timer would start it; returns its journal."""
    rc, log = helpers.renew_unit(lb, force=True)
    assert rc == 0, log
    return log


def test_the_unit_alone_renews_and_swaps_in_without_a_reload():
    """No playbook: the timer's unit orders new certificates from Pebble (validated through HAProxy's answer),
    rewrites both bundles and swaps them into the running HAProxy. New handshakes get the new serials; HAProxy's
    master and worker are the same; a TLS connection held open across the renewal goes on answering."""
    before = workers()
    old = {kind: bundle_serial(kind) for kind in SIGALGS}
    go, out = helpers.held_connection(ca, helpers.ip_of(LB), PORT, NAME)
    log = renew_unit()
    assert 'renewed: 2, failed: 0' in log, log
    assert len(re.findall(r'swapped into the running HAProxy without a reload', log)) == 2, log
    for kind in SIGALGS:
        assert bundle_serial(kind) != old[kind]
        assert served('-sigalgs', SIGALGS[kind]) == bundle_serial(kind)
    assert workers() == before
    result = helpers.held_result(ca, go, out)
    statuses = result['results']
    assert len(statuses) >= 4 and len(set(statuses)) == 1 and statuses[0].isdigit(), result
    # The playbook finds nothing to do: files and memory agree.
    run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', LB)
    assert run.returncode == 0, run.stdout[-4000:]
    recap = re.findall(r'%s\s*: ok=\d+\s+changed=(\d+)' % LB, re.sub(r'\x1b\[[0-9;]*m', '', run.stdout))
    assert recap == ['0'], recap


def test_negative_control_a_reload_starts_a_new_worker_and_ends_the_held_connection():
    """The same renewal followed by a reload: served too, but HAProxy has a new worker and the held connection is
    closed as the old one stops. The test above tells the two apart."""
    before = workers()
    go, out = helpers.held_connection(ca, helpers.ip_of(LB), PORT, NAME)
    lb.check_output('systemctl reload haproxy')
    time.sleep(1)
    assert workers() != before
    result = helpers.held_result(ca, go, out)
    assert not result['results'][-1].isdigit(), result


def test_a_frontend_without_its_certificate_answers_503_and_the_challenge_only():
    """A frontend whose ACME site has no usable certificate yet (the CA unreachable) never serves the backend in
    clear: 503 on its plain bind, the challenge answered. The control: the same requests once the certificate is
    issued get the redirect to https, and the site's backend behind it."""
    late = 'late.lb.shop.test'      # a network alias of the balancer, whose port 80 (fe_www) answers its challenge
    site = [{'name': 'late', 'domains': [late]}]
    frontend = [{'name': 'fe_late', 'bind': ['*:8088'], 'tls_bind': ['*:9444'], 'acme_sites': ['late'],
                 'acme_challenge': True, 'redirect_https': True, 'default_backend': 'be_web'}]
    extra = {'lb_extra_sites': site, 'lb_extra_frontends': frontend, 'lb_extra_challenge_domains': [late]}

    def get(path):
        return ca.check_output('curl -s -m 5 -o /dev/null -w "%%{http_code}" -H %s http://%s:8088%s',
                               'Host: %s' % late, helpers.ip_of(LB), path)

    token = uuid.uuid4().hex
    try:
        unreachable = dict(extra, haproxy_acme_directory_url='https://%s:14000/no-such-directory' % CA)
        rc, failures = helpers.playbook_failures('molecule/nginx_acme/converge.yml', '--limit', LB,
                                                 '-e', json.dumps(unreachable))
        assert rc != 0 and any('renewal of late (rsa) failed' in msg for _h, _t, msg in failures), failures
        assert get('/') == '503' and get('/cart?x=1') == '503'
        assert get('/.well-known/acme-challenge/%s' % token) == '200'
        assert ca.check_output('curl -s -m 5 -H %s http://%s:8088/.well-known/acme-challenge/%s',
                               'Host: %s' % late, helpers.ip_of(LB), token) == '%s.%s' % (token, thumbprint(LB))
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', LB, '-e', json.dumps(extra))
        assert run.returncode == 0, run.stdout[-4000:]
        assert get('/') == '301' and get('/.well-known/acme-challenge/%s' % token) == '200'
    finally:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', LB)
    assert run.returncode == 0, run.stdout[-4000:]
    assert ca.run('curl -s -m 5 http://%s:8088/', helpers.ip_of(LB)).rc != 0      # the frontend is gone again


def test_haproxy_and_nginx_acme_share_a_host_and_one_renewal_serves_both():
    """The nginx_acme role on the balancer beside HAProxy's own certificates: each role writes its own renewal data
    file and neither run undoes the other's (a second run of each changes nothing); the unit alone, forced, renews
    the certificates of both in one run, swapping HAProxy's in and reloading nginx. The control: with nginx_acme's
    data file away (as when one role's run overwrote the other's), the same run leaves nginx's certificate as it
    was."""
    late, data_dir = 'late.lb.shop.test', '/etc/opsnotes-acme-renew.d'
    extra = json.dumps({'lb_extra_challenge_domains': [late]})
    nginx_bundle = '/etc/ssl/opsnotes-acme/shared/%s.pem'

    def nginx_served():
        run = ca.run('echo | timeout 10 openssl s_client -connect %s:8444 -servername %s -verify_return_error '
                     '-CAfile %s 2>/dev/null | openssl x509 -noout -serial', helpers.ip_of(LB), late, ROOT_PEM)
        return int(run.stdout.strip().split('=')[1], 16) if run.stdout.startswith('serial=') else None

    def changed(run):
        return re.findall(r'%s\s*: ok=\d+\s+changed=(\d+)' % LB, re.sub(r'\x1b\[[0-9;]*m', '', run.stdout))

    try:
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', LB, '-e', extra)
        assert run.returncode == 0, run.stdout[-4000:]
        run = helpers.ansible_playbook('molecule/nginx_acme/shared_host.yml')
        assert run.returncode == 0, run.stdout[-4000:]
        assert lb.check_output('ls %s', data_dir).split() == ['haproxy.conf', 'nginx_acme.conf']
        assert not lb.file('/etc/opsnotes-acme-renew.conf').exists
        for playbook in ('molecule/nginx_acme/converge.yml', 'molecule/nginx_acme/shared_host.yml'):
            run = helpers.ansible_playbook(playbook, '--limit', LB, '-e', extra)
            assert run.returncode == 0 and changed(run) == ['0'], (playbook, changed(run), run.stdout[-3000:])
        old = {kind: bundle_serial(kind) for kind in SIGALGS}
        old_nginx = nginx_served()
        assert old_nginx == int(lb.check_output('openssl x509 -in %s -noout -serial', nginx_bundle % 'ecdsa')
                                .split('=')[1], 16)
        rc, log = helpers.renew_unit(lb, force=True)
        assert rc == 0 and 'renewed: 4, failed: 0' in log, log
        for kind in SIGALGS:
            assert bundle_serial(kind) != old[kind] and served('-sigalgs', SIGALGS[kind]) == bundle_serial(kind)
        new_nginx = nginx_served()
        assert new_nginx not in (None, old_nginx), (old_nginx, new_nginx)
        # The control: nginx_acme's data file away, the same forced run renews HAProxy's only.
        lb.check_output('mv %s/nginx_acme.conf /root/nginx_acme.conf', data_dir)
        rc, log = helpers.renew_unit(lb, force=True)
        assert rc == 0 and 'renewed: 2, failed: 0' in log, log
        assert nginx_served() == new_nginx
    finally:
        lb.run('test -e /root/nginx_acme.conf && mv /root/nginx_acme.conf %s/', data_dir)
        lb.run('systemctl disable --now nginx; rm -f %s/nginx_acme.conf', data_dir)
        run = helpers.ansible_playbook('molecule/nginx_acme/converge.yml', '--limit', LB)
    assert run.returncode == 0, run.stdout[-4000:]
