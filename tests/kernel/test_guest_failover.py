# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VRRP failover of two LVS directors, each with IPVS, under requests: what the lab's containers cannot show
(they have VRRP, but no IPVS to forward with).

In a guest kernel, network namespaces on one bridge: a client (10.0.0.10), two directors (d1 10.0.0.1, priority
150; d2 10.0.0.2, priority 100) and two real servers (rs1, rs2 with the VIP 10.0.0.100 on lo). The collection's
keepalived_config module writes each director's configuration: one VRRP instance holding the VIP (unicast between
the two) and the virtual server with its health checks. Each director runs keepalived in its namespace, with an IPVS
table of its own.

- d1 holds the VIP; requests reach both real servers through it. Its IPVS counters see only the inbound half (direct
  routing: the replies go from the real servers to the client), and the real servers log the client's own address.
- Under a request every 0.1 s, keepalived on d1 stops: d2 takes the VIP, and requests go on through d2's IPVS.
- The control: with keepalived stopped on both, nobody holds the VIP and nothing answers."""

from __future__ import annotations

import json
import re

import guest


def director_args(me, peer, priority):
    check = {'type': 'HTTP_GET', 'connect_timeout': 1, 'retry': 1, 'delay_before_retry': 1}
    return json.dumps({'reload': False, 'path': '/etc/keepalived/d%s.conf' % me[-1], 'config': {
        'vrrp_instances': [{'name': 'VI_WEB', 'interface': 'eth0', 'virtual_router_id': 51, 'priority': priority,
                            'advert_int': 1, 'unicast_src_ip': me, 'unicast_peers': [peer],
                            'virtual_ipaddresses': ['10.0.0.100/32']}],
        'virtual_servers': [{'address': '10.0.0.100', 'port': 80, 'lb_algo': 'rr', 'lb_kind': 'DR', 'delay_loop': 1,
                             'real_servers': [{'address': '10.0.0.1%d' % n, 'port': 80, 'check': check}
                                              for n in (1, 2)]}]}})


CHECK = guest.LVS_FUNCTIONS + r'''
attach client 10.0.0.10
attach d1 10.0.0.1
attach d2 10.0.0.2
for n in 1 2; do
  attach rs$n 10.0.0.1$n
  real_server $n
  serve $n
done
module keepalived_config '@D1@' d1 d1
module keepalived_config '@D2@' d2 d2
run_keepalived() {  # n: keepalived of director d<n>, in its namespace
  ip netns exec d$1 keepalived --dont-fork --log-console -f /etc/keepalived/d$1.conf -p /run/d$1.pid \
    -r /run/d$1-vrrp.pid -c /run/d$1-check.pid >/tmp/d$1.log 2>&1 &
  echo $! > /tmp/keepalived-d$1.pid
}
holders() {  # the directors holding the VIP
  for n in 1 2; do ip -n d$n -4 addr show dev eth0 | grep -q ' 10.0.0.100/' && printf 'd%s ' $n; done
}
stats() {  # director: "STATS d<n> connections inbound outbound" of its virtual service. The kernel adds its per-CPU
  # counters up a moment after the packets (measured: 0 right after four requests, 4 a few tenths of a second
  # later), so it waits up to 5 s for a first connection to be counted.
  local line
  for i in $(seq 50); do
    line=$(ip netns exec $1 ipvsadm -Ln --stats --exact -t 10.0.0.100:80 | awk '/^TCP/ {print $3, $4, $5}')
    [ "${line%% *}" != 0 ] && break
    sleep 0.1
  done
  printf 'STATS %s %s\n' "$1" "$line"
}
wait_for() {  # label director: wait up to 60 s until the director holds the VIP with both real servers in its table
  for i in $(seq 600); do
    [ "$(holders)" = "$2 " ] && [ "$(ip netns exec $2 ipvsadm -Ln | grep -c -- '-> .*Route')" = 2 ] && break
    sleep 0.1
  done
  printf 'HOLDERS %s %s\n' "$1" "$(holders)"
}
run_keepalived 1
run_keepalived 2
wait_for start d1
# The holder is read again after the requests: the counters below are d1's only if d1 held the VIP throughout.
for i in 1 2 3 4; do ask d1-$i; done
printf 'HOLDERS asked %s\n' "$(holders)"
stats d1
printf 'CLIENTS rs1 %s rs2 %s\n' "$(grep -c '^10.0.0.10 ' /tmp/rs1.log)" "$(grep -c '^10.0.0.10 ' /tmp/rs2.log)"
# Requests every 0.1 s for 8 s while d1's keepalived stops (the columns of the statistics: connections, inbound
# packets, outbound packets).
ip netns exec client python3 -c 'import json, time, urllib.request
results = []
end = time.monotonic() + 8
while time.monotonic() < end:
    try:
        results.append(urllib.request.urlopen("http://10.0.0.100/", timeout=2).read().decode().strip())
    except Exception as exc:
        results.append("failed")
    time.sleep(0.1)
print("LOAD " + json.dumps(results))' &
load=$!
sleep 2
kill $(cat /tmp/keepalived-d1.pid)
wait $load
wait_for failover d2
for i in 1 2 3 4; do ask d2-$i; done
stats d2
# The control: nobody left to hold the VIP.
kill $(cat /tmp/keepalived-d2.pid)
sleep 2
printf 'HOLDERS none %s\n' "$(holders)"
ask none
'''.replace('@D1@', director_args('10.0.0.1', '10.0.0.2', 150)).replace('@D2@', director_args('10.0.0.2', '10.0.0.1', 100))


def test_the_vip_moves_to_the_other_director_and_its_ipvs_forwards_the_requests():
    console = guest.boot(CHECK)
    holders = {label: value.split() for label, value in re.findall(r'^HOLDERS (\S+) ?(.*)$', console, re.M)}
    asked = dict(re.findall(r'^ASK (\S+) (.*)$', console, re.M))
    stats = {name: [int(v) for v in value.split()] for name, value in re.findall(r'^STATS (d\d) (.*)$', console, re.M)}
    modules = {name: json.loads(text) for name, text in re.findall(r'^MODULE (\S+) (.*)$', console, re.M)}
    assert set(modules) == {'d1', 'd2'} and all(m['validated'] for m in modules.values()), console[-4000:]
    assert holders['start'] == ['d1'] and holders['asked'] == ['d1'], (holders, console[-3000:])
    assert sorted(asked['d1-%d' % i] for i in range(1, 5)) == ['rs1', 'rs1', 'rs2', 'rs2'], asked
    # Direct routing: d1 counted the inbound packets, and no outbound one (the replies never passed it).
    connections, in_packets, out_packets = stats['d1']
    assert connections > 0 and in_packets > 0 and out_packets == 0, stats
    # The real servers saw the client's own address.
    clients = re.search(r'^CLIENTS rs1 (\d+) rs2 (\d+)$', console, re.M)
    assert clients and int(clients.group(1)) >= 2 and int(clients.group(2)) >= 2, console[-3000:]
    # The failover under requests: d2 holds the VIP, the requests went on, and d2's IPVS forwards them.
    load = json.loads(re.search(r'^LOAD (.*)$', console, re.M).group(1))
    assert len(load) > 30 and load.count('failed') <= 3 and set(load) - {'failed'} == {'rs1', 'rs2'}, load
    assert holders['failover'] == ['d2'], holders
    assert sorted(asked['d2-%d' % i] for i in range(1, 5)) == ['rs1', 'rs1', 'rs2', 'rs2'], asked
    assert stats['d2'][1] > 0 and stats['d2'][2] == 0, stats
    # The control.
    assert holders['none'] == [] and asked['none'].startswith('failed'), (holders, asked)
