# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): `ansible-playbook opsnotes.edge.renew_certificates` renews every
certificate of the directors (HAProxy, swapped in without a reload) and the real servers (nginx) from the lab's
Pebble, each certificate ordered once (two orders, RSA and ECDSA, for the four hosts), and reports per host, address
and name the serial served: the one just issued, new on every host, with HAProxy's workers unchanged. Control: the
same playbook with the renewal skipped (--skip-tags renew) reports the older serials as not the ones just issued,
and fails. In check mode it orders nothing, and its report says what is served and that nothing was issued."""

from __future__ import annotations

import os
import re
import subprocess

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTS = ('director', 'director2', 'rs1', 'rs2')
ROW = re.compile(r'^\s*(director2?|rs[12])\s+127\.0\.0\.1\s+(\S+)\s+([0-9a-f]+)\s+(.*)$', re.M)


def renew(*extra):
    run = subprocess.run(['ansible-playbook', 'opsnotes.edge.renew_certificates', '-i', 'inventories/lab'] + list(extra),
                         cwd=ROOT, capture_output=True, text=True, check=False)
    return run, {(host, name): (serial, state.strip()) for host, name, serial, state in ROW.findall(run.stdout)}


def haproxy_pids(name):
    """HAProxy's master and workers: a reload would start new workers."""
    return sorted(helpers.host('%s-%s' % (LAB, name)).check_output('pgrep -x haproxy').split())


def test_negative_control_without_the_renewal_the_served_serials_are_not_new_and_the_run_fails():
    run, rows = renew('--skip-tags', 'renew')
    assert run.returncode != 0
    assert {host for host, _name in rows} == set(HOSTS), run.stdout[-3000:]
    assert all(state == 'NOT the certificate just issued' for _serial, state in rows.values()), rows


def test_check_mode_orders_nothing_and_reports_what_is_served_without_failing():
    orders = issued()
    run, rows = renew('--check')
    assert run.returncode == 0, run.stdout[-4000:]
    assert {host for host, _name in rows} == set(HOSTS), run.stdout[-3000:]
    assert all(state == 'served (check mode: nothing issued)' for _serial, state in rows.values()), rows
    # The CA saw no order: check mode changed nothing (the control, an order counted, is the last test's).
    assert issued() == orders


def issued():
    """The certificates the lab's Pebble has issued since it started (its own log)."""
    ca = helpers.host('%s-acme' % LAB)
    return int(ca.run('journalctl -u opsnotes-pebble.service --no-pager -o cat | grep -c "Issued certificate"')
               .stdout.strip() or 0)


def test_every_host_serves_the_certificate_just_issued():
    _run, before = renew('--skip-tags', 'renew')
    pids = {name: haproxy_pids(name) for name in ('director', 'director2')}
    orders = issued()
    run, after = renew()
    assert run.returncode == 0, run.stdout[-4000:]
    # One order per key type for the four hosts: the director orders, the others fetch.
    assert issued() - orders == 2
    assert set(after) == set(before) and {host for host, _name in after} == set(HOSTS)
    for key, (serial, state) in after.items():
        assert state.startswith('renewed: lab ('), (key, state)
        assert serial != before[key][0], key
    assert {name: haproxy_pids(name) for name in pids} == pids      # swapped in: the same workers, no reload
