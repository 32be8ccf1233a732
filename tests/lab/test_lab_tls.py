# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): the directors' HAProxy terminates TLS at the VIP with its own
certificates, judged by a third party (sslyze), and re-encrypts to the real servers, verifying their certificates:
a real server whose certificate does not verify is taken out, and the requests through the VIP go on to the
other. Every change is undone before the test ends."""

from __future__ import annotations

import os
import time

import helpers
import pytest

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.200'
NAME = 'www.lab.test'
CERTS = '/etc/ssl/opsnotes-acme/lab'
RENEWAL = 'opsnotes-acme-renew'
directors = [helpers.host('%s-%s' % (LAB, h)) for h in ('director', 'director2')]
client, rs1 = (helpers.host('%s-%s' % (LAB, h)) for h in ('client', 'rs1'))


def server_status(director, backend, server):
    row = helpers.haproxy_stat(director).get((backend, server))
    assert row is not None, 'no server %s/%s in show stat' % (backend, server)
    return row['status']


def wait_status(backend, server, prefix, seconds=30):
    """Until the server's status starts with ``prefix`` on every director's HAProxy (either may hold the VIP)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        statuses = [server_status(director, backend, server) for director in directors]
        if all(status.startswith(prefix) for status in statuses):
            return statuses
        time.sleep(0.5)
    raise AssertionError('%s/%s is %s, not %s, after %ds' % (backend, server, statuses, prefix, seconds))


def served_by(count=6):
    """The real servers that answered ``count`` requests through the VIP (each page names its server)."""
    out = client.check_output(
        'for i in $(seq %s); do curl -sk --resolve %s:443:%s https://%s/ || echo FAILED; echo; done',
        str(count), NAME, VIP, NAME)
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_a_third_party_judge_finds_the_mozilla_intermediate_profile_at_the_vip():
    findings = helpers.sslyze(VIP, 443, NAME)
    # Only what the test CA causes: Pebble's root is in no trust store, its certificates live 5 years.
    assert set(findings) <= {'certificate_path_validation', 'maximum_certificate_lifespan'}, findings


def test_the_judge_can_tell_the_profiles_apart():
    """The control: the same VIP judged against Mozilla's modern profile (TLS 1.3 only) fails on TLS 1.2."""
    findings = helpers.sslyze(VIP, 443, NAME, profile='modern')
    assert 'tls_versions' in findings, findings


@pytest.fixture
def rs1_untrusted_certificates():
    """rs1 serves self-signed certificates for its own keys (the names right, the CA unknown), then its own again.
    They go into the bundles nginx loads (certificate and key in one file). rs1's renewal timer is stopped meanwhile:
    its first run after the site's (30 to 60 s after the timer starts) fetches the director's bundles, newer than
    these, and would put the good ones back in the middle of the test."""
    files = ['%s/%s.pem' % (CERTS, kind) for kind in ('rsa', 'ecdsa')]
    rs1.check_output('systemctl stop %s.timer; while systemctl is-active -q %s.service; do sleep 0.5; done',
                     RENEWAL, RENEWAL)
    rs1.check_output('for f in %s %s; do cp -p "$f" "$f.opsnotes-test"; done', *files)
    try:
        for kind in ('rsa', 'ecdsa'):
            rs1.check_output('openssl req -x509 -key %s/%s.key -subj /CN=%s -addext subjectAltName=DNS:%s -days 1 '
                             '| cat - %s/%s.key > %s/%s.pem', CERTS, kind, NAME, NAME, CERTS, kind, CERTS, kind)
        rs1.check_output('systemctl reload nginx')
        yield
    finally:
        rs1.check_output('for f in %s %s; do mv -f "$f.opsnotes-test" "$f"; done; systemctl reload nginx', *files)
        rs1.check_output('systemctl start %s.timer', RENEWAL)
        wait_status('be_web', 'rs1', 'UP')


def test_both_real_servers_verify_and_serve_through_the_vip():
    """The control of the next test: with their own certificates (Pebble's, for www.lab.test) both are UP and
    both answer requests through the VIP."""
    assert wait_status('be_web', 'rs1', 'UP') and wait_status('be_web', 'rs2', 'UP')
    assert set(served_by()) == {'served by rs1', 'served by rs2'}


def test_a_real_server_whose_certificate_does_not_verify_is_taken_out(rs1_untrusted_certificates):
    status = wait_status('be_web', 'rs1', 'DOWN')
    assert set(served_by()) == {'served by rs2'}, status
