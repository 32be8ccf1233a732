# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): one order per certificate for the account group. The director, first
of the group acme_account, orders each certificate (site and key type) from the lab's Pebble. director2, rs1 and rs2
fetch it from there over SSH, by their own renewal unit, and serve the same serial. They order nothing, which is
counted in the CA's own log.

Controls:
- Right after it starts, a host that was stopped during a renewal still serves the old serial. Its timer then fetches
  the new one.
- A host whose pinned key for the director is wrong fetches nothing and keeps serving what it has."""

from __future__ import annotations

import os
import re
import subprocess

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
HOSTS = ('director', 'director2', 'rs1', 'rs2')
CERT_DIR = '/etc/ssl/opsnotes-acme'
# A TLS 1.2 client with only RSA cipher suites, or only ECDSA ones: the server sends that key type's certificate.
CIPHERS = {'rsa': 'ECDHE-RSA-AES128-GCM-SHA256', 'ecdsa': 'ECDHE-ECDSA-AES128-GCM-SHA256'}
hosts = {name: helpers.host('%s-%s' % (LAB, name)) for name in HOSTS}
ca = helpers.host('%s-acme' % LAB)


def issued():
    """The certificates the CA has issued since it started (its own log)."""
    return int(ca.run('journalctl -u opsnotes-pebble.service --no-pager -o cat | grep -c "Issued certificate"').stdout.strip() or 0)


def served(name, key_type):
    """The serial (hex, upper case) that ``name`` serves on 127.0.0.1:443 for www.lab.test to a client of one key
    type, or '' when nothing answers."""
    return hosts[name].run(
        'openssl s_client -connect 127.0.0.1:443 -servername www.lab.test -tls1_2 -cipher %s </dev/null 2>/dev/null'
        ' | openssl x509 -noout -serial | cut -d= -f2', CIPHERS[key_type]).stdout.strip()


def in_file(name, key_type):
    return hosts[name].check_output('openssl x509 -noout -serial -in %s/lab/%s.pem | cut -d= -f2' % (CERT_DIR, key_type))


def everywhere(key_type):
    return {name: served(name, key_type) for name in HOSTS}


def all_up():
    stats = [helpers.haproxy_stat(hosts[name]) for name in ('director', 'director2')]
    return all(stat.get(('be_web', rs), {}).get('status') == 'UP' for stat in stats for rs in ('rs1', 'rs2'))


def test_every_host_serves_the_certificate_the_director_ordered():
    for key_type in CIPHERS:
        assert set(everywhere(key_type).values()) == {in_file('director', key_type)}, key_type


def test_a_renewal_is_one_order_per_key_type_and_the_others_fetch_it_with_their_unit():
    before = issued()
    old = {key_type: in_file('director', key_type) for key_type in CIPHERS}
    rc, journal = helpers.renew_unit(hosts['director'], force=True)
    assert rc == 0, journal
    assert issued() - before == 2                       # RSA and ECDSA, once for the four hosts
    for name in ('director2', 'rs1', 'rs2'):
        rc, journal = helpers.renew_unit(hosts[name])   # as its timer starts it
        assert rc == 0 and 'fetched lab (ecdsa) from' in journal, (name, journal)
    assert issued() - before == 2                       # fetching ordered nothing
    for key_type in CIPHERS:
        new = in_file('director', key_type)
        assert new != old[key_type]
        assert helpers.wait_for(lambda k=key_type, n=new: set(everywhere(k).values()) == {n}, 10), everywhere(key_type)


def test_a_host_stopped_during_a_renewal_serves_the_new_certificate_soon_after_it_starts():
    rs2 = '%s-rs2' % LAB
    old = served('rs2', 'ecdsa')
    subprocess.run(['docker', 'stop', rs2], check=True, capture_output=True)
    try:
        rc, journal = helpers.renew_unit(hosts['director'], force=True)
        assert rc == 0, journal
        new = in_file('director', 'ecdsa')
        assert new != old
    finally:
        subprocess.run(['docker', 'start', rs2], check=True, capture_output=True)
    assert helpers.wait_for(lambda: hosts['rs2'].run('systemctl is-system-running').stdout.strip()
                            in ('running', 'degraded'), 60) is not None
    # Control: it starts with what it had. No playbook runs from here; its timer fetches the new one.
    assert helpers.wait_for(lambda: served('rs2', 'ecdsa') != '', 30) is not None
    assert served('rs2', 'ecdsa') == old
    waited = helpers.wait_for(lambda: served('rs2', 'ecdsa') == new, 150, step=2)
    assert waited is not None, helpers.journal(hosts['rs2'])
    print('lab: rs2 served the new certificate %.0f s after systemd came up' % waited)
    unit_log = hosts['rs2'].run('journalctl -u opsnotes-acme-renew.service --no-pager -o cat').stdout
    # The director by the address its ansible_host gives (its container name, or its IP with scripts/lab.sh ssh).
    assert re.search(r'^fetched lab \(ecdsa\) from \S+: serial %s,' % new, unit_log, re.M), unit_log
    # Back in both balancers before the next test.
    assert helpers.wait_for(all_up, 60, step=1) is not None


def test_negative_control_a_wrong_host_key_for_the_director_fetches_nothing():
    rs1 = hosts['rs1']
    known = '%s/fetch/known_hosts' % CERT_DIR
    rs1.check_output('cp %s /root/known_hosts.saved && sed -i "s/ AAAA/ AAAB/" %s' % (known, known))
    try:
        rc, _journal = helpers.renew_unit(hosts['director'], force=True)
        assert rc == 0
        before = served('rs1', 'ecdsa')
        rc, journal = helpers.renew_unit(rs1)
        assert rc != 0 and re.search(r'fetching the certificates from \S+ failed: Host key verification failed',
                                     journal), journal
        assert served('rs1', 'ecdsa') == before != in_file('director', 'ecdsa')
    finally:
        rs1.check_output('cp /root/known_hosts.saved %s && rm -f /root/known_hosts.saved' % known)
    rc, journal = helpers.renew_unit(rs1)
    assert rc == 0 and served('rs1', 'ecdsa') == in_file('director', 'ecdsa'), journal
