# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""One IPVS table in both formats, written as the kernel (ip_vs_info_seq_show) and ipvsadm print it, and the
virtual services it holds as ipvs_check takes them."""

# /proc/net/ip_vs: "%s  %08X:%04X %s %s " + ("persistent %d %08X" | "") + "\n"; real servers
# "  -> %08X:%04X      %-7s %-6d %-10d %-10d\n"; IPv6 as [%pI6] (full form), firewall marks as "FWM  %08X %s %s".
PROC = (
    'IP Virtual Server version 1.2.1 (size=4096)\n'
    'Prot LocalAddress:Port Scheduler Flags\n'
    '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n'
    'TCP  AC1DD5C8:0050 wlc persistent 300 FFFFFFFF\n'
    '  -> AC1DD50B:0050      Route   1      0          0         \n'
    '  -> AC1DD50C:0050      Route   1      3          12        \n'
    'TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB rr \n'
    '  -> [2001:0db8:0000:0000:0000:0000:0000:0010]:01BB      Route   1      0          0         \n'
    'FWM  00000001 wrr persistent 60 FFFFFF00\n'
    '  -> AC1DD50B:0000      Route   2      0          0         \n'
    'UDP  AC1DD5C8:0035 rr ops \n'
)
# ipvsadm -Ln --exact: decimal ports, compressed IPv6 in brackets, "persistent N [mask M]" (no mask for one address).
IPVSADM = (
    'IP Virtual Server version 1.2.1 (size=4096)\n'
    'Prot LocalAddress:Port Scheduler Flags\n'
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
    'TCP  172.29.213.200:80 wlc persistent 300\n'
    '  -> 172.29.213.11:80             Route   1      0          0         \n'
    '  -> 172.29.213.12:80             Route   1      3          12        \n'
    'TCP  [2001:db8::1]:443 rr\n'
    '  -> [2001:db8::10]:443           Route   1      0          0         \n'
    'FWM  1 wrr persistent 60 mask 255.255.255.0\n'
    '  -> 172.29.213.11:0              Route   2      0          0         \n'
    'UDP  172.29.213.200:53 rr ops\n'
)
EXPECTED = [
    dict(protocol='TCP', address='172.29.213.200', port=80, scheduler='wlc', persistent=300,
         real_servers=[dict(address='172.29.213.11', weight=1), dict(address='172.29.213.12', weight=1)]),
    dict(protocol='TCP', address='2001:db8::1', port=443, scheduler='rr',
         real_servers=[dict(address='2001:db8::10')]),
    dict(fwmark=1, scheduler='wrr', persistent=60, real_servers=[dict(address='172.29.213.11', port=0, weight=2)]),
]
