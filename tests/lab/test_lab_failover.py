# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): keepalived moves the VIP between the two directors. Under requests
from the client through the VIP and arping for it, the holder's keepalived stops: the other director holds the VIP
within 3 s, the longest gap between answered requests is measured (and printed), and only directors answer ARP for
the VIP, never a real server. The director that comes back stays BACKUP (nopreempt): never two holders."""

from __future__ import annotations

import os
import re
import time

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
VIP = (os.environ.get('OPSNOTES_LAB_NET') or '172.29.213') + '.200'
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
