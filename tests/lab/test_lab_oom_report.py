# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): `ansible-playbook opsnotes.edge.oom_report` prints each host's
likeliest OOM victims and the status of each protected service. A process started on rs1 with OOMScoreAdjust=1000
is rs1's first victim; the services of the lab's containers are "limited" (their kernel refuses negative values),
the directors' (each on a kernel of its own) "applied", and the run exits 0.
Control: syslog-ng's drop-in removed on rs1 is drift (its next start loses the protection) and the run fails."""

from __future__ import annotations

import os
import re
import subprocess

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DROPIN = '/etc/systemd/system/syslog-ng.service.d/50-opsnotes-oom-protect.conf'
rs1 = helpers.host('%s-rs1' % LAB)


def oom_report():
    return subprocess.run(['ansible-playbook', 'opsnotes.edge.oom_report', '-i', 'inventories/lab'], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_the_report_ranks_a_greedy_process_first_and_shows_the_protection_status():
    unit = 'opsnotes-lab-oom-victim-%d' % os.getpid()
    rs1.check_output('systemd-run --unit %s -p OOMScoreAdjust=1000 sleep 300', unit)
    try:
        pid = rs1.check_output('systemctl show -p MainPID --value %s', unit)
        run = oom_report()
    finally:
        rs1.run('systemctl stop %s', unit)
    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(r'rs1\s+1\s+%s\s+sleep\s+\d+\s+1000\s' % pid, run.stdout), run.stdout[-4000:]
    assert re.search(r'rs1\s+unit=syslog-ng.service\s+limited\s+wants -900', run.stdout)
    assert re.search(r'director\s+unit=haproxy.service\s+applied\s+wants -900: \d+ process\(es\) at -900', run.stdout)


def test_negative_control_a_missing_drop_in_is_drift_and_fails_the_run():
    rs1.check_output('mv %s /root/oom-dropin.saved && systemctl daemon-reload', DROPIN)
    try:
        run = oom_report()
    finally:
        rs1.check_output('mv /root/oom-dropin.saved %s && systemctl daemon-reload', DROPIN)
    assert run.returncode != 0
    assert re.search(r'rs1\s+unit=syslog-ng.service\s+drift\s.*drop-in is not loaded', run.stdout), run.stdout[-4000:]
    assert 'rs1 unit=syslog-ng.service: protection drifted' in run.stdout
    assert rs1.check_output('systemctl show -p OOMScoreAdjust --value syslog-ng.service') == '-900'
