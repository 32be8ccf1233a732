#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: oom_score
short_description: Get and set the OOM score adjustment of running processes, and report who dies first
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Reads and sets C(/proc/PID/oom_score_adj) (V(-1000) to V(1000); V(-1000) disables OOM killing of the
    process) for processes chosen by pid, pidfile, exact name, command-line pattern or systemd unit (every
    process in the unit's cgroup), in one call for any number of targets.
  - Reports per process the expected and live C(oom_score_adj) and the kernel's C(oom_score).
  - Honest about privilege. Lowering a value below the process's minimum needs C(CAP_SYS_RESOURCE). Without it,
    the kernel refuses the write (EACCES/EPERM). The module then reports which processes could not be set and why,
    and sets RV(status=limited). It never claims a value it did not read back.
  - For unit targets it also reads the C(OOMScoreAdjust=) systemd has loaded for the unit, which is what the
    unit's processes get at their next start (C(unit_score_adj) in RV(targets)).
  - With O(report_top), lists the processes the OOM killer would pick first (highest C(oom_score)).
  - Names the OOM killers active on the host in RV(killers), the kernel's and the user-space C(systemd-oomd) and
    C(earlyoom) when their process runs. A protected target (O(targets[].score_adj) below 0) that an active one may
    still pick is listed in RV(exposed) and makes RV(status=drift). earlyoom ranks by C(oom_score) and moves the
    names its C(--avoid) matches 300 points down, so a process it does not match is exposed. systemd-oomd kills a
    whole cgroup; it skips a unit's last, or never, where the cgroup holds its C(avoid) or C(omit) preference (what
    C(ManagedOOMPreference=) sets), and honours that only on a cgroup owned by root.
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.STATE_MODULE
options:
  targets:
    description:
      - Processes to read or set. Each item holds exactly one selector (O(targets[].pid), O(targets[].pidfile),
        O(targets[].name), O(targets[].pattern), O(targets[].unit)) and optionally O(targets[].score_adj).
      - Mutually exclusive with the single-target shorthand options of the same names.
    type: list
    elements: dict
    suboptions:
      pid:
        description: A process id.
        type: int
      pidfile:
        description: A file holding the process id.
        type: path
      name:
        description: Exact process name (C(comm); names over 15 characters also match the basename of C(argv[0])).
        type: str
      pattern:
        description: Python regular expression searched in the command line (arguments joined by spaces).
        type: str
      unit:
        description: A systemd service; every process in its cgroup is selected.
        type: str
      score_adj:
        description: The value to set, V(-1000) to V(1000). Omit to only read.
        type: int
      if_installed:
        description:
          - With O(targets[].unit), only where systemd has the unit (its C(LoadState) is not C(not-found)). A unit
            that is not installed is left out of RV(targets) and listed in RV(not_installed), instead of being
            reported as matching no process.
          - For the services a role protects where they are installed, without listing every unit first.
        type: bool
        default: false
        version_added: 0.2.0
  pid:
    description: Shorthand for one target. A process id.
    type: int
  pidfile:
    description: Shorthand for one target. A file holding the process id.
    type: path
  name:
    description: Shorthand for one target. Exact process name.
    type: str
  pattern:
    description: Shorthand for one target. Regular expression searched in the command line.
    type: str
  unit:
    description: Shorthand for one target. A systemd service.
    type: str
  score_adj:
    description: Shorthand for one target. The value to set, V(-1000) to V(1000).
    type: int
  report_top:
    description: Also list this many processes with the highest C(oom_score) (the first OOM victims). V(0) lists none.
    type: int
    default: 0
  strict:
    description: Fail when any value could not be applied (instead of reporting RV(status=limited) or RV(status=drift)).
    type: bool
    default: false
notes:
  - Only running processes are changed. Durable protection of a service comes from C(OOMScoreAdjust=) in a systemd
    drop-in (see the C(opsnotes.edge.oom_protect) role); this module applies the value at once without a restart.
  - The value is inherited by child processes started afterwards.
seealso:
  - module: opsnotes.edge.systemd_dropins
"""

EXAMPLES = r"""
- name: Protect the log daemon now and make batch jobs the first victims
  opsnotes.edge.oom_score:
    targets:
      - {unit: rsyslog.service, score_adj: -900}
      - {pattern: '^/usr/bin/python3 /opt/batch/', score_adj: 800}
    report_top: 5
  register: oom

- name: Read only
  opsnotes.edge.oom_score:
    name: mysqld
"""

RETURN = r"""
status:
  description:
    - V(ok) when every selected process holds its expected value and no protected one is in RV(exposed); V(limited)
      when the only failures are negative values refused for lack of C(CAP_SYS_RESOURCE); V(drift) otherwise.
  returned: always
  type: str
  sample: limited
ok:
  description: True when RV(status) is V(ok).
  returned: always
  type: bool
cap_sys_resource:
  description: Whether the module ran with C(CAP_SYS_RESOURCE) (needed to lower values below 0).
  returned: always
  type: bool
targets:
  description:
    - Per target, the selector, the expected value, the matched processes and (for units) the loaded systemd value.
    - For units, C(oom_kills) is how many of its processes an OOM killer has killed since the unit last started
      (its cgroup's C(memory.events)); null where the host has no such count (cgroup v1).
    - For units, C(oom_policy) and C(oomd_preference) are the C(OOMPolicy=) and C(ManagedOOMPreference=) systemd has
      loaded (null where its version has no such setting); C(oomd_live) is the preference set on the running unit's
      cgroup (V(avoid), V(omit) or V(none); null when it has no cgroup) and C(cgroup_owner) the uid owning that
      cgroup.
  returned: always
  type: list
  elements: dict
  sample:
    - selector: unit=rsyslog.service
      expected: -900
      matched: 1
      unit_score_adj: -900
      oom_kills: 0
      oom_policy: stop
      oomd_preference: avoid
      oomd_live: avoid
      cgroup_owner: 0
      ok: false
      processes:
        - {pid: 212, comm: rsyslogd, before: 0, oom_score_adj: 0, oom_score: 666, expected: -900, ok: false,
           error: "EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE, which this host
           (or container) does not grant"}
unprotected:
  description: Every process whose live value differs from the expected one, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{pid: 212, comm: rsyslogd, expected: -900, oom_score_adj: 0, reason: "EACCES: ..."}]
unmatched:
  description:
    - Selectors that matched no running process (a stopped unit, a stale pidfile, a typo). For units the drop-in
      still applies at the next start.
  returned: always
  type: list
  elements: str
  sample: [pidfile=/run/batch.pid]
not_installed:
  description: The unit targets with O(targets[].if_installed) whose unit systemd does not have; they are not in
    RV(targets).
  returned: always
  type: list
  elements: str
  sample: [earlyoom.service]
  version_added: 0.2.0
last_oom_kill:
  description:
    - The kernel's last OOM kill since boot, from its log in the journal (C(journalctl -k)), as C({time, pid, comm,
      oom_score_adj, kind}); C(kind) is V(system) (the host ran out of memory) or V(cgroup) (a memory cgroup's
      limit). Null when there was none, or where the journal holds no kernel messages (a container's).
  returned: always
  type: dict
  sample: {time: "2026-12-06T14:50:02Z", pid: 4242, comm: batch, oom_score_adj: 1000, kind: system}
oom_kills_since_boot:
  description: How many OOM kills the kernel's log holds since boot (0 where it holds none, see RV(last_oom_kill)).
  returned: always
  type: int
killers:
  description:
    - The OOM killers of the host, C({name, active, pid}) each; V(kernel) is always active. For V(earlyoom), also
      C(avoid) and C(prefer), the regular expressions of its running command line (null where not given).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: kernel, active: true, pid: null}
    - {name: systemd-oomd, active: false, pid: null}
    - {name: earlyoom, active: true, pid: 512, avoid: "^(haproxy|rsyslogd)$", prefer: "^(batch)$"}
active_killers:
  description: The names of the active ones in RV(killers).
  returned: always
  type: list
  elements: str
  sample: [kernel, earlyoom]
exposed:
  description:
    - Protected processes (earlyoom) or units (systemd-oomd) that an active user-space killer may still pick, with
      the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - {killer: earlyoom, selector: unit=myapp.service, pid: 812, comm: myapp,
       reason: "earlyoom (pid 512) would not avoid myapp (pid 812, unit=myapp.service): its --avoid ..."}
top:
  description: The O(report_top) processes with the highest C(oom_score), highest first.
  returned: always
  type: list
  elements: dict
  sample: [{pid: 998, comm: batch, oom_score: 1466, oom_score_adj: 800, cmdline: "/usr/bin/python3 /opt/batch/run.py"}]
"""

import datetime
import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._oom import (
    CAP_SYS_RESOURCE,
    SELECTORS,
    cgroup_oom_kills,
    cgroup_oomd_preference,
    exposures,
    find_killers,
    has_capability,
    limited_by_capability,
    parse_kill,
    permission_reason,
    process_info,
    processes,
    refused_without_cap,
    select,
    selector_text,
    target_errors,
    write_score,
)


def _unit_state(module, unit):
    """What systemd holds for ``unit``: {OOMScoreAdjust (int or None), ControlGroup, OOMPolicy,
    ManagedOOMPreference, LoadState} (None where unknown: no systemctl, or a systemd without the property)."""
    keys = ('OOMScoreAdjust', 'ControlGroup', 'OOMPolicy', 'ManagedOOMPreference', 'LoadState')
    systemctl = module.get_bin_path('systemctl')
    shown = {}
    if systemctl:
        rc, out, _err = module.run_command([systemctl, 'show'] + ['--property=' + key for key in keys] + ['--', unit])
        shown = dict(line.partition('=')[::2] for line in out.splitlines()) if rc == 0 else {}
    state = {key: (shown.get(key) or '').strip() or None for key in keys}
    score = state['OOMScoreAdjust'] or ''
    state['OOMScoreAdjust'] = int(score) if score.lstrip('-').isdigit() else None
    return state


def _kills(module):
    """(the kernel's OOM kills since boot as its log has them, oldest first): [] where this host's journal holds no
    kernel messages (a container's) or there is no journalctl."""
    journalctl = module.get_bin_path('journalctl')
    if not journalctl:
        return []
    rc, out, _err = module.run_command([journalctl, '-k', '-b', '-o', 'json', '--no-pager', '-g', 'Killed process'])
    kills = []
    for line in out.splitlines() if rc == 0 else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        kill = parse_kill(entry.get('MESSAGE') if isinstance(entry.get('MESSAGE'), str) else '')
        if kill and str(entry.get('__REALTIME_TIMESTAMP', '')).isdigit():
            when = datetime.datetime.fromtimestamp(int(entry['__REALTIME_TIMESTAMP']) / 1e6, datetime.timezone.utc)
            kills.append(dict(kill, time=when.strftime('%Y-%m-%dT%H:%M:%SZ')))
    return kills


def _apply(module, proc, expected, cap, root):
    """Set one process. Returns (oom_score_adj now, or as predicted in check mode; oom_score now;
    the reason when the value is not the expected one)."""
    current, score = proc['oom_score_adj'], proc['oom_score']
    if expected is None or current == expected:
        return current, score, None
    if not cap and refused_without_cap(current, expected):
        if module.check_mode:
            return current, score, permission_reason('EACCES', expected) + ' (not written: read-only run)'
    elif module.check_mode:
        return expected, score, None
    error = write_score(proc['pid'], expected, root)
    fresh = process_info(proc['pid'], root)        # read back: never report a value we did not see
    if fresh is None:
        return current, score, error or 'process exited'
    return fresh['oom_score_adj'], fresh['oom_score'], error


def run(module, root='/'):
    params = module.params
    shorthand = {k: params[k] for k in SELECTORS + ('score_adj',) if params[k] is not None}
    targets = params['targets'] if params['targets'] is not None else ([shorthand] if shorthand else [])
    targets = [{k: v for k, v in t.items() if v is not None} for t in targets]
    optional = set(index for index, target in enumerate(targets) if target.pop('if_installed', False))
    errors = target_errors(targets, 'targets', score_required=False)
    errors += ['targets[%d].if_installed: only a unit target can be left out where it is not installed' % index
               for index in sorted(optional) if 'unit' not in targets[index]]
    if errors:
        module.fail_json(msg='; '.join(errors))

    cap = has_capability(CAP_SYS_RESOURCE, root)
    exclude = {os.getpid(), os.getppid()}   # never match this module's own process or its shell
    procs = processes(root)
    result_targets, unprotected, diff_before, diff_after, not_installed = [], [], [], [], []
    for index, target in enumerate(targets):
        state = _unit_state(module, target['unit']) if target.get('unit') else None
        if index in optional and state and state['LoadState'] == 'not-found':
            not_installed.append(target['unit'])
            continue
        expected = target.get('score_adj')
        rows = []
        for proc in select(target, procs, root, exclude):
            now, score, error = _apply(module, proc, expected, cap, root)
            row = dict(pid=proc['pid'], comm=proc['comm'], before=proc['oom_score_adj'], oom_score_adj=now,
                       oom_score=score, expected=expected, ok=expected is None or now == expected, error=error)
            if now != row['before']:
                diff_before.append('%d %s: %d\n' % (proc['pid'], proc['comm'], row['before']))
                diff_after.append('%d %s: %d\n' % (proc['pid'], proc['comm'], now))
            if not row['ok']:
                unprotected.append(dict(pid=proc['pid'], comm=proc['comm'], expected=expected, oom_score_adj=now,
                                        reason=error or 'value did not stick'))
            rows.append(row)
        entry = dict(selector=selector_text(target), expected=expected, matched=len(rows), processes=rows,
                     ok=all(r['ok'] for r in rows))
        if state:
            group = state['ControlGroup']
            entry.update(unit_score_adj=state['OOMScoreAdjust'], oom_kills=cgroup_oom_kills(group, root),
                         oom_policy=state['OOMPolicy'], oomd_preference=state['ManagedOOMPreference'])
            entry['oomd_live'], entry['cgroup_owner'] = cgroup_oomd_preference(group, root)
        result_targets.append(entry)

    unmatched = [t['selector'] for t in result_targets if t['matched'] == 0]
    limited = [u for u in unprotected if limited_by_capability(u['expected'], cap, u['reason'])]
    killers = find_killers(procs)
    exposed = exposures(killers, result_targets)
    if not unprotected and not exposed:
        status = 'ok'
    else:
        status = 'limited' if len(limited) == len(unprotected) and not exposed else 'drift'
    top = []
    if params['report_top'] > 0:
        ranked = sorted((p for p in processes(root) if p['pid'] not in exclude and p['oom_score'] is not None),
                        key=lambda p: (-p['oom_score'], p['pid']))
        top = [dict(pid=p['pid'], comm=p['comm'], oom_score=p['oom_score'], oom_score_adj=p['oom_score_adj'],
                    cmdline=' '.join(p['cmdline'])[:200]) for p in ranked[:params['report_top']]]
    kills = _kills(module)
    result = dict(changed=bool(diff_after), status=status, ok=status == 'ok', cap_sys_resource=cap,
                  targets=result_targets, unprotected=unprotected, unmatched=unmatched, not_installed=not_installed,
                  top=top, killers=killers,
                  active_killers=[k['name'] for k in killers if k['active']], exposed=exposed,
                  oom_kills_since_boot=len(kills), last_oom_kill=kills[-1] if kills else None,
                  diff=dict(before=''.join(diff_before), after=''.join(diff_after)))
    for selector in unmatched:
        module.warn('%s matches no running process' % selector)
    for item in unprotected:
        module.warn('pid %d (%s): oom_score_adj is %d, expected %d: %s'
                    % (item['pid'], item['comm'], item['oom_score_adj'], item['expected'], item['reason']))
    for item in exposed:
        module.warn('%s: %s' % (item['selector'], item['reason']))
    if (unprotected or exposed) and params['strict']:
        counts = ['%d process(es) could not be set' % len(unprotected)] if unprotected else []
        counts += ['%d exposed to an OOM killer' % len(exposed)] if exposed else []
        module.fail_json(msg='%s: %s' % (', '.join(counts), '; '.join(
            ['%d %s: %s' % (u['pid'], u['comm'], u['reason']) for u in unprotected] + [e['reason'] for e in exposed])),
            **result)
    module.exit_json(**result)


def build_module():
    selector_spec = dict(pid=dict(type='int'), pidfile=dict(type='path'), name=dict(type='str'),
                         pattern=dict(type='str'), unit=dict(type='str'))
    target_spec = dict(selector_spec, score_adj=dict(type='int'), if_installed=dict(type='bool', default=False))
    return AnsibleModule(
        argument_spec=dict(
            targets=dict(type='list', elements='dict', options=target_spec),
            score_adj=dict(type='int'),
            report_top=dict(type='int', default=0),
            strict=dict(type='bool', default=False),
            **selector_spec
        ),
        mutually_exclusive=[('targets', key) for key in SELECTORS + ('score_adj',)] + [SELECTORS],
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
