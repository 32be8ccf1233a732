# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The configuration model beyond routing, proven with real requests to fe_limits (molecule.yml): a stick-table
rate limit, a tcp-request rule, sticky sessions by cookie, a dynamic use_backend and an http-response rule. Each
has its control."""

from __future__ import annotations

import time

import helpers

LB, CLIENT = 'opsnotes-hap-lb', 'opsnotes-hap-client'
JOURNAL_HOSTS = [LB]
client, lb = helpers.host(CLIENT), helpers.host(LB)


def codes(url, count):
    """The status codes of ``count`` requests to ``url`` (one connection, one after the other)."""
    out = client.check_output("curl -s -o /dev/null -w '%%{http_code} ' %s", '%s[1-%d]' % (url, count))
    return out.split()


def request(path='/', port=8089, header='X-Test: 1'):
    """(status, the response's headers in lower case, body) of one request to fe_limits."""
    out = client.check_output('curl -s -m 5 -D - -H %s %s', header, 'http://%s:%d%s' % (LB, port, path))
    head, _sep, body = out.replace('\r\n', '\n').partition('\n\n')
    lines = head.splitlines()
    fields = dict(line.split(': ', 1) for line in lines[1:] if ': ' in line)
    return lines[0].split()[1], {k.lower(): v for k, v in fields.items()}, body.strip()


def test_the_eleventh_request_in_three_seconds_is_refused_with_429():
    """The table counts requests over 3 s (molecule.yml): 11 requests in a row fit in that window even on a loaded
    machine, where one second could be too short for them."""
    assert codes('http://%s:8089/limited/' % LB, 11) == ['200'] * 10 + ['429']
    # Controls: the same burst without the tracking rule (another path), and the limit forgets: HAProxy's rate over a
    # period counts the previous period in part, and nothing of the one before.
    assert codes('http://%s:8089/free/' % LB, 11) == ['200'] * 11
    time.sleep(6.5)
    assert codes('http://%s:8089/limited/' % LB, 1) == ['200']


def denied_connections():
    """fe_limits' count of connections refused by a tcp-request connection rule (HAProxy's dcon)."""
    return int(helpers.haproxy_stat(lb, '/run/haproxy/opsnotes-admin.sock')[('fe_limits', 'FRONTEND')]['dcon'])


def test_tcp_request_rejects_connections_to_one_port_only():
    """HAProxy accepts the connection and closes it at once: curl sees a reset or an empty reply, or, when the
    reset comes before it has finished connecting, a failed connect (7). HAProxy's own count of refused connections
    says it was the rule."""
    before = denied_connections()
    refused = client.run('curl -s -m 5 -o /dev/null %s', 'http://%s:8090/' % LB)
    assert refused.rc in (7, 52, 56), refused       # closed before any HTTP
    assert denied_connections() == before + 1
    assert request('/', 8089)[0] == '200'          # control: the other port of the same frontend
    assert denied_connections() == before + 1


def test_a_cookie_keeps_a_client_on_one_server_and_http_response_names_it():
    status, headers, _body = request('/')
    assert status == '200' and headers['set-cookie'].startswith('SRV=w'), headers
    cookie = headers['set-cookie'].split(';')[0]
    server = headers['x-server']                   # the http-response rule: the server that answered
    assert cookie == 'SRV=%s' % {'www1': 'w1', 'www2': 'w2'}[server]
    seen = {request('/', 8089, 'Cookie: %s' % cookie)[1]['x-server'] for _attempt in range(6)}
    assert seen == {server}
    # Control: without the cookie, round robin uses both servers.
    assert {request('/')[1]['x-server'] for _attempt in range(6)} == {'www1', 'www2'}


def test_a_dynamic_use_backend_picks_the_backend_a_header_names():
    _status, _headers, body = request('/p', 8089, 'X-Pool: STATIC')
    assert body.startswith('opsnotes-hap-static:8080 /p'), body      # be_%[req.hdr(x-pool),lower] = be_static
    _status, headers, body = request('/p')
    assert headers['x-server'] in ('www1', 'www2') and not body.startswith('opsnotes-hap-static')   # control


def test_a_health_check_written_as_directives_judges_the_servers():
    """option httpchk and http-check expect, as directives: the server answering what the check expects is up; the
    control, expecting what it never answers, is down."""
    down = []
    for _attempt in range(30):
        result = helpers.ansible_host(LB).ansible('opsnotes.edge.haproxy_check', 'socket=%s fail_on_down=false'
                                                  % '/run/haproxy/opsnotes-admin.sock', check=False)
        down = [d for d in result['down'] if d.startswith('be_health')]
        if 'be_health_bad/health2' in down:
            break
        time.sleep(1)
    assert down == ['be_health_bad/health2'], result['down']
