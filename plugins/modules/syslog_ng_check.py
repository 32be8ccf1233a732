#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: syslog_ng_check
short_description: Check syslog-ng's live configuration and prove end to end that a log line arrives intact
version_added: 0.1.0
author: Opsnotes Edge maintainers (@opsnotes)
description:
  - Runs C(syslog-ng --syntax-only) on the live configuration and checks that the daemon answers C(syslog-ng-ctl).
  - "End-to-end probe, in one call (source and destination on one host) or two (O(probe_append) on the sending host,
    then O(probe_wait) on the collector with the returned line): append a unique access-log-like line to a source
    file, then wait, bounded by O(probe_timeout), until it appears in the destination file, whose path may use
    syslog-ng macros (C($PROGRAM), C($YEAR$MONTH$DAY), C($HOST)...)."
  - The probe passes only if the whole line arrived, first field included, in the file of the expected C($PROGRAM).
    When it does not, the module looks for the marker under any expansion of the path and says what happened (for
    example the first field eaten as C($PROGRAM), when a file source parses lines as syslog messages).
extends_documentation_fragment:
  - opsnotes.edge._attributes
  - opsnotes.edge._attributes.INFO_MODULE
options:
  syntax:
    description: Check the live configuration with C(syslog-ng --syntax-only) and that the daemon is running.
    type: bool
    default: true
  main_config:
    description: The main configuration file.
    type: path
    default: /etc/syslog-ng/syslog-ng.conf
  probe_append:
    description: Source file to append the probe line to (the file a C(file()) source follows).
    type: path
  probe_line:
    description: The line to wait for, as returned by an earlier O(probe_append) call on another host.
    type: str
  probe_sent_at:
    description: Epoch seconds at which O(probe_line) was appended (from the earlier call), for the latency.
    type: float
  probe_wait:
    description: Destination file path to wait in; syslog-ng macros are expanded (unknown ones match anything).
    type: str
  probe_program:
    description: The C($PROGRAM) the line must arrive with (used to expand C($PROGRAM) in O(probe_wait)).
    type: str
  probe_client:
    description:
      - The address the line must name as a whole word, such as RV(opsnotes.edge.http_check#module:probe.client)
        of the request whose access log line O(probe_line) is. It proves that every proxy on the way passed the
        client's address on and the server logged it, instead of the last proxy's address.
    type: str
  probe_host:
    description: The C($HOST) to expand in O(probe_wait); anything when omitted.
    type: str
  probe_timeout:
    description: Seconds to wait for the line.
    type: float
    default: 20
  fail_on_problem:
    description:
      - "Fail when there is a problem (RV(problems)): the syntax check fails, the daemon is not running, or the probe
        fails (the full result is returned either way)."
      - With V(false), only report it.
    type: bool
    default: true
    aliases: [fail_on_error]
notes:
  - O(probe_append) writes to the source file even in check mode; that is the point of the probe. Without
    O(probe_append) the module writes nothing.
seealso:
  - module: opsnotes.edge.syslog_ng_config
"""

EXAMPLES = r"""
- name: Append a probe line on the web host
  opsnotes.edge.syslog_ng_check:
    probe_append: /var/log/nginx/access.log
  register: sent

- name: Wait for it on the collector, under the right program and day
  opsnotes.edge.syslog_ng_check:
    probe_line: "{{ sent.probe.line }}"
    probe_sent_at: "{{ sent.probe.sent_at }}"
    probe_wait: /var/log/remote/$PROGRAM/$YEAR$MONTH$DAY/access_log
    probe_program: app.example.org
  delegate_to: collector1
"""

RETURN = r"""
ok:
  description: True when every requested check passed.
  returned: always
  type: bool
problems:
  description: Each problem found, one sentence each (empty when RV(ok)); the failure message joins them.
  returned: always
  type: list
  elements: str
  sample: ["probe failed: the line did not arrive within 20.0s in /var/log/remote/web1/messages"]
syntax_ok:
  description: Result of C(syslog-ng --syntax-only) (null when O(syntax=false)).
  returned: always
  type: bool
running:
  description: Whether the daemon answered C(syslog-ng-ctl stats) (null when O(syntax=false)).
  returned: always
  type: bool
syntax_output:
  description: What the syntax check printed.
  returned: always
  type: str
probe:
  description:
    - The probe, when one was requested. C(line), C(marker), C(sent_at); after waiting also C(ok), C(path),
      C(record) (the line as written by syslog-ng), C(latency) in seconds, C(expected_paths), C(found_elsewhere),
      with O(probe_client) also C(client) and C(addresses) (the IP addresses the record names), and C(reason) when
      it failed.
  returned: when a probe was requested
  type: dict
  sample:
    ok: true
    line: '203.0.113.42 - - [21/Nov/2026:06:00:00 +0000] "GET /opsnotes-probe/5f0c... HTTP/1.1" 200 0 "-" "probe"'
    path: /var/log/remote/app.example.org/20261121/access_log
    record: '06:00:00 web1 app.example.org 203.0.113.42 - - [21/Nov/2026:06:00:00 +0000] "GET ...'
    latency: 0.41
"""

import glob
import ipaddress
import random
import re
import time
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish
from ansible_collections.opsnotes.edge.plugins.module_utils._syslog_ng import MACRO_RE, daemon_running, syntax_check

DATE_MACROS = {'YEAR': '%Y', 'MONTH': '%m', 'DAY': '%d', 'HOUR': '%H', 'MIN': '%M', 'SEC': '%S',
               'WEEKDAY': '%a', 'MONTH_ABBREV': '%b', 'MONTH_NAME': '%B', 'WEEK_DAY_NAME': '%A'}


def expand(pattern, program=None, host=None, when=None):
    """A glob for a destination path: date macros from ``when``, PROGRAM/HOST when known, else '*'."""
    when = time.localtime(when if when is not None else time.time())

    def one(match):
        name = match.group(1) or match.group(2)
        base = re.sub(r'^[RSC]_', '', name)
        if base in DATE_MACROS:
            return time.strftime(DATE_MACROS[base], when)
        if name == 'PROGRAM' and program:
            return glob.escape(program)
        if name in ('HOST', 'FULLHOST') and host:
            return glob.escape(host)
        return '*'
    return MACRO_RE.sub(one, pattern)


def make_line():
    marker = 'opsnotes-probe-%s' % uuid.uuid4().hex
    first = '203.0.113.%d' % random.randint(1, 254)     # TEST-NET-3: text only, never contacted
    stamp = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime())
    return marker, '%s - - [%s] "GET /%s HTTP/1.1" 200 0 "-" "opsnotes-probe"' % (first, stamp, marker)


def find(paths, marker):
    """(path, record) of the first line holding the marker in any of ``paths``."""
    for path in paths:
        try:
            with open(path, 'rb') as handle:
                for raw in handle:
                    if marker.encode() in raw:
                        return path, raw.decode('utf-8', 'replace').rstrip('\n')
        except (IOError, OSError):
            continue
    return None, None


def addresses_in(record):
    """The IP addresses that ``record`` names as whole words, in order: bare, with a port ("192.0.2.1:80",
    "[2001:db8::1]:443"), or next to quotes, brackets, commas and semicolons."""
    found = []
    for word in record.split():
        word = word.strip('"\',;()')
        bracketed = re.fullmatch(r'\[([0-9A-Fa-f:.]+)\](?::[0-9]+)?', word)
        if bracketed:
            word = bracketed.group(1)
        elif word.count(':') == 1:
            word = word.split(':', 1)[0]
        try:
            address = str(ipaddress.ip_address(word.strip('[]')))
        except ValueError:
            continue
        if address not in found:
            found.append(address)
    return found


def client_check(result, client, record):
    """Whether the record names ``client``: the request's own address, passed on by every proxy on the way."""
    try:
        client = str(ipaddress.ip_address(client))
    except ValueError:
        result.update(ok=False, reason='probe_client %r is not an IP address' % (client,))
        return
    result['client'] = client
    result['addresses'] = addresses_in(record)
    if client not in result['addresses']:
        result['ok'] = False
        result['reason'] = ('the line names %s, not the client %s: a proxy on the way did not pass the client address '
                            'on (PROXY protocol, X-Forwarded-For), or the server does not log it'
                            % (', '.join(result['addresses']) or 'no address', client))


def wait(params, line, sent_at):
    marker = re.search(r'opsnotes-probe-[0-9a-f]{32}', line)
    if not marker:
        return dict(ok=False, line=line, reason='probe_line holds no opsnotes-probe marker')
    marker = marker.group(0)
    stamps = sorted({sent_at, time.time()})
    expected = sorted({expand(params['probe_wait'], params['probe_program'], params['probe_host'], t) for t in stamps})
    deadline = time.time() + params['probe_timeout']
    path = record = None
    while True:
        path, record = find([p for pattern in expected for p in glob.glob(pattern)], marker)
        if path or time.time() >= deadline:
            break
        time.sleep(0.2)
    result = dict(line=line, marker=marker, sent_at=sent_at, expected_paths=expected, path=path, record=record)
    if path:
        result['latency'] = round(time.time() - sent_at, 3)
        if line in record:
            result['ok'] = True
            if params.get('probe_client'):
                client_check(result, params['probe_client'], record)
            return result
        first = line.split(' ', 1)[0]
        result['ok'] = False
        result['reason'] = ('the line arrived without its first field %r: it was parsed as a syslog header '
                            '(no-parse missing on the source?)' % first if first not in record
                            else 'the line arrived altered')
        return result
    anywhere = sorted({expand(params['probe_wait'], None, None, t) for t in stamps})
    other, other_record = find([p for pattern in anywhere for p in glob.glob(pattern)], marker)
    result['ok'] = False
    result['found_elsewhere'] = [other] if other else []
    if other:
        result['record'] = other_record
        result['reason'] = ('the line arrived in %s, not under the expected program %r: $PROGRAM was not the '
                            'override (the first field eaten as $PROGRAM?)' % (other, params['probe_program']))
    else:
        result['reason'] = 'the line did not arrive within %ss in %s' % (params['probe_timeout'], ', '.join(expected))
    return result


def run(module):
    params = module.params
    result = dict(changed=False, syntax_ok=None, running=None, syntax_output='')
    if params['syntax']:
        syslog_ng = module.get_bin_path('syslog-ng', required=True)
        result['syntax_ok'], result['syntax_output'] = syntax_check(module, syslog_ng, params['main_config'])
        result['running'] = daemon_running(module, module.get_bin_path('syslog-ng-ctl'))
    if params['probe_append']:
        marker, line = make_line()
        sent_at = time.time()
        try:
            with open(params['probe_append'], 'a') as handle:
                handle.write(line + '\n')
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot append the probe line to %s: %s' % (params['probe_append'], exc), **result)
        result['probe'] = dict(line=line, marker=marker, sent_at=sent_at)
    if params['probe_wait']:
        line = params['probe_line'] or (result.get('probe') or {}).get('line')
        if not line:
            module.fail_json(msg='probe_wait needs probe_line or probe_append', **result)
        sent_at = params['probe_sent_at'] or (result.get('probe') or {}).get('sent_at') or time.time()
        result['probe'] = wait(params, line, sent_at)
    problems = []
    if result['syntax_ok'] is False:
        problems.append('syntax check failed: %s' % result['syntax_output'])
    if result['running'] is False:
        problems.append('syslog-ng is not running (syslog-ng-ctl stats failed)')
    if result.get('probe') and result['probe'].get('ok') is False:
        problems.append('probe failed: %s' % result['probe']['reason'])
    finish(module, result, problems)


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            syntax=dict(type='bool', default=True),
            main_config=dict(type='path', default='/etc/syslog-ng/syslog-ng.conf'),
            probe_append=dict(type='path'),
            probe_line=dict(type='str'),
            probe_sent_at=dict(type='float'),
            probe_wait=dict(type='str'),
            probe_program=dict(type='str'),
            probe_host=dict(type='str'),
            probe_client=dict(type='str'),
            probe_timeout=dict(type='float', default=20),
            fail_on_problem=fail_on_problem_option(legacy=['fail_on_error']),
        ),
        required_by=dict(probe_line=('probe_wait',), probe_program=('probe_wait',), probe_host=('probe_wait',),
                         probe_client=('probe_wait',)),
        supports_check_mode=True,
    )


def main():
    run(build_module())


if __name__ == '__main__':
    main()
