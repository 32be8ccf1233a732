# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""OOM protection in a real kernel's OOM killer, which the lab's containers cannot show (they may not lower a score:
no CAP_SYS_RESOURCE; every oom_score row of the lab says LIMITED).

In a guest kernel (guest.py), a stand-in for the log daemon (opsnotes-logd) holds 200 MiB in a memory cgroup of
320 MiB, and the collection's oom_score module gives it the score the oom_protect role gives syslog-ng (-900). A
second process (opsnotes-hog) then allocates 200 MiB more, and the cgroup runs out of memory once. The kernel kills
the hog, and the log daemon lives: the biggest process survives because of its score.

The control is the same run with the score the process would have without the role (0): the kernel kills the log
daemon, the biggest process, first."""

from __future__ import annotations

import json
import re

import guest

CHECK = r'''
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
cp /usr/bin/python3 /usr/local/bin/opsnotes-logd
cp /usr/bin/python3 /usr/local/bin/opsnotes-hog
# Alive and not a zombie: a child the kernel killed answers kill -0 until the shell reaps it, and dash reaps only
# while it waits for a foreground command.
alive() { [ -e /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
# Only the two contenders live in the round's cgroup. This shell, its sleeps and the module stay outside: when the
# hog's memory is not yet freed after its kill, a fork inside the cgroup would start a second OOM, and the kernel
# could take this shell (score 0) and end the test's script.
in_round() { cg=$1; shift; sh -c 'echo $$ > /sys/fs/cgroup/'"$cg"'/cgroup.procs; exec "$@"' in_round "$@"; }
round() {  # $1: the score the module gives the log daemon
  mkdir /sys/fs/cgroup/round$1
  echo 320M > /sys/fs/cgroup/round$1/memory.max
  in_round round$1 opsnotes-logd -c 'import time
held = bytearray(200 << 20)
for i in range(0, len(held), 4096):
    held[i] = 1
open("/tmp/logd.ready", "w").close()
time.sleep(600)' &
  logd=$!
  while [ ! -e /tmp/logd.ready ]; do sleep 0.1; done
  rm /tmp/logd.ready
  printf '{"ANSIBLE_MODULE_ARGS": {"name": "opsnotes-logd", "score_adj": %s}}' "$1" > /tmp/args.json
  # printf, not echo: dash's echo would turn the JSON's escaped newlines into real ones.
  printf 'MODULE %s %s\n' "$1" "$(python3 /opt/opsnotes/ansible_collections/opsnotes/edge/plugins/modules/oom_score.py /tmp/args.json | tr -d '\n')"
  # 200 MiB more, 16 at a time: one OOM event in the cgroup (400 MiB wanted of 320), then it waits.
  in_round round$1 opsnotes-hog -c 'import time
chunks = []
for _ in range(13):
    chunk = bytearray(16 << 20)
    for i in range(0, len(chunk), 4096):
        chunk[i] = 1
    chunks.append(chunk)
open("/tmp/hog.done", "w").close()
time.sleep(600)' &
  hog=$!
  while alive $hog && [ ! -e /tmp/hog.done ]; do sleep 0.1; done
  if alive $hog; then hog_state=alive; kill $hog; else hog_state=killed; fi
  if alive $logd; then logd_state=alive; kill $logd; else logd_state=dead; fi
  wait $hog $logd 2>/dev/null
  rm -f /tmp/hog.done
  echo "ROUND $1 logd=$logd_state hog=$hog_state"
}
round -900
round 0
dmesg | grep -E "Killed process|oom-kill:" | sed 's/^/KERNEL /'
'''


def rounds(console):
    found = {}
    for adj, text in re.findall(r'^MODULE (-?\d+) (.*)$', console, re.M):
        found.setdefault(int(adj), {})['module'] = json.loads(text)
    for adj, logd, hog in re.findall(r'^ROUND (-?\d+) logd=(\w+) hog=(\w+)', console, re.M):
        found.setdefault(int(adj), {}).update(logd=logd, hog=hog)
    return found


def test_the_oom_killer_takes_the_hog_not_the_protected_log_daemon_and_the_control_shows_it_would():
    console = guest.boot(CHECK)
    found = rounds(console)
    assert set(found) == {-900, 0}, console[-4000:]
    protected, control = found[-900], found[0]
    # The module in a real kernel: the capability is there, and the score sticks (no LIMITED).
    module = protected['module']
    assert module['cap_sys_resource'] is True and module['status'] == 'ok' and module['changed'] is True
    assert [p['oom_score_adj'] for p in module['targets'][0]['processes']] == [-900]
    kills = re.findall(r'^KERNEL .*Killed process \d+ \((\S+)\).*oom_score_adj:(-?\d+)', console, re.M)
    # Protected: the kernel killed the hog, once; the log daemon, the bigger process until then, lived.
    assert protected['logd'] == 'alive' and protected['hog'] == 'killed', console[-4000:]
    assert kills[0] == ('opsnotes-hog', '0') and kills[1:2] == [('opsnotes-logd', '0')], kills
    # The control, without the score: the kernel took the log daemon first. (The hog may follow it when its next
    # chunk comes before the daemon's memory is freed.)
    assert control['module']['targets'][0]['processes'][0]['oom_score_adj'] == 0
    assert control['logd'] == 'dead', (control, kills)
