# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""acme_challenge_check against a real HTTP server on 127.0.0.1 that maps the challenge location like nginx would."""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse

import pytest
from httpd import QuietHandler, serving

from ansible_collections.opsnotes.edge.plugins.module_utils import _acme_probe
from ansible_collections.opsnotes.edge.plugins.modules import acme_challenge_check

PREFIX = '/.well-known/acme-challenge'
THUMB = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'


class Nginxish(QuietHandler):
    """mode 'ok': location ^~ PREFIX/ { alias webroot/; }; 'missing': redirect everything to https;
    'traversal': location PREFIX { alias webroot/; } (no trailing slash, decoded URI): the classic alias bug."""

    def do_GET(self):  # noqa: N802 - http.server API
        server = self.server
        server.seen.append(self.path)
        path = urllib.parse.unquote(self.path)
        if server.mode == 'missing':
            return self.reply(301, b'', {'Location': 'https://%s%s' % (self.headers['Host'], self.path)})
        if server.mode in ('stateless', 'balanced') and path.startswith(PREFIX + '/'):
            # nginx's stateless location: a token file wins, else "<token>.<thumbprint>". 'balanced': every other
            # request reaches a host with another account (a balancer in front of hosts that share no key).
            token = path[len(PREFIX) + 1:]
            server.count += 1
            if not re.fullmatch(r'[-_A-Za-z0-9]+', token):     # the regex location: nothing else names a file
                return self.reply(404, b'not found')
            if os.path.exists(os.path.join(server.webroot, token)):
                return self.send_file(os.path.join(server.webroot, token))
            other = server.mode == 'balanced' and server.count % 2 == 0
            return self.reply(200, ('%s.%s' % (token, 'other-account' if other else THUMB)).encode())
        if server.mode == 'ok' and path.startswith(PREFIX + '/'):
            rel = path[len(PREFIX) + 1:]
            target = posixpath.normpath(posixpath.join('/', rel)).lstrip('/')  # nginx normalises, stays inside
            return self.send_file(os.path.join(server.webroot, target))
        if server.mode == 'traversal' and path.startswith(PREFIX):
            return self.send_file(server.webroot + '/' + path[len(PREFIX):])
        return self.reply(404, b'not found')

    def send_file(self, path):
        try:
            with open(path, 'rb') as handle:
                return self.reply(200, handle.read())
        except OSError:
            return self.reply(404, b'not found')


@pytest.fixture
def server(tmp_path):
    webroot = tmp_path / 'acme' / 'challenges'
    webroot.mkdir(parents=True)
    with serving(Nginxish) as httpd:
        httpd.mode, httpd.webroot, httpd.seen, httpd.count = 'ok', str(webroot), [], 0
        yield httpd


def args(server, **extra):
    base = dict(domains=['a.example.org', 'www.a.example.org'], webroot=server.webroot, address='127.0.0.1',
                port=server.server_port)
    base.update(extra)
    return base


def leftovers(server):
    parent = os.path.dirname(server.webroot)
    return sorted(os.listdir(server.webroot)) + sorted(n for n in os.listdir(parent) if n != 'challenges')


def test_passes_when_the_location_serves_the_webroot(run_module, server):
    result, failed = run_module(acme_challenge_check, args(server))
    assert not failed and result['ok'] and result['failures'] == [] and result['changed'] is False
    assert [d['domain'] for d in result['domains']] == ['a.example.org', 'www.a.example.org']
    assert all(d['status'] == 200 and d['ok'] for d in result['domains'])
    assert all(len(d['traversal']) == 4 and not any(p['leaked'] for p in d['traversal']) for d in result['domains'])
    assert any('..%2f' in path for path in server.seen)
    assert leftovers(server) == []


def test_fails_with_the_reason_when_the_location_is_missing(run_module, server):
    server.mode = 'missing'
    result, failed = run_module(acme_challenge_check, args(server))
    assert failed and not result['ok'] and len(result['failures']) == 2
    assert result['domains'][0]['status'] == 301
    assert 'has no location ^~ /.well-known/acme-challenge/' in result['msg']
    assert leftovers(server) == []


def test_detects_alias_traversal(run_module, server):
    server.mode = 'traversal'
    result, failed = run_module(acme_challenge_check, args(server, domains=['a.example.org']))
    assert failed
    entry = result['domains'][0]
    assert entry['status'] == 200  # the token itself is served, but...
    leaked = [p['path'] for p in entry['traversal'] if p['leaked']]
    assert '/.well-known/acme-challenge../' in leaked[0]
    assert 'files outside %s are readable through' % server.webroot in entry['reason']
    assert leftovers(server) == []


def test_report_only_and_check_mode(run_module, server):
    server.mode = 'missing'
    result, failed = run_module(acme_challenge_check, args(server, fail_on_error=False, traversal_probe=False),
                                check_mode=True)
    assert not failed and not result['ok'] and result['domains'][0]['traversal'] == []


def test_check_mode_writes_nothing_on_the_host(run_module, server, monkeypatch):
    written = []
    monkeypatch.setattr(_acme_probe, 'write_file', lambda path, text: written.append(path))
    result, failed = run_module(acme_challenge_check, args(server), check_mode=True)
    assert not failed and result['ok'] and written == [] and leftovers(server) == []
    assert all(d['status'] == 404 and not d['token_written'] and 'check mode' in d['reason']
               for d in result['domains'])
    assert not any('..' in path for path in server.seen)        # no canary, so no traversal probe
    # A missing location still fails in check mode, with its reason.
    server.mode = 'missing'
    result, failed = run_module(acme_challenge_check, args(server), check_mode=True)
    assert failed and 'has no location ^~ /.well-known/acme-challenge/' in result['msg'] and written == []


def test_connection_refused_is_a_reason(run_module, server, tmp_path):
    result, failed = run_module(acme_challenge_check, args(server, port=1, traversal_probe=False))
    assert failed and 'could not fetch /.well-known/acme-challenge/' in result['domains'][0]['reason']
    assert os.listdir(server.webroot) == []


def test_missing_webroot(run_module, tmp_path):
    result, failed = run_module(acme_challenge_check, dict(domains=['a.example.org'], webroot=str(tmp_path / 'nope')))
    assert failed and 'does not exist' in result['msg']


def test_stateless_answer_passes_with_or_without_a_webroot(run_module, server):
    server.mode = 'stateless'
    result, failed = run_module(acme_challenge_check, args(server, thumbprint=THUMB))
    assert not failed and result['ok'], result['failures']
    assert all(d['token_written'] and len(d['stateless']) == 3 and all(p['ok'] for p in d['stateless'])
               for d in result['domains'])
    # Without a webroot (through a VIP, from anywhere): nothing written, only the stateless probes.
    result, failed = run_module(acme_challenge_check, dict(args(server, thumbprint=THUMB, stateless_probes=4),
                                                           webroot=None))
    assert not failed and result['ok'] and leftovers(server) == []
    assert all(not d['token_written'] and len(d['stateless']) == 4 for d in result['domains'])
    # Every probe asks for a fresh random token.
    tokens = [path for path in server.seen if re.fullmatch(PREFIX + '/[-_A-Za-z0-9]+', path)]
    assert len(tokens) == 2 * (1 + 3) + 2 * 4
    assert len(set(tokens)) == len(tokens)


def test_stateless_probes_fail_on_a_wrong_thumbprint_a_mixed_balancer_or_a_webroot_only_server(run_module, server):
    server.mode = 'stateless'
    result, failed = run_module(acme_challenge_check, args(server, thumbprint='x' * 43, webroot=None,
                                                           fail_on_error=False))
    assert not failed and not result['ok']
    assert 'stateless probes failed' in result['failures'][0] and 'x' * 43 in result['failures'][0]
    server.mode = 'balanced'
    result, failed = run_module(acme_challenge_check, args(server, thumbprint=THUMB, webroot=None,
                                                           domains=['a.example.org'], stateless_probes=2))
    assert failed and '1 of 2 stateless probes failed' in result['msg']
    server.mode = 'ok'                                   # the webroot-only location: tokens nobody wrote are 404
    result, failed = run_module(acme_challenge_check, args(server, thumbprint=THUMB, webroot=None))
    assert failed and 'no stateless answer' in result['msg']
    assert all(d['status'] == 404 for d in result['domains'])


def test_stateless_probes_run_in_check_mode(run_module, server, monkeypatch):
    written = []
    monkeypatch.setattr(_acme_probe, 'write_file', lambda path, text: written.append(path))
    server.mode = 'stateless'
    result, failed = run_module(acme_challenge_check, args(server, thumbprint=THUMB, webroot=None), check_mode=True)
    assert not failed and result['ok'] and written == []
    assert all(p['ok'] for d in result['domains'] for p in d['stateless'])
    # With the webroot too: the absent token gets the stateless answer, not a 404, and that is the proof.
    result, failed = run_module(acme_challenge_check, args(server, thumbprint=THUMB), check_mode=True)
    assert not failed and result['ok'] and written == []
    assert all(d['status'] == 200 and 'stateless answer' in d['reason'] for d in result['domains'])
    # Without the thumbprint, the same answer is not the token: it fails.
    result, failed = run_module(acme_challenge_check, args(server, fail_on_error=False), check_mode=True)
    assert not result['ok'] and 'the body is not the token' in result['failures'][0]


def test_needs_a_webroot_or_a_thumbprint(run_module):
    result, failed = run_module(acme_challenge_check, dict(domains=['a.example.org']))
    assert failed and result['msg'] == 'set webroot, thumbprint or both'


# The same proofs inside acme_certificate_check (its challenges), with the thumbprint of its account key.

def test_certificate_check_proves_the_challenges_with_the_account_thumbprint(run_module, server, tmp_path, monkeypatch):
    from pki import key, key_pem

    from ansible_collections.opsnotes.edge.plugins.module_utils._acme_proto import account_thumbprint
    from ansible_collections.opsnotes.edge.plugins.modules import acme_certificate_check
    account = tmp_path / 'account.key'
    account.write_text(key_pem(key('rsa')))
    monkeypatch.setitem(globals(), 'THUMB', account_thumbprint(account.read_bytes()))
    server.mode = 'stateless'
    site = dict(name='a', domains=['a.example.org'], address='127.0.0.1', port=server.server_port)
    checks = [dict(site, webroot=server.webroot, stateless=True),
              dict(site, name='a-ca', stateless=True, stateless_probes=4)]
    params = dict(certificates=[], account_key=str(account), challenges=checks)
    result, failed = run_module(acme_certificate_check, params)
    assert not failed and result['ok'] and result['failures'] == [], result
    local, through = result['challenges']
    assert local['name'] == 'a' and local['thumbprint'] == THUMB and local['domains'][0]['token_written']
    assert local['webroot'] == server.webroot and through['webroot'] is None
    assert len(local['domains'][0]['traversal']) == 4 and len(through['domains'][0]['stateless']) == 4
    assert not through['domains'][0]['token_written'] and leftovers(server) == []

    # Negative control: the same call fails, naming the entry and the name, when the location is missing.
    server.mode = 'missing'
    result, failed = run_module(acme_certificate_check, params)
    assert failed and not result['ok']
    assert result['msg'].startswith('challenge a: a.example.org: HTTP 301 redirect'), result['msg']
    assert [c['ok'] for c in result['challenges']] == [False, False]

    # No account key: an entry with only the stateless answer to prove is skipped; one with a webroot is proven
    # with a token file only.
    server.mode = 'ok'
    params = dict(certificates=[], challenges=[checks[1], checks[0]], fail_on_error=False)
    result, failed = run_module(acme_certificate_check, params)
    assert not failed and result['ok'], result
    assert result['challenges'][0]['skipped'] and 'domains' not in result['challenges'][0]
    assert result['challenges'][1]['thumbprint'] == '' and result['challenges'][1]['domains'][0]['ok']
    assert result['challenges'][1]['domains'][0]['token_written'] and result['challenges'][1]['domains'][0]['stateless'] == []
