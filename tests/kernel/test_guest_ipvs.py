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

MODULES = '/opt/opsnotes/ansible_collections/opsnotes/edge/plugins/modules'
CHECK = r'''
set -u
module() {  # name json-args: the collection's module in this kernel, its result on one line
  printf '{"ANSIBLE_MODULE_ARGS": %s}' "$2" > /tmp/args.json
  printf 'MODULE %s %s\n' "$1" "$(python3 ''' + MODULES + r'''/$1.py /tmp/args.json | tr -d '\n')"
}
ask() {  # label: one request from the client to the VIP, the server that answered (or the failure)
  printf 'ASK %s %s\n' "$1" "$(ip netns exec client python3 -c 'import urllib.request
try:
    print(urllib.request.urlopen("http://10.0.0.100/", timeout=3).read().decode().strip())
except Exception as exc:
    print("failed:", type(exc).__name__)')"
}
modprobe ip_vs && modprobe ip_vs_rr
ip link set lo up
ip link add br0 type bridge && ip link set br0 up
ip addr add 10.0.0.1/24 dev br0
for ns in client rs1 rs2 rs3; do
  ip netns add $ns
  ip link add v-$ns type veth peer name eth0 netns $ns
  ip link set v-$ns master br0 up
  ip -n $ns link set lo up
  ip -n $ns link set eth0 up
done
ip -n client addr add 10.0.0.10/24 dev eth0
for n in 1 2 3; do
  ip -n rs$n addr add 10.0.0.1$n/24 dev eth0
  mkdir -p /srv/rs$n && echo rs$n > /srv/rs$n/index.html
  ip netns exec rs$n python3 -m http.server 80 --bind 0.0.0.0 --directory /srv/rs$n >/dev/null 2>&1 &
done
# rs1 and rs2: the VIP on lo, and the ARP settings of a real server. rs3: none of it (the control).
for n in 1 2; do
  ip -n rs$n addr add 10.0.0.100/32 dev lo
  ip netns exec rs$n sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
done
# The director: the VIP on its bridge, one virtual service, rs1 and rs2 by direct routing.
ip addr add 10.0.0.100/32 dev br0
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
