# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): `ansible-playbook opsnotes.edge.drift` on the green lab exits 0 with
its report, and every host is the same after it as before (files under /etc, /usr/local, /var/lib/haproxy and
/var/www with their modes and owners, the services' states and PIDs, addresses, ARP sysctls). Control: rs1's
arp_ignore changed by hand: drift exits non-zero with a DRIFT row for rs1, and the same snapshot sees the change.
Both runs publish the report's summary as the job's artifacts (set_stats: what AWX keeps), read here as ansible-playbook
prints them."""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTS = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('director', 'director2', 'rs1', 'rs2', 'client', 'collector')}
TREES = '/etc /usr/local /var/lib/haproxy /var/www'
SNAPSHOT = ' ; '.join([
    'find %s -xdev \\( -type f -o -type l -o -type d \\) -printf "%%p %%m %%u:%%g %%s\\n" 2>/dev/null | sort' % TREES,
    'find %s -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum' % TREES,
    'for unit in haproxy nginx keepalived syslog-ng opsnotes-acme-renew.timer; do '
    'systemctl show -p Id,ActiveState,MainPID "$unit"; done',
    'ip -o address show',
    "sysctl -a 2>/dev/null | grep -E '^net[.]ipv4[.]conf[.].*[.](arp_ignore|arp_announce|rp_filter) '",
])


def snapshots():
    return {name: h.check_output(SNAPSHOT) for name, h in HOSTS.items()}


def differences(before, after):
    return {name: '\n'.join(difflib.unified_diff(before[name].splitlines(), after[name].splitlines(), lineterm='', n=0))
            for name in before if before[name] != after[name]}


def drift():
    # The custom stats (the job's artifacts in AWX) printed as JSON at the end of the run.
    env = dict(os.environ, ANSIBLE_SHOW_CUSTOM_STATS='true', ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    return subprocess.run(['ansible-playbook', 'opsnotes.edge.drift', '-i', 'inventories/lab'], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=env)


def artifacts(run):
    """The run's custom stats (set_stats, per_host false): the summary of the report."""
    found = re.search(r'^\s*RUN: (\{.*\})\s*$', run.stdout, re.M)
    assert found, run.stdout[-3000:]
    return json.loads(found.group(1))['opsnotes_report']


def test_drift_on_the_green_lab_exits_0_with_its_report_and_changes_nothing():
    before = snapshots()
    run = drift()
    after = snapshots()
    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(r'rs1\s+lvs_dr_check\s+OK', run.stdout) and re.search(r'director\s+haproxy_check\s+OK', run.stdout)
    assert not re.search(r'\sDRIFT\s', run.stdout)
    assert differences(before, after) == {}
    # The job's artifacts say the same: no drift, every row counted.
    report = artifacts(run)
    assert report['ok'] is True and report['drift'] == [] and report['counts']['OK'] > 10, report


def test_negative_control_a_changed_sysctl_is_drift_and_the_snapshot_sees_it():
    key = 'net.ipv4.conf.all.arp_ignore'
    rs1 = HOSTS['rs1']
    value = rs1.check_output('sysctl -n %s', key)
    before = snapshots()
    rs1.check_output('sysctl -w %s=0', key)
    try:
        run = drift()
        changed = differences(before, snapshots())
    finally:
        rs1.check_output('sysctl -w %s=%s', key, value)
    assert run.returncode != 0
    assert re.search(r'rs1\s+lvs_dr_check\s+DRIFT\s.*arp_ignore', run.stdout), run.stdout[-4000:]
    assert list(changed) == ['rs1'] and '+%s = 0' % key in changed['rs1'], changed
    # The job's artifacts name the drift, published before the run failed.
    report = artifacts(run)
    assert report['ok'] is False and report['counts']['DRIFT'] >= 1, report
    assert [(row['host'], row['check']) for row in report['drift']] == [('rs1', 'lvs_dr_check')], report['drift']
    assert 'arp_ignore' in report['drift'][0]['detail'], report['drift']
