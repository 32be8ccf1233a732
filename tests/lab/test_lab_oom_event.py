# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): a real out-of-memory on the director, which runs on a kernel of its
own (512 MiB) with the scores oom_protect gave it. A small unit with the score a sacrificial unit gets
(OOMScoreAdjust=1000) holds 24 MiB; then a hog allocates until the kernel runs out of memory. The kernel kills the
small sacrificial process first, then the hog; the protected units (the log daemons, HAProxy, keepalived, at -900)
lose nothing, and opsnotes.edge.oom_score reports the last kill and no kill in any of them.

Control: the same run with the small unit at score 0: the kernel kills the hog (the biggest) first and the small
one survives, so the score, not the size, decided the order above."""

from __future__ import annotations

import os
import time
import uuid

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
director = helpers.host('%s-director' % LAB)
PROTECTED = ('systemd-journald.service', 'syslog-ng.service', 'haproxy.service', 'keepalived.service')
SMALL = 'import time\nheld = bytearray(24 << 20)\ntime.sleep(600)\n'
HOG = 'import time\nheld = []\nwhile True:\n    held.append(bytearray(16 << 20))\n    time.sleep(0.01)\n'


def main_pid(unit):
    return int(director.check_output('systemctl show -p MainPID --value %s', unit))


def kills_since(cursor):
    """[(pid, comm, oom_score_adj)] of the kernel's OOM kills logged after ``cursor``, oldest first."""
    out = director.check_output('journalctl -k --after-cursor %s -o cat --no-pager -g "Killed process" || true', cursor)
    kills = []
    for line in out.splitlines():
        pid = int(line.split('Killed process ', 1)[1].split(' ', 1)[0])
        comm = line.split('(', 1)[1].rsplit(') total-vm', 1)[0]
        kills.append((pid, comm, int(line.rsplit('oom_score_adj:', 1)[1].split()[0])))
    return kills


def out_of_memory(small_score):
    """Run the small unit (at ``small_score``) and the hog until the hog is killed: (small pid, hog pid, kills, the
    protected units' main PIDs before and after)."""
    tag = uuid.uuid4().hex[:8]
    small, hog = 'opsnotes-lab-small-%s' % tag, 'opsnotes-lab-hog-%s' % tag
    before = {unit: main_pid(unit) for unit in PROTECTED}
    cursor = helpers.journal_cursor(director)
    try:
        director.check_output('systemd-run --unit %s -p OOMScoreAdjust=%s python3 -c %s', small, str(small_score),
                              SMALL)
        time.sleep(1)
        small_pid = main_pid(small)
        director.check_output('systemd-run --unit %s python3 -c %s', hog, HOG)
        hog_pid = main_pid(hog)
        ended = helpers.wait_for(lambda: director.run('systemctl is-active --quiet %s', hog).rc != 0, 90, step=0.5)
        assert ended is not None, 'the hog was not killed within 90 s'
        kills = kills_since(cursor)
    finally:
        director.run('systemctl stop %s %s', small, hog)
        director.run('systemctl reset-failed %s %s', small, hog)
    after = {unit: main_pid(unit) for unit in PROTECTED}
    print('lab oom (small unit at %s): kills %s' % (small_score, kills))
    return small_pid, hog_pid, kills, before, after


def oom_score_result():
    """opsnotes.edge.oom_score on the director, for the protected units (what oom_protect's verify step runs)."""
    args = {'targets': [{'unit': unit, 'score_adj': -900} for unit in PROTECTED]}
    return helpers.lab_ansible('director', 'opsnotes.edge.oom_score', args)['director']


def test_the_kernel_kills_the_sacrificial_unit_first_then_the_hog_never_a_protected_unit():
    small_pid, hog_pid, kills, before, after = out_of_memory(1000)
    assert kills and kills[0] == (small_pid, 'python3', 1000), kills
    assert hog_pid in [pid for pid, _comm, _adj in kills], kills
    assert not set(before.values()) & {pid for pid, _comm, _adj in kills}
    assert after == before and all(pid > 0 for pid in after.values()), (before, after)
    result = oom_score_result()
    assert result['status'] == 'ok' and result['last_oom_kill']['pid'] == hog_pid, result.get('last_oom_kill')
    assert [t['oom_kills'] for t in result['targets']] == [0] * len(PROTECTED), result['targets']


def test_negative_control_at_score_0_the_biggest_process_goes_first_and_the_small_one_survives():
    small_pid, hog_pid, kills, before, after = out_of_memory(0)
    assert kills and kills[0][0] == hog_pid, kills
    assert small_pid not in [pid for pid, _comm, _adj in kills], kills
    assert after == before
