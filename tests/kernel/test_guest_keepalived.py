# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""keepalived's virtual servers and their health checks, live on IPVS, which the lab's containers cannot run (their
kernel has no IPVS): the checker adds the real servers whose check passes to the kernel's table, takes out one that
stops answering, and puts it back.

In a guest kernel, on the LVS-DR site of guest.py, the collection's keepalived_config module writes a virtual server
for the VIP with an HTTP_GET check per real server that names no path (the documented default, "/": a check that
rendered "path None" took every real server out), validated by keepalived --config-test. keepalived's checker
(keepalived --check) then runs it.

- Both real servers enter the table, and the VIP's requests reach both in turn.
- rs1's HTTP server stops: the checker takes rs1 out, and every request reaches rs2. rs1 starts again: it is back.
- The control: the same checks on a path the servers do not have (404) take both real servers out, and the VIP
  answers nothing."""

from __future__ import annotations

import json
import re

import guest


def keepalived_args(path=None):
    check = {'type': 'HTTP_GET', 'connect_timeout': 1, 'retry': 1, 'delay_before_retry': 1}
    if path:
        check['path'] = path
    return json.dumps({'reload': False, 'config': {'virtual_servers': [{
        'address': '10.0.0.100', 'port': 80, 'lb_algo': 'rr', 'lb_kind': 'DR', 'delay_loop': 1,
        'real_servers': [{'address': '10.0.0.1%d' % n, 'port': 80, 'check': check} for n in (1, 2)]}]}})


CHECK = guest.LVS_SITE + r'''
table() {  # label count: wait up to 20 s for COUNT real servers in the table, then say how many there are
  for i in $(seq 200); do
    [ "$(ipvsadm -Ln | grep -c -- '-> .*Route')" = "$2" ] && break
    sleep 0.1
  done
  printf 'TABLE %s %s\n' "$1" "$(ipvsadm -Ln | grep -c -- '-> .*Route')"
}
module keepalived_config '@DEFAULT_PATH@' config
printf 'RENDERED %s\n' "$(grep -c 'path /$' /etc/keepalived/keepalived.conf)"
keepalived --dont-fork --log-console --check -f /etc/keepalived/keepalived.conf >/tmp/keepalived.log 2>&1 &
table healthy 2
for i in 1 2 3 4; do ask healthy$i; done
kill $(cat /tmp/rs1.pid)
table rs1-down 1
for i in 1 2 3; do ask down$i; done
serve 1
table rs1-back 2
for i in 1 2; do ask back$i; done
# The control: a path the servers do not have.
module keepalived_config '@MISSING_PATH@' config-missing
kill -HUP $(cat /run/keepalived.pid)
table missing 0
ask missing
'''.replace('@DEFAULT_PATH@', keepalived_args()).replace('@MISSING_PATH@', keepalived_args('/missing'))


def test_the_checker_keeps_the_table_to_the_real_servers_that_answer():
    console = guest.boot(CHECK)
    tables = dict(re.findall(r'^TABLE (\S+) (\d+)$', console, re.M))
    asked = dict(re.findall(r'^ASK (\S+) (.*)$', console, re.M))
    modules = {name: json.loads(text) for name, text in re.findall(r'^MODULE (\S+) (.*)$', console, re.M)}
    assert set(modules) == {'config', 'config-missing'} and len(tables) == 4, console[-4000:]
    assert modules['config']['validated'] is True and modules['config']['changed'] is True, modules['config']
    # The check without a path asks for "/" (two real servers, one "path /" each).
    assert re.search(r'^RENDERED 2$', console, re.M), console[-3000:]
    assert tables['healthy'] == '2', tables
    assert sorted(asked['healthy%d' % i] for i in range(1, 5)) == ['rs1', 'rs1', 'rs2', 'rs2'], asked
    assert tables['rs1-down'] == '1' and [asked['down%d' % i] for i in range(1, 4)] == ['rs2'] * 3, (tables, asked)
    assert tables['rs1-back'] == '2' and sorted(asked['back%d' % i] for i in (1, 2)) == ['rs1', 'rs2'], asked
    # The control.
    assert modules['config-missing']['validated'] is True, modules['config-missing']
    assert tables['missing'] == '0' and asked['missing'].startswith('failed'), (tables, asked)
