# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keepalived's live VRRP state, from the data dump it writes on its DATA signal (keepalived.data)."""

from __future__ import annotations

import re


def parse_data(text):
    """The VRRP instances of a keepalived.data dump: [{name, state, wantstate, priority, effective_priority,
    interface, vips, last_transition (epoch seconds), master_down (seconds)}] in file order."""
    instances, current, in_vips = [], None, False
    for line in (text or '').splitlines():
        if line.startswith('------<'):
            current, in_vips = None, False
            continue
        match = re.match(r'^ VRRP Instance = (\S+)$', line)
        if match:
            current = dict(name=match.group(1), state=None, wantstate=None, priority=None, effective_priority=None,
                           interface=None, vips=[], last_transition=None, master_down=None)
            instances.append(current)
            in_vips = False
            continue
        if current is None:
            continue
        if in_vips:
            # 2.2 and later: five spaces, "10.0.0.1 dev eth0 ..."; 2.1: four, "10.0.0.1/24 dev eth0 ...".
            vip = re.match(r'^ {4,5}([0-9a-fA-F.:]+)(?:/[0-9]+)?(?: |$)', line)
            if vip:
                current['vips'].append(vip.group(1))
                continue
            in_vips = False
        match = re.match(r'^ {3}([A-Za-z][A-Za-z _]*?) = (.*)$', line)
        if match:
            key, value = match.group(1), match.group(2).strip()
            if key in ('State', 'Wantstate'):
                current[key.lower()] = value
            elif key == 'Priority':
                current['priority'] = int(value)
            elif key == 'Effective priority':
                current['effective_priority'] = int(value)
            elif key == 'Interface':
                current['interface'] = value
            elif key == 'Last transition':
                current['last_transition'] = float(value.split()[0])
            elif key == 'Master down timer':
                current['master_down'] = int(value.split()[0]) / 1e6
        elif re.match(r'^ {3}Virtual IP(?: \([0-9]+\))? ?:$', line):     # "Virtual IP (1):" (2.2), "Virtual IP :" (2.1)
            in_vips = True
    return instances


def addresses_held(ip_output):
    """The addresses of ``ip -o addr show`` output, without their prefix length."""
    return sorted(set(re.findall(r'\binet6? ([0-9a-fA-F.:]+)/', ip_output or '')))


def judge(instances, held, expected=None):
    """Per instance, the VIPs it holds on this host; problems: a MASTER without its VIPs, a BACKUP holding them,
    a FAULT, an expected instance keepalived does not run."""
    problems = []
    names = [item['name'] for item in instances]
    for name in expected or []:
        if name not in names:
            problems.append('%s: keepalived runs no such VRRP instance' % name)
    for item in instances:
        item['held'] = [vip for vip in item['vips'] if vip in held]
        if not item['vips']:
            # Every instance has one at least: none read means a dump this parser does not know.
            problems.append("%s: no virtual address in keepalived's data dump (an unknown dump format?)" % item['name'])
        if item['state'] == 'MASTER' and len(item['held']) != len(item['vips']):
            missing = sorted(set(item['vips']) - set(item['held']))
            problems.append('%s: MASTER without %s on this host' % (item['name'], ', '.join(missing)))
        elif item['state'] != 'MASTER' and item['held']:
            held = ', '.join(item['held'])
            problems.append('%s: %s but holds %s (two holders?)' % (item['name'], item['state'], held))
        if item['state'] == 'FAULT':
            problems.append('%s: FAULT (an interface down or a tracked check failing)' % item['name'])
    return problems


def settled(instances, now):
    """True when every instance is in a state it keeps: MASTER or FAULT, or BACKUP for longer than its master down
    timer (a BACKUP that has heard no MASTER for that long becomes one: right after a start or a reload, every
    instance is BACKUP until the election)."""
    for item in instances:
        if item['state'] == 'BACKUP':
            since = now - (item['last_transition'] or now)
            if since <= (item['master_down'] or 0) + 0.5:
                return False
        elif item['state'] not in ('MASTER', 'FAULT'):
            return False
    return True
