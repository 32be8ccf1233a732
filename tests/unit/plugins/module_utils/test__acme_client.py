# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ACME client of _acme_proto (the renewal script's engine) against a fake CA that verifies every JWS and
counts orders: account (with External Account Binding), order with profile and replaces, http-01 through the
responder, finalize, download; a bad nonce retried; the renewal decision by the CA's window (ARI) or by lifetime,
against fixed clocks; and the program's command line as the renewal script runs it."""

from __future__ import annotations

import datetime
import io
import os

import fake_acme
import pki
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_proto as p

NAMES = ['shop.test', 'www.shop.test']


def csr_for(key, names):
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, __import__('cryptography.hazmat.primitives.hashes', fromlist=['SHA256']).SHA256()))


def publisher(ca):
    calls = []

    def respond(domain, token, answer):
        ca.published[token] = answer
        calls.append(domain)
        return lambda: ca.published.pop(token, None)
    return respond, calls


@pytest.mark.parametrize('account_key', [rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1()),
                                         ec.generate_private_key(ec.SECP384R1())], ids=['RS256', 'ES256', 'ES384'])
def test_an_order_is_placed_validated_finalized_and_downloaded(account_key):
    ca = fake_acme.FakeCA()
    site_key = ec.generate_private_key(ec.SECP384R1())
    with ca.serve() as server:
        client = p.Client('http://127.0.0.1:%d/dir' % server.server_port, account_key, sleep=lambda s: None)
        kid = client.register('mailto:ops@shop.test')
        assert client.register() == kid and len(ca.accounts) == 1     # the same key finds the same account
        respond, calls = publisher(ca)
        ca.bad_nonce_once = True                                       # retried with the CA's fresh nonce
        pem = client.order(csr_for(site_key, NAMES).public_bytes(serialization.Encoding.DER), NAMES, respond)
    chain = x509.load_pem_x509_certificates(pem.encode())
    assert len(chain) == 2 and chain[0].public_key().public_numbers() == site_key.public_key().public_numbers()
    assert sorted(calls) == NAMES and ca.published == {}               # every answer taken away again
    assert len(ca.orders) == 1 and 'replaces' not in ca.orders[0] and 'profile' not in ca.orders[0]
    assert ca.accounts[kid]['payload']['contact'] == ['mailto:ops@shop.test']


def test_a_failed_validation_names_the_domain_and_the_ca_s_reason():
    ca = fake_acme.FakeCA()
    with ca.serve() as server:
        client = p.Client('http://127.0.0.1:%d/dir' % server.server_port, rsa.generate_private_key(65537, 2048),
                          sleep=lambda s: None)
        client.register()
        with pytest.raises(p.AcmeError, match=r"shop.test: the CA could not validate it: unauthorized got 'wrong'"):
            client.order(b'', ['shop.test'], lambda d, t, a: (ca.published.update({t: 'wrong'}), lambda: None)[1])


def test_profile_and_replaces_reach_the_order_and_an_unknown_profile_is_refused_before():
    ca = fake_acme.FakeCA(profiles={'classic': 'the old one', 'shortlived': '160 hours'})
    key = ec.generate_private_key(ec.SECP384R1())
    der = csr_for(key, NAMES).public_bytes(serialization.Encoding.DER)
    with ca.serve() as server:
        client = p.Client('http://127.0.0.1:%d/dir' % server.server_port, rsa.generate_private_key(65537, 2048),
                          sleep=lambda s: None)
        client.register()
        with pytest.raises(p.AcmeError, match=r"the CA offers no profile 'tlsserver' \(it offers: classic, shortlived\)"):
            client.order(der, NAMES, publisher(ca)[0], profile='tlsserver')
        assert ca.orders == []
        pem = client.order(der, NAMES, publisher(ca)[0], profile='shortlived', replaces='AAA.BBB')
        assert ca.orders[-1]['profile'] == 'shortlived' and ca.orders[-1]['replaces'] == 'AAA.BBB'
        leaf = x509.load_pem_x509_certificates(pem.encode())[0]
        assert p._validity(leaf)[1] - p._validity(leaf)[0] < datetime.timedelta(days=10)
        # A CA that refuses the replacement (already replaced): ordered once more without it, and said so.
        ca.refuse_replaces = True
        said = []
        client.order(der, NAMES, publisher(ca)[0], replaces='AAA.BBB', log=said.append)
        assert 'replaces' not in ca.orders[-1] and 'alreadyReplaced' in said[0]


def test_external_account_binding_is_sent_and_required():
    hmac_key = p.b64url(os.urandom(32))
    ca = fake_acme.FakeCA(eab=('kid-1', hmac_key))
    with ca.serve() as server:
        url = 'http://127.0.0.1:%d/dir' % server.server_port
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = p.Client(url, client_key)
        with pytest.raises(p.AcmeError, match='requires External Account Binding for a new account'):
            client.register()
        assert not ca.accounts
        kid = client.register(eab_kid='kid-1', eab_hmac_key=hmac_key)       # the fake checks the MAC and the JWK
        # The account exists now: the same key finds it without the binding (another consumer on the host).
        again = p.Client(url, client_key)
        assert again.register() == kid and len(ca.accounts) == 1


def test_the_cert_id_is_the_authority_key_identifier_and_the_serial():
    ca = pki.Pki()
    _key, leaf = ca.leaf('ecdsa', NAMES)
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    serial = leaf.serial_number.to_bytes((leaf.serial_number.bit_length() + 8) // 8, 'big')
    assert p.cert_id(leaf) == '%s.%s' % (p.b64url(aki), p.b64url(serial))
    # RFC 9773 appendix A: serial 0x87654321 (top bit set) is DER-encoded with a leading zero octet.
    assert p.b64url((0x87654321).to_bytes((0x87654321 .bit_length() + 8) // 8, 'big')) == 'AIdlQyE'


def test_times_in_rfc_3339_as_go_writes_them():
    assert p.parse_time('2026-12-06T04:35:17.123456789Z') == datetime.datetime(
        2026, 12, 6, 4, 35, 17, 123456, tzinfo=datetime.timezone.utc)
    assert p.parse_time('2026-12-06T06:35:17+02:00') == datetime.datetime(2026, 12, 6, 4, 35, 17,
                                                                          tzinfo=datetime.timezone.utc)
    with pytest.raises(ValueError):
        p.parse_time('yesterday')


def write_site(tmp_path, days=(-1, 90)):
    ca = pki.Pki()
    key, leaf = ca.leaf('ecdsa', NAMES, days=days)
    (tmp_path / 'c.pem').write_text(pki.pem(leaf, ca.inter))
    (tmp_path / 'c.csr').write_bytes(csr_for(key, list(reversed(NAMES))).public_bytes(serialization.Encoding.PEM))
    return leaf, str(tmp_path / 'c.pem'), str(tmp_path / 'c.csr')


class Window(object):
    """A client stand-in whose CA offers ARI with the given window (or none)."""

    def __init__(self, window):
        self.window, self.asked = window, []

    def renewal_info(self, identifier):
        self.asked.append(identifier)
        return self.window


def test_renewal_follows_the_ca_s_window_when_it_offers_one(tmp_path):
    leaf, cert, csr = write_site(tmp_path)
    now = pki.NOW
    start, end = now + datetime.timedelta(days=10), now + datetime.timedelta(days=12)
    at = p.window_time(start, end, p.cert_id(leaf))
    assert start <= at <= end and at == p.window_time(start, end, p.cert_id(leaf))   # fixed per certificate
    client = Window(dict(start=start, end=end, explanation=None))
    assert p.due(cert, csr, 30, client, now=at - datetime.timedelta(seconds=1)) is None
    assert client.asked == [p.cert_id(leaf)]
    why = p.due(cert, csr, 30, client, now=at)
    assert why.startswith('the CA asks for its renewal from ') and 'ARI window' in why
    # A window moved into the past (a mass revocation ahead): due now, though the lifetime says 60 more days.
    revoke = Window(dict(start=now - datetime.timedelta(hours=2), end=now - datetime.timedelta(hours=1),
                         explanation='https://ca.test/incident'))
    assert 'see https://ca.test/incident' in p.due(cert, csr, 30, revoke, now=now)
    # The control: no ARI at this CA, the lifetime decides (a third of 90 days left: not yet).
    assert p.due(cert, csr, 30, Window(None), now=now) is None
    assert p.due(cert, csr, 30, None, now=now + datetime.timedelta(days=60)).startswith('expires ')


def test_short_lifetimes_renew_at_half_and_key_or_name_changes_at_once(tmp_path):
    _leaf, cert, csr = write_site(tmp_path, days=(0, 160 / 24))
    born = pki.NOW
    assert p.due(cert, csr, 30, None, now=born + datetime.timedelta(hours=79)) is None
    assert p.due(cert, csr, 30, None, now=born + datetime.timedelta(hours=81)).startswith('expires ')
    other = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / 'c.csr').write_bytes(csr_for(other, NAMES).public_bytes(serialization.Encoding.PEM))
    assert p.due(cert, csr, 30, None) == "its key is not the CSR's"
    os.unlink(cert)
    assert p.due(cert, csr, 30, None) == 'no readable certificate'


def test_the_program_orders_into_stdout_and_names_a_failure_on_stderr(tmp_path):
    ca = fake_acme.FakeCA(profiles={'tlsserver': '45 days'})
    account = tmp_path / 'account.key'
    account.write_text(pki.key_pem(rsa.generate_private_key(65537, 2048)))
    site_key = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / 'site.csr').write_bytes(csr_for(site_key, NAMES).public_bytes(serialization.Encoding.PEM))
    webroot = tmp_path / 'webroot'
    webroot.mkdir()
    fetched = []

    def fake_get(request, timeout):
        """The self-check: what http://<domain>/.well-known/acme-challenge/<token> answers (the webroot's file);
        and the CA 'validates' through what it answered."""
        token = request.full_url.rsplit('/', 1)[1]
        fetched.append(request.full_url)
        answer = (webroot / token).read_text()
        ca.published[token] = answer
        return io.BytesIO(answer.encode())

    with ca.serve() as server:
        directory = 'http://127.0.0.1:%d/dir' % server.server_port
        real = p.http01_responder

        def responder(webroot_dir, *args, **kwargs):
            return real(webroot_dir, fetch=fake_get)
        p_main = p.main
        out, err = io.StringIO(), io.StringIO()
        try:
            p.http01_responder = responder
            rc = p_main(['order', '--account-key', str(account), '--csr', str(tmp_path / 'site.csr'), '--webroot',
                         str(webroot), '--directory', directory, '--profile', 'tlsserver'], out, err)
        finally:
            p.http01_responder = real
        assert rc == 0, err.getvalue()
        first = out.getvalue()
        assert x509.load_pem_x509_certificates(first.encode())[0].public_key().public_numbers() == \
            site_key.public_key().public_numbers()
        assert sorted(url.split('/')[2] for url in fetched) == NAMES and os.listdir(webroot) == []
        assert ca.orders[-1]['profile'] == 'tlsserver'
        # A self-check that fails: the CA is not asked, the line names the URL and what it answered. (The CA's
        # authorizations are new: it would reuse valid ones and ask for no challenge.)
        ca.authz.clear()
        out, err = io.StringIO(), io.StringIO()
        try:
            p.http01_responder = lambda w, *a, **k: real(w, fetch=lambda r, timeout: io.BytesIO(b'404 page'))
            rc = p_main(['order', '--account-key', str(account), '--csr', str(tmp_path / 'site.csr'), '--webroot',
                         str(webroot), '--directory', directory], out, err)
        finally:
            p.http01_responder = real
        assert rc == 1 and err.getvalue().startswith('AcmeError: wrote the token to ')
        assert "answered '404 page': the CA would fail too" in err.getvalue() and len(ca.orders) == 2
        # due: the window of this CA (none for an unknown certificate: the lifetime decides, not yet due).
        (tmp_path / 'c.pem').write_text(first)
        rc = p_main(['due', '--cert', str(tmp_path / 'c.pem'), '--csr', str(tmp_path / 'site.csr'), '--days', '30',
                     '--directory', directory, '--account-key', str(account)], io.StringIO(), io.StringIO())
        assert rc == 3
        ca.windows[p.cert_id(x509.load_pem_x509_certificates(first.encode())[0])] = ('2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z')
        out = io.StringIO()
        rc = p_main(['due', '--cert', str(tmp_path / 'c.pem'), '--csr', str(tmp_path / 'site.csr'), '--days', '30',
                     '--directory', directory, '--account-key', str(account)], out, io.StringIO())
        assert rc == 0 and 'ARI window 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC' in out.getvalue()
    assert p_main(['bogus'], io.StringIO(), io.StringIO()) == 2


def test_a_due_question_that_cannot_be_answered_renews(tmp_path):
    _leaf, cert, _csr = write_site(tmp_path)
    out = io.StringIO()
    assert p.main(['due', '--cert', cert, '--csr', str(tmp_path / 'missing.csr'), '--days', '30'], out) == 0
    assert out.getvalue().startswith('cannot tell whether it is due (')


# --- a bundle fetched from the host that orders ----------------------------------------------------------------------

def _bundle(authority, path, kind, names, days=(-1, 90), key_of=None):
    private, leaf = authority.leaf(kind, names, days)
    path.write_text(pki.pem(leaf, authority.inter) + pki.key_pem(key_of or private))
    return leaf


def test_a_fetched_bundle_is_installed_only_when_valid_for_the_site_and_newer(tmp_path):
    pki_ = pki.Pki()
    verdict = p.bundle_verdict
    new, current = tmp_path / 'new.pem', tmp_path / 'current.pem'
    names = ['www.shop.test', 'shop.test']
    leaf = _bundle(pki_, new, 'ecdsa', names)
    # Nothing in place: installed.
    assert verdict(str(new), str(tmp_path / 'none.pem'), names, 'ecdsa')[0] == 'install'
    # The same certificate in place: kept.
    current.write_text(new.read_text())
    assert verdict(str(new), str(current), names, 'ecdsa') == ('keep', 'the same certificate')
    # An older one in place: replaced; a newer one in place (an issuer restored from a backup): kept.
    _bundle(pki_, current, 'ecdsa', names, days=(-20, 70))
    assert verdict(str(new), str(current), names, 'ecdsa') == (
        'install', 'serial %x, valid until %s' % (leaf.serial_number, p._utc(p._validity(leaf)[1])))
    _bundle(pki_, current, 'ecdsa', names, days=(0, 90))
    assert verdict(str(new), str(current), names, 'ecdsa')[0] == 'keep'
    # Refused: other names, another key type, a certificate of another key, expired, not a bundle.
    assert verdict(str(new), '', ['shop.test'], 'ecdsa') == ('refuse', 'it is for shop.test, www.shop.test, not shop.test')
    assert verdict(str(new), '', names, 'rsa') == ('refuse', 'its key is not a rsa key')
    _bundle(pki_, new, 'ecdsa', names, key_of=pki.key('ecdsa'))
    assert verdict(str(new), '', names, 'ecdsa') == ('refuse', 'its certificate does not certify its key')
    _bundle(pki_, new, 'rsa', names, days=(-90, -1))
    assert verdict(str(new), '', names, 'rsa')[1].startswith('it expired ')
    new.write_text(new.read_text().split('-----BEGIN PRIVATE KEY-----')[0])
    assert verdict(str(new), '', names, 'rsa')[0] == 'refuse'
    assert verdict(str(tmp_path / 'missing.pem'), '', names, 'rsa')[0] == 'refuse'


def test_the_bundle_command_answers_with_its_status(tmp_path):
    pki_ = pki.Pki()
    new = tmp_path / 'new.pem'
    _bundle(pki_, new, 'rsa', ['a.test'])
    out = io.StringIO()
    assert p.main(['bundle', '--new', str(new), '--current', str(tmp_path / 'x'), '--names', 'a.test',
                             '--key-type', 'rsa'], out=out) == 0
    assert out.getvalue().startswith('serial ')
    assert p.main(['bundle', '--new', str(new), '--current', str(new), '--names', 'a.test',
                             '--key-type', 'rsa'], out=io.StringIO()) == 3
    assert p.main(['bundle', '--new', str(new), '--current', '', '--names', 'b.test',
                             '--key-type', 'rsa'], out=io.StringIO()) == 1


def test_the_program_binds_a_new_account_with_the_hmac_key_from_a_file(tmp_path):
    """A CA that requires External Account Binding: without it the order fails before any order, naming it; with the
    key ID and the HMAC key read from a root-only file (never on the command line), the account is made."""
    hmac_key = p.b64url(os.urandom(32))
    ca = fake_acme.FakeCA(eab=('kid-7', hmac_key))
    account = tmp_path / 'account.key'
    account.write_text(pki.key_pem(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / 'site.csr').write_bytes(csr_for(ec.generate_private_key(ec.SECP256R1()), NAMES)
                                        .public_bytes(serialization.Encoding.PEM))
    (tmp_path / 'eab.key').write_text(hmac_key + '\n')
    base = ['order', '--account-key', str(account), '--csr', str(tmp_path / 'site.csr'), '--webroot', str(tmp_path)]
    with ca.serve() as server:
        directory = 'http://127.0.0.1:%d/dir' % server.server_port
        err = io.StringIO()
        assert p.main(base + ['--directory', directory], io.StringIO(), err) == 1
        assert 'requires External Account Binding' in err.getvalue() and not ca.accounts and not ca.orders
        # The binding made, the order goes on to the challenge (which this test does not answer).
        err = io.StringIO()
        p.main(base + ['--directory', directory, '--eab-kid', 'kid-7', '--eab-hmac-key-file',
                       str(tmp_path / 'eab.key')], io.StringIO(), err)
        assert len(ca.accounts) == 1 and 'External Account Binding' not in err.getvalue(), err.getvalue()
        # A wrong key is refused by the CA.
        (tmp_path / 'eab.key').write_text(p.b64url(os.urandom(32)))
        account.write_text(pki.key_pem(ec.generate_private_key(ec.SECP256R1())))
        err = io.StringIO()
        assert p.main(base + ['--directory', directory, '--eab-kid', 'kid-7', '--eab-hmac-key-file',
                              str(tmp_path / 'eab.key')], io.StringIO(), err) == 1
        assert len(ca.accounts) == 1, err.getvalue()


def test_a_certificate_s_window_is_asked_once_per_run():
    # haproxy_check asks for each TLS bind's certificate: one file on two binds is one request to the CA.
    import urllib.request
    asked = []
    opener = urllib.request.build_opener().open

    def fetch(request, timeout):
        asked.append(request.full_url)
        return opener(request, timeout=timeout)
    ca = fake_acme.FakeCA()
    ca.windows['aaa.bbb'] = ('2027-01-05T10:00:00Z', '2027-01-07T10:00:00Z')
    with ca.serve() as server:
        directory = p.Directory('http://127.0.0.1:%d/dir' % server.server_port, fetch=fetch)
        first, again = directory.renewal_info('aaa.bbb'), directory.renewal_info('aaa.bbb')
        unknown, unknown_again = directory.renewal_info('ccc.ddd'), directory.renewal_info('ccc.ddd')
    assert first is not None and again == first and first['explanation'] == 'https://ca.test/why'
    assert unknown is None and unknown_again is None
    # Control: each certificate was asked, once; the directory once.
    assert [url.rsplit('/', 1)[1] for url in asked if '/renewal-info/' in url] == ['aaa.bbb', 'ccc.ddd']
    assert sum(url.endswith('/dir') for url in asked) == 1
