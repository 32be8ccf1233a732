# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet-wide OOM table: statuses per protected target, victims ranked as the module returned them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.filter.oom import FilterModule, oom_report

EACCES = 'EACCES: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE'


def proc(pid, adj, expected=-900, error=None, comm='syslog-ng'):
    return dict(pid=pid, comm=comm, oom_score_adj=adj, oom_score=1, expected=expected, ok=adj == expected, error=error)


def target(processes, expected=-900, unit=-900, selector='unit=syslog-ng.service'):
    out = dict(selector=selector, expected=expected, matched=len(processes), processes=processes,
               ok=all(p['ok'] for p in processes))
    if unit is not None:
        out['unit_score_adj'] = unit
    return out


def result(*targets, cap=False, top=()):
    return dict(status='x', cap_sys_resource=cap, targets=list(targets), top=list(top))


def statuses(report):
    return [(row['host'], row['status']) for row in report['services']]


@pytest.mark.parametrize('one, cap, status', [
    (target([proc(10, -900)]), True, 'applied'),
    (target([proc(10, 0, error=EACCES)]), False, 'limited'),
    (target([proc(10, 0, error=EACCES)]), True, 'drift'),                 # refused with the capability: not a limit
    (target([proc(10, 0, error=None)]), False, 'drift'),                  # someone changed it, no refusal
    (target([proc(10, 0, expected=500, error='EACCES: x')], expected=500, unit=500), False, 'drift'),  # positive
    (target([proc(10, -900)], unit=0), True, 'drift'),                    # the drop-in is not loaded
    (target([]), False, 'not running'),
    (target([proc(10, 300, expected=300)], expected=300, unit=None, selector='name=batch'), False, 'applied'),
])
def test_status_per_target(one, cap, status):
    assert statuses(oom_report({'h1': result(one, cap=cap)})) == [('h1', status)]


def test_details_name_the_values_and_the_reasons():
    rows = oom_report({'h1': result(target([proc(10, 0, error=EACCES), proc(11, 0, error=EACCES)]),
                                    target([proc(12, -900)], unit=0, selector='unit=haproxy.service'))})['services']
    assert rows[0]['detail'] == 'wants -900: 2 process(es) at 0; unit OOMScoreAdjust -900; ' + EACCES
    assert rows[1]['detail'].startswith('wants -900: 1 process(es) at -900; unit OOMScoreAdjust 0; the unit would '
                                        'start it at 0, not -900 (its drop-in is not loaded)')


def test_victims_keep_the_module_order_and_every_host_appears_in_the_given_order():
    top = [dict(pid=7, comm='batch', oom_score=1500, oom_score_adj=800, cmdline='/opt/batch'),
           dict(pid=1, comm='systemd', oom_score=666, oom_score_adj=0, cmdline='/lib/systemd/systemd')]
    report = oom_report({'web2': result(top=top), 'web1': {'msg': 'unreachable'}})
    assert [(v['host'], v['rank'], v['comm']) for v in report['victims']] == [('web2', 1, 'batch'), ('web2', 2, 'systemd')]
    assert report['services'] == [dict(host='web1', target='-', status='unread', detail='unreachable')]
    assert report['lines'][0].split() == ['HOST', 'PROTECTED', 'STATUS', 'DETAIL']
    assert report['lines'][-2].split()[:6] == ['web2', '1', '7', 'batch', '1500', '800']


def test_a_result_that_is_not_a_dict_is_an_error():
    with pytest.raises(AnsibleFilterError, match='expects a dict'):
        oom_report([])
    assert FilterModule().filters()['oom_report'] is oom_report


def test_oom_dropins_settings_per_unit_and_earlyoom_s_command_line():
    from ansible_collections.opsnotes.edge.plugins.filter.oom import oom_dropins
    units = [dict(unit='rsyslog.service', score_adj=-900, earlyoom_names=['rsyslogd']),
             dict(unit='keepalived.service', score_adj=-900, oom_policy='continue', oomd_preference='omit'),
             dict(unit='batch.service', score_adj=700, earlyoom_names=['batch'])]
    processes = [dict(name='worker', score_adj=-500), dict(pattern='x', score_adj=-500), dict(name='job', score_adj=1)]
    dropins = oom_dropins(units, processes)
    assert dropins['rsyslog.service'] == {'Service': {'OOMScoreAdjust': -900, 'ManagedOOMPreference': 'avoid'}}
    assert dropins['keepalived.service'] == {'Service': {'OOMScoreAdjust': -900, 'OOMPolicy': 'continue',
                                                         'ManagedOOMPreference': 'omit'}}
    assert dropins['batch.service'] == {'Service': {'OOMScoreAdjust': 700}}    # sacrificial: no oomd preference
    assert dropins['earlyoom.service'] == {'Service': {'ExecStart': [
        '', '"/usr/bin/earlyoom" $EARLYOOM_ARGS --avoid "^(rsyslogd|worker)$$" --prefer "^(batch|job)$$"']}}
    # No names, or earlyoom turned off: no drop-in for earlyoom; no default oomd preference: none written.
    bare = oom_dropins([dict(unit='a.service', score_adj=-1)], oomd_preference='', earlyoom_command='/usr/bin/earlyoom')
    assert bare == {'a.service': {'Service': {'OOMScoreAdjust': -1}}}
    assert 'earlyoom.service' not in oom_dropins(units, processes, earlyoom_command='')
    # earlyoom itself protected: its drop-in holds both.
    both = oom_dropins([dict(unit='earlyoom.service', score_adj=-1000, earlyoom_names=['earlyoom'])])
    assert both['earlyoom.service'] == {'Service': {'OOMScoreAdjust': -1000, 'ManagedOOMPreference': 'avoid', 'ExecStart': [
        '', '"/usr/bin/earlyoom" $EARLYOOM_ARGS --avoid "^(earlyoom)$$"']}}
    with pytest.raises(AnsibleFilterError, match='earlyoom_command'):
        oom_dropins(units, earlyoom_command='earlyoom')
