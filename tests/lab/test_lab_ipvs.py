# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): IPVS on the directors, which run on a kernel of their own.

The second VIP's port 443 is a keepalived virtual server (inventories/lab: direct routing, round robin, a TCP check
every 2 s) in front of rs1 and rs2. A request from the client to it goes through the director holding the VIP and is
answered by a real server straight to the client: both real servers answer in turn, the director's IPVS counters
grow inbound only (no packet of the replies passes it), and the real server's access log names the client's own
address. A real server whose nginx stops leaves the table within seconds, the requests keep succeeding on the other
one, and it comes back when nginx is back.

Controls: a real server without the VIP on its lo drops what IPVS forwards to it (the requests it gets fail), and
with both real servers stopped nothing answers through the VIP."""

from __future__ import annotations

import os
import re
import time

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
NET = os.environ.get('OPSNOTES_LAB_NET') or '172.29.213'
VIP = NET + '.201'
directors = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('director', 'director2')}
client = helpers.host('%s-client' % LAB)
real_servers = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('rs1', 'rs2')}
ADDRESS = {'rs1': NET + '.140', 'rs2': NET + '.141'}
JOURNAL_HOSTS = ['%s-director' % LAB, '%s-director2' % LAB]
# A new connection per request, TLS not verified (the verify play proves the certificate): only who answers counts.
ASK = ('for i in $(seq %s); do curl -sk --max-time 2 --resolve www.lab.test:443:%s https://www.lab.test/ '
       '|| echo failed; echo; done')


def ask(count):
    """The answers of ``count`` requests through the VIP: 'served by rsN' or 'failed'."""
    return [line.strip() for line in client.check_output(ASK, str(count), VIP).splitlines() if line.strip()]


def holder():
    """The director holding the VIP (exactly one)."""
    holders = helpers.vip_holders(directors, VIP)
    assert len(holders) == 1, holders
    return holders[0]


def stats(director):
    """{real server address: (connections, packets in, packets out)} of the VIP's service, from ipvsadm --stats."""
    out = director.check_output('ipvsadm -Ln --stats --exact -t %s:443', VIP)
    return {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
            for m in re.finditer(r'->\s+([0-9.]+):443\s+(\d+)\s+(\d+)\s+(\d+)', out)}


def in_table(director, name):
    return re.search(r'->\s+%s:443\s' % re.escape(ADDRESS[name]),
                     director.check_output('ipvsadm -Ln --exact -t %s:443', VIP)) is not None


def test_requests_go_through_ipvs_by_direct_routing_and_the_real_server_sees_the_client():
    director = directors[holder()]
    marker = 'opsnotes-ipvs-%d' % os.getpid()
    before = stats(director)
    answers = ask(20)
    # The kernel folds its per-CPU counters into these every few seconds: wait until both servers' show the requests.
    helpers.wait_for(lambda: all(stats(director)[a][0] - before[a][0] >= answers.count('served by ' + n)
                                 for n, a in ADDRESS.items()), 10, step=0.5)
    after = stats(director)
    assert answers.count('served by rs1') >= 5 and answers.count('served by rs2') >= 5, answers
    assert 'failed' not in answers, answers
    for name, address in ADDRESS.items():
        connections = after[address][0] - before[address][0]
        inbound = after[address][1] - before[address][1]
        outbound = after[address][2] - before[address][2]
        print('lab ipvs: %s: %d connections, %d packets in, %d out' % (name, connections, inbound, outbound))
        assert connections >= 5 and inbound >= 5 * connections, (name, before, after)
        # Direct routing: the replies leave the real server for the client, and never pass the director.
        assert outbound == 0, (name, before, after)
    # The real server's own access log names the client's address (no proxy between them).
    client.check_output('curl -sk --max-time 2 --resolve www.lab.test:443:%s "https://www.lab.test/?%s"', VIP, marker)
    lines = [line for h in real_servers.values()
             for line in h.check_output('grep -h %s /var/log/nginx/access.log || true', marker).splitlines()]
    assert len(lines) == 1 and lines[0].startswith(helpers.ip_of('%s-client' % LAB) + ' '), lines


def test_negative_control_a_real_server_without_the_vip_on_lo_drops_what_ipvs_sends_it():
    rs2 = real_servers['rs2']
    rs2.check_output('ip addr del %s/32 dev lo', VIP)
    try:
        answers = ask(10)
    finally:
        rs2.check_output('ip addr add %s/32 dev lo', VIP)
    # Round robin: rs1 answers its share, every request sent to rs2 fails.
    assert 'served by rs2' not in answers and answers.count('failed') >= 3 and 'served by rs1' in answers, answers
    assert ask(6).count('failed') == 0


def test_a_stopped_real_server_leaves_the_table_and_comes_back():
    director = directors[holder()]
    rs1 = real_servers['rs1']
    assert in_table(director, 'rs1') and in_table(director, 'rs2')
    rs1.check_output('systemctl stop nginx')
    try:
        out = helpers.wait_for(lambda: not in_table(director, 'rs1'), 15)
        answers = ask(10)
    finally:
        rs1.check_output('systemctl start nginx')
    print('lab ipvs: rs1 out of the table %.1fs after its nginx stopped' % (out or -1))
    assert out is not None, 'rs1 is still in the IPVS table 15 s after its nginx stopped'
    assert answers == ['served by rs2'] * 10, answers
    back = helpers.wait_for(lambda: in_table(director, 'rs1'), 15)
    assert back is not None, 'rs1 did not come back into the IPVS table'
    assert 'served by rs1' in ask(6)


def test_negative_control_with_both_real_servers_stopped_nothing_answers():
    director = directors[holder()]
    for h in real_servers.values():
        h.check_output('systemctl stop nginx')
    try:
        assert helpers.wait_for(lambda: not in_table(director, 'rs1') and not in_table(director, 'rs2'), 15) is not None
        answers = ask(4)
    finally:
        for h in real_servers.values():
            h.check_output('systemctl start nginx')
    assert answers == ['failed'] * 4, answers
    assert helpers.wait_for(lambda: in_table(director, 'rs1') and in_table(director, 'rs2'), 15) is not None
    time.sleep(0.5)
    assert ask(4).count('failed') == 0
