# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_runtime as r


def test_command_and_parsers(fake_haproxy):
    stats = r.parse_stat(r.command(fake_haproxy.path, 'show stat'))
    expected = [('fe_web', 'FRONTEND', 'OPEN'), ('be_www', 'www1', 'UP')]
    assert [(s['pxname'], s['svname'], s['status']) for s in stats][:2] == expected
    rows = r.parse_servers_state(r.command(fake_haproxy.path, 'show servers state be_www'))
    expected = [('be_www', 'www1', '1'), ('be_www', 'www2', '1')]
    assert [(row['be_name'], row['srv_name'], row['srv_uweight']) for row in rows] == expected
    assert fake_haproxy.commands == ['show stat', 'show servers state be_www']


@pytest.mark.parametrize('admin, state', [(0, 'ready'), (0x01, 'maint'), (0x02, 'maint'), (0x20, 'maint'),
                                          (0x08, 'drain'), (0x10, 'drain'), (0x09, 'maint')])
def test_admin_state(admin, state):
    assert r.admin_state({'srv_admin_state': str(admin)}) == state


def test_missing_socket_is_a_clear_error(tmp_path):
    with pytest.raises(r.RuntimeError_, match='cannot connect to the HAProxy admin socket .*nope.sock'):
        r.command(str(tmp_path / 'nope.sock'), 'show stat')


def test_check_answer():
    r.check_answer('\n')
    with pytest.raises(r.RuntimeError_, match='No such server'):
        r.check_answer('No such server.\n')


def test_parse_servers_state_empty():
    assert r.parse_servers_state('1\n') == []
    assert r.parse_stat('') == []


STATE = ('1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
         'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state '
         'srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n'
         '3 be_web 1 web1 172.29.213.2 2 8 1 1 5 6 3 4 6 0 0 0 Web-1.example.org 80 -\n'
         '3 be_web 2 web2 172.29.213.3 2 0 1 1 5 6 3 4 6 0 0 0 - 80 -\n'
         '3 be_web 3 web3 2001:db8::3 2 0 1 1 5 6 3 4 6 0 0 0 - 80 -\n'
         '4 be_old 1 gone 10.0.0.9 2 0 1 1 5 6 3 4 6 0 0 0 - 80 -\n')


def servers(*entries):
    return [dict(name='be_web', servers=[dict(name=n, address=a, port=p) for n, a, p in entries])]


def test_state_for_keeps_unchanged_servers_and_their_drain():
    text, dropped = r.state_for(STATE, servers(('web1', 'web-1.example.org.', 80), ('web2', '172.29.213.3', 80),
                                               ('web3', '2001:DB8:0::3', '80')))
    assert text == STATE and dropped == []
    assert [r.admin_state(row) for row in r.parse_servers_state(text)] == ['drain', 'ready', 'ready', 'ready']


@pytest.mark.parametrize('entries, dropped', [
    ((('web1', 'web-1.example.org', 8080),), ['be_web/web1: Web-1.example.org:80 is now web-1.example.org:8080']),
    ((('web1', 'web-2.example.org', 80),), ['be_web/web1: Web-1.example.org:80 is now web-2.example.org:80']),
    ((('web2', '172.29.213.4', 80),), ['be_web/web2: 172.29.213.3:80 is now 172.29.213.4:80']),
    ((('web2', 'web-2.example.org', 80),), ['be_web/web2: 172.29.213.3:80 is now web-2.example.org:80']),
    ((('web3', '2001:db8::3', 443),), ['be_web/web3: 2001:db8::3:80 is now 2001:db8::3:443']),
])
def test_state_for_drops_a_server_whose_address_or_port_changed(entries, dropped):
    text, got = r.state_for(STATE, servers(*entries))
    assert got == dropped
    name = dropped[0].split('/')[1].split(':')[0]
    assert [row['srv_name'] for row in r.parse_servers_state(text)] == [
        n for n in ('web1', 'web2', 'web3', 'gone') if n != name]
    assert text.startswith('1\n# be_id ')


def test_state_for_without_backends_or_rows():
    assert r.state_for(STATE, None) == (STATE, [])
    assert r.state_for('', []) == ('\n', [])


# --- TLS certificates ------------------------------------------------------------------------------------------

def leaf(kind='ecdsa'):
    import pki
    key = pki.key(kind)
    return key, pki.cert(key, 'www.example.test', names=['www.example.test'])


def test_cli_word_escapes_what_the_runtime_api_splits_on():
    assert r.cli_word('/etc/haproxy/certs/www.pem') == '/etc/haproxy/certs/www.pem'
    assert r.cli_word('/etc/a b;c\\d') == '/etc/a\\ b\\;c\\\\d'


def test_pem_fingerprint_is_the_first_certificates_sha1():
    import pki
    from cryptography.hazmat.primitives import hashes
    key, cert = leaf()
    other = leaf('rsa')[1]
    text = pki.pem(cert, other) + pki.key_pem(key)
    assert r.pem_fingerprint(text) == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert r.pem_fingerprint(pki.key_pem(key)) is None
    assert r.pem_fingerprint('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n') is None


def test_certificate_payload_adds_the_key_file_when_the_pem_has_no_key(tmp_path):
    import pki
    key, cert = leaf()
    (tmp_path / 'a.pem').write_text(pki.pem(cert) + pki.key_pem(key))
    assert r.certificate_payload(str(tmp_path / 'a.pem')) == pki.pem(cert) + pki.key_pem(key)
    (tmp_path / 'b.pem').write_text(pki.pem(cert))
    (tmp_path / 'b.pem.key').write_text(pki.key_pem(key))
    assert r.certificate_payload(str(tmp_path / 'b.pem')) == pki.pem(cert) + pki.key_pem(key)


def test_parse_ssl_cert():
    fields = r.parse_ssl_cert('Filename: /x.pem\nStatus: Used\nSerial: 0B\nOCSP Response Key:\nSHA1 FingerPrint: AB\n')
    assert fields == {'Filename': '/x.pem', 'Status': 'Used', 'Serial': '0B', 'OCSP Response Key': '',
                      'SHA1 FingerPrint': 'AB'}


def test_swap_serves_the_new_certificate_and_refuses_a_foreign_key(fake_haproxy):
    import pki
    from cryptography.hazmat.primitives import hashes
    key, cert = leaf()
    fake_haproxy.load_certificate('/c/www.pem', pki.pem(cert) + pki.key_pem(key))
    served = r.served_certificate(fake_haproxy.path, '/c/www.pem')
    assert served['fingerprint'] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert served['serial'] == '%X' % cert.serial_number
    renewed = pki.cert(key, 'www.example.test', names=['www.example.test'])
    r.swap_certificate(fake_haproxy.path, '/c/www.pem', pki.pem(renewed) + pki.key_pem(key))
    assert r.served_certificate(fake_haproxy.path, '/c/www.pem')['serial'] == '%X' % renewed.serial_number
    # A key that is not the certificate's: HAProxy refuses the commit; the transaction is aborted, the old one stays.
    with pytest.raises(r.RuntimeError_, match='commit ssl cert /c/www.pem: .*inconsistencies'):
        r.swap_certificate(fake_haproxy.path, '/c/www.pem', pki.pem(leaf()[1]) + pki.key_pem(key))
    assert fake_haproxy.commands[-1] == 'abort ssl cert /c/www.pem' and r.open_transaction(fake_haproxy.path) is None
    assert r.served_certificate(fake_haproxy.path, '/c/www.pem')['serial'] == '%X' % renewed.serial_number
    with pytest.raises(r.RuntimeError_, match='show ssl cert /c/none.pem: Can.t replace'):
        r.served_certificate(fake_haproxy.path, '/c/none.pem')
    with pytest.raises(r.RuntimeError_, match='set ssl cert /c/none.pem: Can.t replace'):
        r.swap_certificate(fake_haproxy.path, '/c/none.pem', pki.pem(renewed))


def test_open_transaction(fake_haproxy):
    fake_haproxy.load_certificate('/c/www.pem', 'x')
    assert r.open_transaction(fake_haproxy.path) is None
    r.command(fake_haproxy.path, 'set ssl cert /c/www.pem <<\nx\n')
    assert r.open_transaction(fake_haproxy.path) == '/c/www.pem'


def test_sync_swaps_only_what_differs_and_aborts_its_own_stale_transaction(fake_haproxy, tmp_path):
    import pki
    key, cert = leaf()
    renewed = pki.cert(key, 'www.example.test', names=['www.example.test'])
    current, stale = str(tmp_path / 'current.pem'), str(tmp_path / 'renewed.pem')
    (tmp_path / 'current.pem').write_text(pki.pem(cert) + pki.key_pem(key))
    (tmp_path / 'renewed.pem').write_text(pki.pem(renewed))
    (tmp_path / 'renewed.pem.key').write_text(pki.key_pem(key))
    fake_haproxy.load_certificate(current, pki.pem(cert) + pki.key_pem(key))
    fake_haproxy.load_certificate(stale, pki.pem(cert) + pki.key_pem(key))
    # An interrupted swap of one of these files left its transaction open.
    r.command(fake_haproxy.path, 'set ssl cert %s <<\nold attempt\n' % stale)
    planned = r.sync_certificates(fake_haproxy.path, [current, stale], apply=False)
    assert [e['swapped'] for e in planned] == [False, True] and r.open_transaction(fake_haproxy.path) == stale
    done = r.sync_certificates(fake_haproxy.path, [current, stale])
    assert [e['swapped'] for e in done] == [False, True]
    assert done[1]['served_serial'] == '%X' % renewed.serial_number and r.open_transaction(fake_haproxy.path) is None
    assert not any(e['swapped'] for e in r.sync_certificates(fake_haproxy.path, [current, stale]))


def test_sync_stops_at_a_foreign_transaction_and_names_unloaded_or_unreadable_files(fake_haproxy, tmp_path):
    import pki
    key, cert = leaf()
    path = str(tmp_path / 'www.pem')
    (tmp_path / 'www.pem').write_text(pki.pem(pki.cert(key, 'www.example.test')) + pki.key_pem(key))
    fake_haproxy.load_certificate(path, pki.pem(cert) + pki.key_pem(key))
    fake_haproxy.load_certificate('/c/other.pem', 'x')
    r.command(fake_haproxy.path, 'set ssl cert /c/other.pem <<\nx\n')
    with pytest.raises(r.RuntimeError_, match='transaction open for /c/other.pem.*%s was not swapped' % path):
        r.sync_certificates(fake_haproxy.path, [path])
    assert r.served_certificate(fake_haproxy.path, path)['serial'] == '%X' % cert.serial_number
    # Without a swap to make, another operation's transaction is none of this call's business.
    assert r.sync_certificates(fake_haproxy.path, [path], apply=False)[0]['swapped']
    r.command(fake_haproxy.path, 'abort ssl cert /c/other.pem')
    (tmp_path / 'new.pem').write_text(pki.pem(cert) + pki.key_pem(key))
    with pytest.raises(r.NotLoaded, match='HAProxy holds no certificate for %s/new.pem' % tmp_path):
        r.sync_certificates(fake_haproxy.path, [str(tmp_path / 'new.pem')])
    with pytest.raises(r.RuntimeError_, match='cannot read the certificate file /c/missing.pem: No such file'):
        r.sync_certificates(fake_haproxy.path, ['/c/missing.pem'])
    (tmp_path / 'junk.pem').write_text('junk')
    with pytest.raises(r.RuntimeError_, match='junk.pem holds no PEM certificate'):
        r.sync_certificates(fake_haproxy.path, [str(tmp_path / 'junk.pem')])


def test_the_program_swaps_each_file_and_says_what_it_did(fake_haproxy, tmp_path):
    import io

    import pki
    key, cert = leaf()
    renewed = pki.cert(key, 'www.example.test', names=['www.example.test'])
    (tmp_path / 'www.pem').write_text(pki.pem(renewed) + pki.key_pem(key))
    (tmp_path / 'new.pem').write_text(pki.pem(renewed) + pki.key_pem(key))
    www = str(tmp_path / 'www.pem')
    fake_haproxy.load_certificate(www, pki.pem(cert) + pki.key_pem(key))
    out, err = io.StringIO(), io.StringIO()
    status = r.main(['swap', fake_haproxy.path, www, str(tmp_path / 'new.pem'), '/c/missing.pem'], out, err)
    lines = out.getvalue().splitlines()
    assert status == 1 and len(lines) == 2
    assert lines[0] == '%s: swapped into the running HAProxy without a reload, serial %X' % (www, renewed.serial_number)
    assert lines[1].startswith('%s/new.pem: not loaded by the running HAProxy' % tmp_path)
    assert err.getvalue().startswith('/c/missing.pem: cannot read the certificate file')
    out = io.StringIO()
    assert r.main(['swap', fake_haproxy.path, www], out, err) == 0
    assert out.getvalue() == '%s: already served, serial %X\n' % (www, renewed.serial_number)
    err = io.StringIO()
    assert r.main(['show'], out, err) == 2 and err.getvalue().startswith('usage:')


def test_pem_fingerprints_are_every_certificate_of_a_bundle():
    import pki
    from cryptography.hazmat.primitives import hashes
    first, second = (pki.cert(pki.key('ecdsa'), name, ca=True) for name in ('One', 'Two'))
    text = 'a comment\n' + pki.pem(first) + pki.pem(second) + pki.key_pem(pki.key('ecdsa'))
    assert r.pem_fingerprints(text) == {c.fingerprint(hashes.SHA1()).hex().upper() for c in (first, second)}
    assert r.pem_fingerprints('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n') == set()
    assert r.pem_fingerprints('') == r.pem_fingerprints(None) == set()


# 'show ssl ca-file PATH' as HAProxy 2.6 (Debian 12) answered it for the system bundle (two of its entries), and for
# a file it does not hold.
CA_FILE_ANSWER = '\n'.join([
    'Filename: /etc/ssl/certs/ca-certificates.crt',
    'Status: Unused',
    ' ',
    'Certificate #1:',
    'Serial: 715D4F32C072288476B815AD8FF0D96854C25DD0',
    'notBefore: Dec  6 01:17:12 2026 GMT',
    'notAfter: Jan  5 01:17:12 2027 GMT',
    'Subject Alternative Name: DNS:opsnotes-lab-acme',
    'Algorithm: RSA2048',
    'SHA1 FingerPrint: 4B7D5F0F7673BF0C4B99CB31F3B40CE23D24AC07',
    'Subject: /CN=opsnotes-lab-acme',
    'Issuer: /CN=opsnotes-lab-acme',
    ' ',
    'Certificate #2:',
    'Serial: FEDCE3010FC948FF',
    'notBefore: Jun 29 15:13:05 2007 GMT',
    'notAfter: Jun 29 15:13:05 2027 GMT',
    'Subject Alternative Name: ',
    'Algorithm: RSA2048',
    'SHA1 FingerPrint: B12E13634586A46F1AB2606837582DC4ACFD9497',
    'Subject: /C=FR/O=Dhimyotis/CN=Certigna',
    'Issuer: /C=FR/O=Dhimyotis/CN=Certigna',
    '',
    '',
])


def test_loaded_ca_file_reads_haproxys_answer(monkeypatch):
    answers = {'show ssl ca-file /etc/ssl/certs/ca-certificates.crt': CA_FILE_ANSWER,
               'show ssl ca-file /etc/a\\ b.pem': "Can't display the CA file : Not found!\n\n"}
    monkeypatch.setattr(r, 'command', lambda path, text: answers[text])
    assert r.loaded_ca_file('/s', '/etc/ssl/certs/ca-certificates.crt') == {
        '4B7D5F0F7673BF0C4B99CB31F3B40CE23D24AC07', 'B12E13634586A46F1AB2606837582DC4ACFD9497'}
    assert r.loaded_ca_file('/s', '/etc/a b.pem') is None


def test_stale_ca_files_are_those_whose_certificates_differ(fake_haproxy, tmp_path):
    import pki
    one, two = (pki.pem(pki.cert(pki.key('ecdsa'), name, ca=True)) for name in ('One', 'Two'))
    same, grown, unknown, missing = (str(tmp_path / name) for name in ('same.pem', 'grown.pem', 'unknown.pem', 'gone'))
    for path, text in ((same, one), (grown, one + two), (unknown, one)):
        with open(path, 'w') as handle:
            handle.write(text)
    fake_haproxy.load_ca_file(same, one)
    fake_haproxy.load_ca_file(grown, one)
    fake_haproxy.load_ca_file(missing, one)
    # Order and duplicates within a file do not count; a file HAProxy holds nothing for, or that is gone, is left out.
    assert r.stale_ca_files(fake_haproxy.path, [same, grown, unknown, missing]) == [grown]
    with open(same, 'w') as handle:
        handle.write(one + one)
    assert r.stale_ca_files(fake_haproxy.path, [same]) == []
