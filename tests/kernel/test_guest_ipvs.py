# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A packet through IPVS in direct-routing mode, which the lab's containers cannot send (their kernel has no IPVS).

In a guest kernel (guest.py), network namespaces on one bridge make a small LVS-DR site: a client (10.0.0.10), the
director (the guest's own namespace, 10.0.0.1, holding the VIP 10.0.0.100) and two real servers (10.0.0.11 and .12,
each with an HTTP server naming itself). The director's virtual service sends each connection to a real server by
its MAC address only, so the real server answers for the VIP: it must hold the VIP on lo, with ARP sysctls that keep
it from answering ARP for it.

- Requests from the client to the VIP are answered by both real servers in turn (round robin).
- The client learned the VIP's address from the director's MAC alone: no real server answers ARP for it.
- The collection's ipvs_check reads the live table and finds the service and both real servers.
- The collection's ipvs_real_server drains rs1 (weight 0): the following requests all reach rs2.
- The control: a real server without the VIP on lo drops what the director sends it (the request times out), so
  the answers above came through IPVS's direct routing, not around it."""

from __future__ import annotations

import json
import re

import guest

CHECK = guest.LVS_SITE + r'''
# The director's virtual service: rs1 and rs2 by direct routing.
ipvsadm -A -t 10.0.0.100:80 -s rr
ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1
sleep 1
for i in 1 2 3 4; do ask rr$i; done
printf 'DIRECTOR-MAC %s\n' "$(cat /sys/class/net/br0/address)"
printf 'CLIENT-NEIGH %s\n' "$(ip -n client neigh show 10.0.0.100 | tr '\n' ' ')"
for n in 1 2; do printf 'RS-MAC rs%s %s\n' $n "$(ip netns exec rs$n cat /sys/class/net/eth0/address)"; done
module ipvs_check '@IPVS_CHECK_ARGS@'
module ipvs_real_server '{"address": "10.0.0.11", "state": "drain"}'
for i in 1 2 3 4; do ask drained$i; done
# The control: rs3, without the VIP on lo, as the only real server.
ipvsadm -C
ipvsadm -A -t 10.0.0.100:80 -s rr
ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1
ask control
'''.replace('@IPVS_CHECK_ARGS@', json.dumps({'virtual_servers': [{
    'address': '10.0.0.100', 'port': 80, 'scheduler': 'rr',
    'real_servers': [{'address': '10.0.0.1%d' % n, 'port': 80, 'weight': 1} for n in (1, 2)]}]}))


def test_requests_to_the_vip_are_forwarded_by_ipvs_direct_routing_and_a_drain_moves_them():
    console = guest.boot(CHECK)
    asked = dict(re.findall(r'^ASK (\S+) (.*)$', console, re.M))
    modules = {name: json.loads(text) for name, text in re.findall(r'^MODULE (\S+) (.*)$', console, re.M)}
    assert len(asked) == 9 and set(modules) == {'ipvs_check', 'ipvs_real_server'}, console[-4000:]
    # Round robin over both real servers, each answering for the VIP itself.
    assert sorted(asked['rr%d' % i] for i in range(1, 5)) == ['rs1', 'rs1', 'rs2', 'rs2'], asked
    # ARP for the VIP: the director's MAC, not a real server's.
    director = re.search(r'^DIRECTOR-MAC (\S+)', console, re.M).group(1)
    neighbour = re.search(r'^CLIENT-NEIGH (.*)$', console, re.M).group(1)
    assert 'lladdr %s' % director in neighbour, (director, neighbour)
    for mac in re.findall(r'^RS-MAC rs\d (\S+)', console, re.M):
        assert mac not in neighbour
    # The collection's check on the live table.
    check = modules['ipvs_check']
    assert check['available'] is True and check['ok'] is True, check
    # The collection's drain: weight 0 for rs1, and every new connection goes to rs2.
    drain = modules['ipvs_real_server']
    assert drain['changed'] is True and [s['after']['weight'] for s in drain['servers']] == [0], drain
    assert [asked['drained%d' % i] for i in range(1, 5)] == ['rs2'] * 4, asked
    # The control: without the VIP on lo, the real server drops the forwarded request.
    assert asked['control'].startswith('failed'), asked
