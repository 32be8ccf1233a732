# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hostile corpus shared by the property tests (tests/unit) and the differential tests (tests/differential)."""

from __future__ import annotations

# Quotes, braces, ';', line ends, CR, NUL, '%' scopes and specifiers, a leading '-', '$()', backticks, '#'.
HOSTILE = list('\'"`{}();#$\\\n\r\0\t% -!|&*?<>~=@[],') + ['\x0b', '\x7f', 'é', '\u2028']
KNOWN = [
    '::1%lo" port(514)); }; destination d_x { program("touch /tmp/x"); }; log { source(s_app); destination(d_x); };'
    ' destination d_pad { network("::1',
    '::1%lo\nport(1)', 'ops$(touch /tmp/x)@example.org', '-f', '/etc/shadow', "it's", 'lab\n', 'a\r', 'a\0b',
    '/run/x.sock\nstats socket ipv4@0.0.0.0:9999 level admin', '/x\nExecStartPost=/bin/touch /tmp/pwned',
    '`id`', '$(id)', '${HOME}', '%n', 'a\\', '\\', '"', "'", '} ; {', '# comment', '--', '-i', '',
]


# HAProxy conditions from its own documentation (fetches and converters the lint does not list, quotes, backslashes),
# which the lint must pass and render as written, and haproxy -c must accept (tests/differential).
HAPROXY_DOCUMENTED = [
    '{ var(txn.x) -m found }', '{ req.ssl_alpn h2 }', '{ stopping }', '{ sc0_conn_rate gt 10 }',
    '{ hdr(host),map_str(/etc/haproxy/hosts.map) -m found }', '{ var(txn.alg) -m str "RS256" }',
    '{ path_reg ^/.+\\.php(/.*)?$ }', "{ path_beg '/x/' }", '!{ ssl_fc } { hdr(host) -i "a b" }',
    '{ req.hdr(x-token) -m str "a\\"b" }', '{ env(HOME) -m found }',
]
