# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): keepalived moves the VIP between the two directors. Under requests
from the client through the VIP and arping for it, the holder's keepalived stops: the other director holds the VIP
within 3 s, the longest gap between answered requests is measured (and printed), and only directors answer ARP for
the VIP, never a real server. The director that comes back stays BACKUP (nopreempt): never two holders.

The same failover seen through IPVS (the directors run on a kernel of their own): under requests over TLS to the
second VIP, which each director's IPVS forwards to the real servers by direct routing, the holder's keepalived stops;
the requests go on through the other director's IPVS (its counters grow by them) within the same 3 s, served by both
real servers."""

from __future__ import annotations

import os
import re
import time

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.200'
IPVS_VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.201'
MAX_GAP = 3.0
directors = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('director', 'director2')}
client = helpers.host('%s-client' % LAB)
real_servers = {name: helpers.host('%s-%s' % (LAB, name)) for name in ('rs1', 'rs2')}


def test_the_vip_moves_to_the_other_director_within_3s_and_only_directors_answer_arp():
    assert helpers.wait_for(lambda: len(helpers.vip_holders(directors, VIP)) == 1, 15) is not None
    holder = helpers.vip_holders(directors, VIP)[0]
    peer = [name for name in directors if name != holder][0]
    # -b: broadcast every request (arping otherwise goes on by unicast to the first MAC that answered).
    arping = 'opsnotes-lab-arping-%s' % os.getpid()
    client.check_output('systemd-run --collect --unit %s sh -c "arping -b -c 20 -I eth0 %s > /run/%s.out 2>&1"',
                        arping, VIP, arping)
    try:
        with helpers.VipWatch(client, directors, VIP, 16) as watch:
            directors[holder].check_output('systemctl stop keepalived')
            moved = helpers.wait_for(lambda: helpers.vip_holders(directors, VIP) == [peer], MAX_GAP)
            time.sleep(3)
            directors[holder].check_output('systemctl start keepalived')
            time.sleep(6)
    finally:
        directors[holder].run('systemctl start keepalived')
    assert helpers.wait_for(lambda: client.run('systemctl is-active --quiet %s', arping).rc != 0, 25) is not None
    answers = {mac.lower() for mac in re.findall(r'\[([0-9A-Fa-f:]{17})\]', client.check_output('cat /run/%s.out', arping))}
    gap = watch.longest_gap()
    print('lab failover: %s stopped on %s, VIP on %s after %.2fs, longest gap between answered requests %.2fs'
          % ('keepalived', holder, peer, moved or -1, gap))
    assert moved is not None and moved <= MAX_GAP
    assert gap <= MAX_GAP, gap
    assert helpers.vip_holders(directors, VIP) == [peer] and watch.two_holders() == []
    director_macs = {helpers.mac(h) for h in directors.values()}
    assert answers and answers <= director_macs, (answers, director_macs)
    assert not answers & {helpers.mac(h) for h in real_servers.values()}
    assert helpers.mac(directors[peer]) in answers


def ipvs_connections(h):
    """The connections IPVS forwarded for the second VIP's https on ``h`` since its table was made."""
    out = h.check_output('ipvsadm -Ln --stats --exact -t %s:443', IPVS_VIP)
    return int(re.search(r'^TCP\s+\S+\s+(\d+)', out, re.M).group(1))


def test_through_ipvs_the_other_directors_table_takes_the_requests_within_3s():
    assert helpers.wait_for(lambda: len(helpers.vip_holders(directors, IPVS_VIP)) == 1, 15) is not None
    holder = helpers.vip_holders(directors, IPVS_VIP)[0]
    peer = [name for name in directors if name != holder][0]
    before = ipvs_connections(directors[peer])
    try:
        with helpers.VipWatch(client, directors, IPVS_VIP, 14, port=443, sni='www.lab.test') as watch:
            directors[holder].check_output('systemctl stop keepalived')
            moved = helpers.wait_for(lambda: helpers.vip_holders(directors, IPVS_VIP) == [peer], MAX_GAP)
            time.sleep(3)
            directors[holder].check_output('systemctl start keepalived')
            time.sleep(6)
    finally:
        directors[holder].run('systemctl start keepalived')
    gap = watch.longest_gap()
    answered = len([row for row in watch.requests if row[1]])
    # Every request answered after the peer's first sample holding the VIP went through the peer's IPVS (a request
    # sent before it is not counted, whichever director took it). How many they are depends on how long the stop
    # took on a loaded machine, so they are counted, not assumed to be half.
    took_over = min([when for when, held in watch.samples[peer] if held] or [float('inf')])
    after = len([row for row in watch.requests if row[1] and row[0] > took_over])
    # The kernel folds its per-CPU counters into these every few seconds.
    forwarded = helpers.wait_for(lambda: ipvs_connections(directors[peer]) - before >= after, 10, step=0.5)
    count = ipvs_connections(directors[peer]) - before
    print('lab ipvs failover: keepalived stopped on %s, VIP on %s after %.2fs, longest gap %.2fs, %d requests '
          'answered, %d after the move, %d forwarded by %s' % (holder, peer, moved or -1, gap, answered, after, count,
                                                               peer))
    assert moved is not None and moved <= MAX_GAP
    assert gap <= MAX_GAP, gap
    assert watch.served_by() == {'served by rs1', 'served by rs2'}, watch.served_by()
    assert after >= 20, 'only %d requests answered after the move: too few to show where they went' % after
    assert forwarded is not None, 'the %d requests after the move did not go through %s\'s IPVS (%d counted)' % (
        after, peer, count)
    assert helpers.vip_holders(directors, IPVS_VIP) == [peer] and watch.two_holders() == []
