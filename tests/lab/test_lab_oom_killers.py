# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): the OOM killers besides the kernel's, on the director's own kernel.

earlyoom (installed, stopped) runs with the drop-in oom_protect wrote for it: --avoid names the protected services'
processes. A process named like one of them ("haproxy") but at score 0 holds more memory than a hog that grows until
memory runs low: earlyoom kills the hog and spares it, and opsnotes.edge.oom_score names earlyoom among the active
killers with no protected process exposed. Control: earlyoom started by hand without the role's options kills the
bigger "haproxy" first, and oom_score reports the protected services exposed to it.

OOMPolicy=, set by the role on a unit whose shell restarts a worker that a memory limit gets killed: with
oom_policy continue the unit lives on through the worker's OOM kills; control: with stop, systemd stops the unit at
the first (Result=oom-kill).

systemd-oomd cannot run here (this kernel has no pressure stall information); the preference systemd sets for it on
each protected unit's cgroup (ManagedOOMPreference=avoid from the role) is read back."""

from __future__ import annotations

import json
import os
import tempfile
import uuid

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
director = helpers.host('%s-director' % LAB)
PROTECTED = ('systemd-journald.service', 'syslog-ng.service', 'haproxy.service', 'keepalived.service')
# A process that names itself haproxy (prctl PR_SET_NAME) and holds MiB at score 0.
KEEP = ('import ctypes, time\nctypes.CDLL(None).prctl(15, b"haproxy", 0, 0, 0)\n'
        'held = bytearray(%d << 20)\ntime.sleep(600)\n')
HOG = 'import time\nheld = []\nwhile True:\n    held.append(bytearray(4 << 20))\n    time.sleep(0.05)\n'
WORKER = '/usr/local/bin/opsnotes-lab-respawn'
RESPAWN = 'opsnotes-lab-respawn.service'


def active(unit):
    return director.run('systemctl is-active --quiet %s', unit).rc == 0


def killers_result():
    args = {'targets': [{'unit': unit, 'score_adj': -900} for unit in PROTECTED]}
    return helpers.lab_ansible('director', 'opsnotes.edge.oom_score', args)['director']


def earlyoom_picks(start_earlyoom):
    """Start earlyoom (``start_earlyoom``: a command), then the "haproxy" at score 0 and the hog: (which of the two
    earlyoom killed, the oom_score result taken while earlyoom ran, before the hog)."""
    tag = uuid.uuid4().hex[:8]
    keep, hog, plain = ('opsnotes-lab-%s-%s.service' % (name, tag) for name in ('keep', 'hog', 'earlyoom'))
    available = int(director.check_output("awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo"))
    try:
        director.check_output(start_earlyoom.format(unit=plain))
        assert helpers.wait_for(lambda: director.run('pidof earlyoom').rc == 0, 10), 'earlyoom did not start'
        result = killers_result()
        director.check_output('systemd-run --unit %s python3 -c %s', keep, KEEP % (available * 55 // 100))
        assert helpers.wait_for(lambda: active(keep), 10)
        director.check_output('sleep 2; systemd-run --unit %s python3 -c %s', hog, HOG)
        ended = helpers.wait_for(lambda: not (active(keep) and active(hog)), 90, step=0.5)
        assert ended is not None, 'earlyoom killed neither within 90 s'
        log = director.check_output('journalctl -b -o cat --no-pager -t earlyoom -n 30 || true')
        killed = [name for name, unit in (('haproxy', keep), ('hog', hog)) if not active(unit)]
        print('lab earlyoom: killed %s; %s' % (killed, log.splitlines()[-3:]))
    finally:
        director.run('systemctl stop earlyoom %s %s %s', plain, keep, hog)
        director.run('systemctl reset-failed %s %s %s', plain, keep, hog)
    return killed, result


def test_earlyoom_with_the_role_s_options_spares_a_protected_name_and_kills_the_hog():
    assert 'ExecStart=' in director.check_output('systemctl cat earlyoom.service')
    killed, result = earlyoom_picks('systemctl start earlyoom.service')
    assert killed == ['hog'], killed
    assert 'earlyoom' in result['active_killers'] and result['exposed'] == [], result['exposed']
    assert 'haproxy' in result['killers'][2]['avoid'], result['killers']
    # systemd-oomd's preference, as systemd set it from the role's drop-in, on each protected unit's cgroup.
    assert [(t['oomd_preference'], t['oomd_live'], t['cgroup_owner']) for t in result['targets']] == \
        [('avoid', 'avoid', 0)] * len(PROTECTED), result['targets']


def test_negative_control_earlyoom_without_the_role_s_options_kills_the_bigger_protected_name():
    killed, result = earlyoom_picks('systemd-run --unit {unit} /usr/bin/earlyoom -r 3600')
    assert killed == ['haproxy'], killed
    assert result['status'] == 'drift' and result['active_killers'] == ['kernel', 'earlyoom']
    assert {e['comm'] for e in result['exposed']} >= {'haproxy', 'keepalived', 'syslog-ng'}, result['exposed']


def apply_role(oom_policy):
    """Run oom_protect on the director with the respawning unit as a sacrificial one (``oom_policy``, or without it
    when None: the role then removes its drop-in)."""
    extra = {'oom_protect_sacrificial': [] if oom_policy is None else
             [{'unit': RESPAWN, 'score_adj': 500, 'oom_policy': oom_policy}]}
    with tempfile.NamedTemporaryFile('w', suffix='.json') as handle:
        json.dump(extra, handle)
        handle.flush()
        helpers.lab_ansible('director', 'ansible.builtin.include_role', {'name': 'opsnotes.edge.oom_protect'},
                            '-e', '@' + handle.name)
    return director.check_output('systemctl show -p OOMPolicy --value %s', RESPAWN)


def oom_kills():
    events = director.run('cat /sys/fs/cgroup/system.slice/%s/memory.events', RESPAWN).stdout
    return int(dict(line.split() for line in events.splitlines()).get('oom_kill', 0)) if events else 0


def respawning_unit(oom_policy):
    """The unit under the role's ``oom_policy``: its state after the worker was OOM-killed (twice when it lives on)."""
    script = "#!/bin/sh\nwhile :; do python3 -c '%s'; sleep 1; done\n" % HOG
    unit = '[Service]\nExecStart=%s\nMemoryMax=48M\n' % WORKER
    director.check_output('printf "%%s" %s > %s && chmod 755 %s && printf "%%s" %s > /etc/systemd/system/%s'
                          ' && systemctl daemon-reload', script, WORKER, WORKER, unit, RESPAWN)
    try:
        assert apply_role(oom_policy) == oom_policy
        director.check_output('systemctl start %s', RESPAWN)
        if oom_policy == 'continue':
            assert helpers.wait_for(lambda: oom_kills() >= 2, 60), 'the worker was not OOM-killed twice in 60 s'
        else:
            assert helpers.wait_for(lambda: not active(RESPAWN), 60), 'the unit still runs after 60 s'
        state = director.check_output('systemctl show -p ActiveState -p Result %s', RESPAWN)
        print('lab OOMPolicy=%s: %s' % (oom_policy, state.replace('\n', ' ')))
        return dict(line.split('=', 1) for line in state.splitlines())
    finally:
        director.run('systemctl stop %s; systemctl reset-failed %s', RESPAWN, RESPAWN)
        apply_role(None)
        director.run('rm -f /etc/systemd/system/%s %s && systemctl daemon-reload', RESPAWN, WORKER)


def test_oom_policy_continue_keeps_a_unit_running_through_its_worker_s_oom_kills():
    assert respawning_unit('continue') == {'ActiveState': 'active', 'Result': 'success'}


def test_negative_control_oom_policy_stop_ends_the_unit_at_the_first_oom_kill():
    state = respawning_unit('stop')
    assert state['ActiveState'] != 'active' and state['Result'] == 'oom-kill', state
