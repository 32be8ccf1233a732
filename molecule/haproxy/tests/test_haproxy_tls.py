# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HAProxy terminating TLS, proven with real handshakes: the certificate per key type, the protocol floor, the
redirect and the ACME challenge answer, HSTS, Mozilla's profile judged by sslyze, and a renewed certificate
swapped in without a reload (same workers, a held connection untouched)."""

from __future__ import annotations

import json
import re
import time
import uuid

import helpers
import pytest

LB, CLIENT = 'opsnotes-hap-lb', 'opsnotes-hap-client'
JOURNAL_HOSTS = [LB]
CERTS = '/etc/haproxy/tls certs/www.example.test.%s.pem'
THUMBPRINT = 'opsnotes-molecule-haproxy-thumbprint-012345'
# What the client offers to get one key type (signature algorithms), per TLS version.
SIGALGS = {'ecdsa': 'ECDSA+SHA256', 'rsa': 'RSA-PSS+SHA256:RSA+SHA256'}
client = helpers.host(CLIENT)
lb = helpers.host(LB)


def file_fingerprint(key_type):
    return lb.check_output('openssl x509 -in %s -noout -fingerprint -sha1', CERTS % key_type).split('=')[1].replace(
        ':', '')


def file_serial(key_type):
    return lb.check_output('openssl x509 -in %s -noout -serial', CERTS % key_type).split('=')[1]


def handshake(*flags, port=443):
    """The client's openssl s_client against the balancer: (served serial or None, its output)."""
    run = client.run('echo | timeout 10 openssl s_client -connect %s:%s -servername www.example.test ' + ' '.join(flags)
                     + ' 2>&1 | tee /tmp/s_client.out | openssl x509 -noout -serial', LB, str(port))
    out = client.file('/tmp/s_client.out').content_string
    serial = run.stdout.strip().split('=')[1] if run.stdout.startswith('serial=') else None
    return serial, out


def workers():
    """The PIDs of HAProxy's master and workers: a reload starts a new worker, a hot swap does not."""
    main = lb.check_output('systemctl show -p MainPID --value haproxy')
    return {main} | set(lb.check_output('pgrep -P %s', main).split())


def converge(*args):
    run = helpers.ansible_playbook('molecule/haproxy/converge.yml', *args)
    assert run.returncode == 0, run.stdout[-4000:]
    recap = re.findall(r'%s\s*: ok=\d+\s+changed=(\d+)' % LB, re.sub(r'\x1b\[[0-9;]*m', '', run.stdout))
    return int(recap[0])


@pytest.mark.parametrize('version', ['-tls1_2', '-tls1_3'])
@pytest.mark.parametrize('key_type', ['ecdsa', 'rsa'])
def test_each_client_gets_the_certificate_of_the_key_type_it_supports(version, key_type):
    """An ECDSA-only client gets the ECDSA certificate, an RSA-only client the RSA one: two different serials, so
    a balancer that served one certificate to everyone fails one of the cases."""
    serial, out = handshake(version, '-sigalgs', SIGALGS[key_type])
    assert serial == file_serial(key_type), out[-2000:]
    assert file_serial('ecdsa') != file_serial('rsa')


def test_tls_1_1_is_refused_where_the_client_can_offer_it():
    """TLS 1.1 (with the client's security level lowered, so it can offer it) ends in a protocol alert, TLS 1.2
    and 1.3 complete. The control: the same TLS 1.1 client against openssl s_server on the balancer, with the
    same certificate, completes its handshake: the client can speak TLS 1.1, HAProxy refuses it."""
    tls11 = ('-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')
    serial, out = handshake(*tls11)
    assert serial is None and 'alert protocol version' in out, out[-2000:]
    assert handshake('-tls1_2')[0] and handshake('-tls1_3')[0]
    lb.check_output("nohup sh -c 'timeout 20 openssl s_server -accept 4431 -tls1_1 -cipher DEFAULT@SECLEVEL=0 "
                    "-www -cert %s -key %s >/dev/null 2>&1' >/dev/null 2>&1 &", '/root/opsnotes-test-ca/ecdsa.crt',
                    '/root/opsnotes-test-ca/ecdsa.key')
    time.sleep(1)
    serial, out = handshake(*tls11, port=4431)
    assert serial == file_serial('ecdsa'), out[-2000:]


def get(url, host):
    """(status, headers in lower case, body) of a curl request from the client with the Host header ``host``."""
    out = client.check_output('curl -sk -m 5 -D - -H %s %s', 'Host: ' + host, url)
    head, _sep, body = out.replace('\r\n', '\n').partition('\n\n')
    return head.split()[1], head.lower(), body


def test_plain_http_is_redirected_except_the_challenge_which_haproxy_answers():
    """Port 8088 (plain): a page is redirected to https with a 301; a challenge token is answered by HAProxy with
    "<token>.<thumbprint>", no backend involved. A path that is not a well-formed token gets no answer from HAProxy
    and is not redirected (the backend gets it). The control: fe_web, without acme_challenge, passes the same
    token request to its backend, which echoes its own name."""
    status, head, _body = get('http://%s:8088/shop/cart?x=1' % LB, 'www.example.test')
    assert status == '301' and 'location: https://www.example.test/shop/cart?x=1' in head
    token = 'tok_' + uuid.uuid4().hex + '-Z'
    status, head, body = get('http://%s:8088/.well-known/acme-challenge/%s' % (LB, token), 'example.test')
    assert (status, body) == ('200', '%s.%s' % (token, THUMBPRINT)) and 'content-type: text/plain' in head
    status, _head, body = get('http://%s:8088/.well-known/acme-challenge/a.b' % LB, 'example.test')
    assert status == '200' and body.startswith('opsnotes-hap-www') and THUMBPRINT not in body
    status, _head, body = get('http://%s/.well-known/acme-challenge/%s' % (LB, token), 'www.example.test')
    assert status == '200' and THUMBPRINT not in body and body.startswith('opsnotes-hap-')


def test_hsts_is_sent_over_tls_only():
    _status, head, _body = get('https://%s/' % LB, 'www.example.test')
    assert 'strict-transport-security: max-age=600' in head
    _status, head, _body = get('http://%s:8088/' % LB, 'www.example.test')
    assert 'strict-transport-security' not in head


def test_h2_is_offered_by_alpn():
    assert 'ALPN protocol: h2' in handshake('-alpn', 'h2,http/1.1')[1]


def test_the_modern_profile_allows_tls13_only():
    """haproxy_tls_profile: modern. The role's own verify judges the bind against it and passes; a TLS 1.2 client
    is refused, TLS 1.3 completes. Back on intermediate, TLS 1.2 completes again (the control)."""
    served = {file_serial('ecdsa'), file_serial('rsa')}
    assert converge('-e', 'haproxy_tls_profile=modern') == 1
    try:
        assert handshake('-tls1_2')[0] is None and handshake('-tls1_3')[0] in served
    finally:
        assert converge() == 1
    assert handshake('-tls1_2')[0] in served


def test_a_third_party_judge_finds_the_mozilla_intermediate_profile():
    """sslyze against the balancer: only the test CA's finding may remain (its root is in no trust store). The
    control: with the role's curves taken off the bind line, sslyze reports HAProxy's default groups."""
    address = helpers.ip_of(LB)
    findings = helpers.sslyze(address, 443, 'www.example.test')
    assert set(findings) <= {'certificate_path_validation'}, findings
    lb.check_output("sed -i 's/ curves [^ ]*$//' /etc/haproxy/haproxy.cfg && echo '# edited' >> /etc/haproxy/haproxy.cfg"
                    " && systemctl reload haproxy")
    try:
        time.sleep(1)
        loose = helpers.sslyze(address, 443, 'www.example.test')
    finally:
        assert converge() >= 1
    assert 'tls_curves' in loose, loose


def check(**args):
    return helpers.ansible_host(LB).ansible('opsnotes.edge.haproxy_check', json.dumps(dict(
        socket='/run/haproxy/opsnotes-admin.sock', tls_policy='intermediate', **args)), check=False)


def test_the_check_proves_what_is_served_and_sees_a_renewal_not_swapped_in():
    """haproxy_check: each certificate is the one in memory and the one a client of its key type gets, for each of
    its names, and the bind keeps to Mozilla's profile. The control: a renewal written behind the role's back
    (no run) is reported twice, in memory and on the wire; the role's next run swaps it in and the check passes."""
    result = check()
    assert result['ok'], result['failures']
    assert sorted((c['key_type'], c['bind']) for c in result['tls']) == [('ecdsa', '*:443'), ('rsa', '*:443')]
    for entry in result['tls']:
        assert int(entry['memory_serial'], 16) == int(entry['serial'], 16) and entry['days_left'] >= 4
        served = {(row['name'], row['matches']) for row in entry['served']}
        assert served == {('www.example.test', True), ('example.test', True)}
    assert [(p['frontend'], p['ok']) for p in result['tls_policies']] == [('fe_tls', True)]
    new = lb.check_output('/usr/local/bin/opsnotes-test-cert.sh rsa')
    result = check(fail_on_problem=False)
    rsa = [c for c in result['tls'] if c['key_type'] == 'rsa'][0]
    assert not result['ok'] and int(rsa['serial'], 16) == int(new, 16), result['failures']
    assert any('in memory, not the file' in p for p in rsa['problems']), rsa['problems']
    assert any('an RSA-only client is served serial' in p for p in rsa['problems']), rsa['problems']
    assert converge() == 1
    assert check()['ok']


def test_a_renewed_certificate_is_swapped_in_without_a_reload():
    """A renewal writes a new ECDSA certificate (same key, new serial). Check mode reports the swap and changes
    nothing; the run swaps it in over the admin socket: new handshakes get the new serial, HAProxy's processes
    are the same, and a TLS connection held open across the swap goes on answering (with the old certificate,
    which its handshake got). The next run changes nothing."""
    before = workers()
    old = handshake('-sigalgs', SIGALGS['ecdsa'])[0]
    go, out = helpers.held_connection(client, LB, 443, 'www.example.test')
    new = lb.check_output('/usr/local/bin/opsnotes-test-cert.sh ecdsa')
    assert new != old
    assert converge('--check', '--diff') == 1 and handshake('-sigalgs', SIGALGS['ecdsa'])[0] == old
    assert converge() == 1
    assert handshake('-sigalgs', SIGALGS['ecdsa'])[0] == new
    assert workers() == before
    result = helpers.held_result(client, go, out)
    assert result['results'] and set(result['results']) == {'200'} and len(result['results']) >= 4, result
    assert result['fingerprint'] != file_fingerprint('ecdsa')        # it kept the certificate of its handshake
    assert converge() == 0


def test_negative_control_a_reload_starts_new_workers_and_ends_the_held_connection():
    """The same renewal deployed by a reload: the new serial is served too, but HAProxy has a new worker, and the
    held connection is closed by the old one as it stops. The test above sees both."""
    before = workers()
    go, out = helpers.held_connection(client, LB, 443, 'www.example.test')
    new = lb.check_output('/usr/local/bin/opsnotes-test-cert.sh ecdsa')
    lb.check_output('systemctl reload haproxy')
    time.sleep(1)
    assert handshake('-sigalgs', SIGALGS['ecdsa'])[0] == new
    assert workers() != before
    result = helpers.held_result(client, go, out)
    assert result['results'][-1] != '200', result


def test_check_mode_adding_acme_certificates_to_a_running_haproxy_changes_nothing():
    """ACME sites added to this running HAProxy, in check mode: no account key exists yet, the run reports what it
    would change (keys, renewal unit, configuration, issuance) and passes; the host is exactly as before. With the
    ACME packages already there (installed first), check mode goes the whole way: the account's thumbprint is not
    known yet, and the configuration it would install is still linted and diffed."""
    lb.check_output('DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-cryptography '
                    'ca-certificates >/dev/null')
    acme = json.dumps({'haproxy_acme_sites': [{'name': 'www', 'domains': ['www.example.test']}],
                       'haproxy_acme_terms_agreed': True,
                       'haproxy_acme_directory_url': 'https://acme.invalid/directory'})
    snapshot = 'md5sum /etc/haproxy/haproxy.cfg; ls /etc/ssl/opsnotes-acme /usr/local/sbin/opsnotes-acme-renew ' \
               '/etc/systemd/system/opsnotes-acme-renew.service 2>&1; systemctl show -p MainPID --value haproxy'
    before = lb.run(snapshot).stdout
    assert 'No such file' in before
    assert converge('--check', '--diff', '-e', acme) > 0
    assert lb.run(snapshot).stdout == before
