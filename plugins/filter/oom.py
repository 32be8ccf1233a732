# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""OOM filters: the systemd drop-ins of the oom_protect role (oom_dropins), and the fleet-wide OOM table of
playbooks/oom_report.yml from each host's opsnotes.edge.oom_score result (oom_report)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.module_utils._oom import earlyoom_exec, limited_by_capability
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe


def target_status(target, cap):
    """(status, detail) of one protected service or process: applied, limited, drift or not running."""
    expected = target.get('expected')
    procs = target.get('processes') or []
    wrong = [p for p in procs if not p.get('ok')]
    unit = target.get('unit_score_adj', expected)
    parts = []
    if procs:
        values = sorted({p.get('oom_score_adj') for p in procs}, key=str)
        parts.append('%d process(es) at %s' % (len(procs), ', '.join(str(v) for v in values)))
    if 'unit_score_adj' in target:
        parts.append('unit OOMScoreAdjust %s' % unit)
    reasons = sorted({str(p.get('error') or 'value did not stick') for p in wrong})
    if unit != expected:
        status = 'drift'
        reasons.insert(0, 'the unit would start it at %s, not %s (its drop-in is not loaded)' % (unit, expected))
    elif not procs:
        status = 'not running'
    elif not wrong:
        status = 'applied'
    elif all(limited_by_capability(expected, cap, p.get('error')) for p in wrong):
        status = 'limited'
    else:
        status = 'drift'
    detail = 'wants %s: %s' % (expected, '; '.join(parts) or 'no process')
    return status, detail + ('; ' + '; '.join(reasons) if reasons and status != 'applied' else '')


def oom_dropins(units, processes=None, oomd_preference='avoid', earlyoom_command='/usr/bin/earlyoom',
                earlyoom_unit='earlyoom.service'):
    """{unit: {'Service': {...}}}: the drop-in settings of each unit target (OOMScoreAdjust=, and OOMPolicy= and
    ManagedOOMPreference= where set; a protected unit, score_adj below 0, gets ``oomd_preference`` unless it sets its
    own), and earlyoom's ExecStart= avoiding the protected processes and preferring the sacrificial ones (their
    earlyoom_names, or the name of a process target) when ``earlyoom_command`` is not empty."""
    if not isinstance(units, list) or not isinstance(processes or [], list):
        raise AnsibleFilterError('oom_dropins: expects lists of OOM targets')
    dropins, avoid, prefer = {}, [], []
    for target in units:
        score = int(target['score_adj'])
        settings = {'OOMScoreAdjust': score}
        if target.get('oom_policy'):
            settings['OOMPolicy'] = target['oom_policy']
        preference = target.get('oomd_preference') or (oomd_preference if score < 0 else None)
        if preference:
            settings['ManagedOOMPreference'] = preference
        dropins[target['unit']] = {'Service': settings}
        (avoid if score < 0 else prefer if score > 0 else []).extend(target.get('earlyoom_names') or [])
    for target in processes or []:
        if target.get('name'):
            (avoid if int(target['score_adj']) < 0 else prefer if int(target['score_adj']) > 0 else []).append(
                target['name'])
    if earlyoom_command and (avoid or prefer):
        try:
            command = earlyoom_exec(earlyoom_command, avoid, prefer)
        except Unsafe as exc:
            raise AnsibleFilterError('oom_dropins: earlyoom_command: %s' % exc) from None
        # Beside the unit's own score where earlyoom is itself a target.
        dropins.setdefault(earlyoom_unit, {'Service': {}})['Service']['ExecStart'] = ['', command]
    return dropins


def oom_report(results):
    """{host: oom_score result} -> {'services': [{host, target, status, detail}],
    'victims': [{host, rank, pid, comm, oom_score, oom_score_adj, cmdline}], 'lines': the two tables as text lines},
    hosts in the order given."""
    if not isinstance(results, dict):
        raise AnsibleFilterError('oom_report: expects a dict of host -> opsnotes.edge.oom_score result, not %s'
                                 % type(results).__name__)
    services, victims = [], []
    for host, result in results.items():
        if not isinstance(result, dict) or 'targets' not in result:
            why = result.get('msg') if isinstance(result, dict) else None
            services.append(dict(host=host, target='-', status='unread', detail=str(why or 'no oom_score result')))
            continue
        cap = bool(result.get('cap_sys_resource'))
        for target in result['targets']:
            status, detail = target_status(target, cap)
            services.append(dict(host=host, target=target.get('selector', '?'), status=status, detail=detail))
        for rank, proc in enumerate(result.get('top') or [], 1):
            row = dict((k, proc.get(k)) for k in ('pid', 'comm', 'oom_score', 'oom_score_adj', 'cmdline'))
            victims.append(dict(row, host=host, rank=rank))
    lines = ['%-12s %-30s %-11s %s' % ('HOST', 'PROTECTED', 'STATUS', 'DETAIL')]
    lines += ['%(host)-12s %(target)-30s %(status)-11s %(detail)s' % row for row in services]
    lines += ['', '%-12s %4s %8s %-16s %9s %6s  %s' % ('HOST', 'RANK', 'PID', 'PROCESS', 'OOM_SCORE', 'ADJ', 'COMMAND')]
    lines += ['%(host)-12s %(rank)4d %(pid)8s %(comm)-16s %(oom_score)9s %(oom_score_adj)6s  %(cmdline)s' % row
              for row in victims]
    return dict(services=services, victims=victims, lines=lines)


class FilterModule(object):
    def filters(self):
        return {'oom_dropins': oom_dropins, 'oom_report': oom_report}
