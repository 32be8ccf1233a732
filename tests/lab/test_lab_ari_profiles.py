# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): the CA's renewal information (ARI, RFC 9773) and profiles, as Let's
Encrypt has them. The lab's Pebble (2.10) lists Let's Encrypt's three profiles, and the lab orders under tlsserver.

- Profile: every host serves a 45-day certificate. The control: an order under shortlived, placed by the same client
  with the same account and key, comes back with 160 hours. A profile the CA does not list is refused before any
  order.
- ARI: the director's unattended run orders nothing while the CA's window is ahead (the control). Then the CA moves
  the ECDSA certificate's window into the past (what a CA does before a mass revocation), through Pebble's
  management API. The next unattended run renews that certificate alone. The order names the one it replaces, as the
  CA's own log says, and a fetching host then serves the new one."""

from __future__ import annotations

import datetime
import json
import os
import re

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
CERT_DIR = '/etc/ssl/opsnotes-acme/lab'
director = helpers.host('%s-director' % LAB)
rs1 = helpers.host('%s-rs1' % LAB)
# The hosts that fetch from the director: each fetches the renewal, so the lab is left as the other tests expect it.
fetchers = [helpers.host('%s-%s' % (LAB, name)) for name in ('director2', 'rs1', 'rs2')]
ca = helpers.host('%s-acme' % LAB)
CONF = '/etc/opsnotes-acme-renew.d/haproxy.conf'


def pebble_log():
    return ca.run('journalctl -u opsnotes-pebble.service --no-pager -o cat').stdout


def issued():
    return pebble_log().count('Issued certificate')


def replacements():
    return re.findall(r'ARI: order "\S+" is a replacement of "\S+"', pebble_log())


def lifetime_hours(h, path):
    """notAfter - notBefore of the first certificate in ``path`` on ``h``, in hours."""
    out = h.check_output('openssl x509 -in %s -noout -startdate -enddate', path)
    stamps = {key: datetime.datetime.strptime(value, '%b %d %H:%M:%S %Y GMT')
              for key, value in (line.split('=', 1) for line in out.splitlines())}
    return round((stamps['notAfter'] - stamps['notBefore']).total_seconds() / 3600)


def serial(h, path):
    return h.check_output('openssl x509 -in %s -noout -serial | cut -d= -f2', path)


def order(profile, out):
    """An order by the director's own client (its account key, the ECDSA CSR, its webroot) under ``profile``."""
    script = ('. %s; python3 "$ACME_CLIENT" order --account-key "$ACCOUNT_KEY" --csr %s/ecdsa.csr '
              '--webroot /var/lib/opsnotes-acme/challenges --directory "$DIRECTORY_URL" --profile %s > %s'
              % (CONF, CERT_DIR, profile, out))
    return director.run('bash -c %s', script)


def test_the_lab_orders_under_the_tlsserver_profile_and_the_ca_s_lifetime_follows_the_profile():
    for h in (director, rs1):
        for key_type in ('rsa', 'ecdsa'):
            assert lifetime_hours(h, '%s/%s.pem' % (CERT_DIR, key_type)) == 45 * 24, (h, key_type)
    # The control: the same client, account and key under Let's Encrypt's shortlived profile.
    try:
        got = order('shortlived', '/tmp/opsnotes-shortlived.pem')
        assert got.rc == 0, got.stderr
        assert lifetime_hours(director, '/tmp/opsnotes-shortlived.pem') == 160
    finally:
        director.run('rm -f /tmp/opsnotes-shortlived.pem')
    before = issued()
    got = order('nosuch', '/dev/null')
    assert got.rc == 1 and "the CA offers no profile 'nosuch' (it offers: classic, shortlived, tlsserver)" in got.stderr
    assert issued() == before


def set_window(path, start, end):
    """Pebble's management API: the renewal window the CA gives for the certificate at ``path`` on the director."""
    body = json.dumps({'Certificate': director.check_output('openssl x509 -in %s', path),
                       'ARIResponse': json.dumps({'suggestedWindow': {'start': start, 'end': end}})})
    ca.check_output("printf '%%s' %s > /tmp/opsnotes-ari.json", body)
    ca.check_output('curl -sfk -X POST --data-binary @/tmp/opsnotes-ari.json https://127.0.0.1:15000/set-renewal-info/')


def test_an_unattended_run_renews_what_the_ca_s_window_asks_for_naming_the_certificate_it_replaces():
    old = {key_type: serial(director, '%s/%s.pem' % (CERT_DIR, key_type)) for key_type in ('rsa', 'ecdsa')}
    before, named = issued(), len(replacements())
    # The control: the CA's windows are ahead (two thirds into the lifetime), so an unattended run orders nothing.
    rc, journal = helpers.renew_unit(director)
    assert rc == 0 and 'renewing' not in journal and issued() == before, journal
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now + datetime.timedelta(hours=hours) for hours in (-2, -1))
    set_window('%s/ecdsa.fullchain.pem' % CERT_DIR, start.strftime('%Y-%m-%dT%H:%M:%SZ'),
               end.strftime('%Y-%m-%dT%H:%M:%SZ'))
    rc, journal = helpers.renew_unit(director)
    assert rc == 0, journal
    assert 'lab (ecdsa): renewing: the CA asks for its renewal from' in journal, journal
    assert 'lab (rsa): renewing' not in journal
    assert issued() - before == 1 and len(replacements()) - named == 1, pebble_log()[-2000:]
    assert serial(director, '%s/ecdsa.pem' % CERT_DIR) != old['ecdsa']
    assert serial(director, '%s/rsa.pem' % CERT_DIR) == old['rsa']
    # The other hosts of the group fetch the renewed certificate by their own unit, as their timer runs it.
    for h in fetchers:
        rc, journal = helpers.renew_unit(h)
        assert rc == 0 and serial(h, '%s/ecdsa.pem' % CERT_DIR) == serial(director, '%s/ecdsa.pem' % CERT_DIR), journal
    # The new certificate has a window of its own, ahead again: the next run orders nothing.
    rc, journal = helpers.renew_unit(director)
    assert rc == 0 and 'renewing' not in journal and issued() - before == 1, journal
