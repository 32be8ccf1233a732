# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The configuration model beyond routing, proven with real requests to fe_limits (molecule.yml): a stick-table
rate limit, a tcp-request rule, sticky sessions by cookie, a dynamic use_backend and an http-response rule. Each
has its control."""

from __future__ import annotations

import json
import time

import helpers

LB, CLIENT = 'opsnotes-hap-lb', 'opsnotes-hap-client'
JOURNAL_HOSTS = [LB]
client, lb = helpers.host(CLIENT), helpers.host(LB)


def codes(url, count):
    """The status codes of ``count`` requests to ``url`` (one connection, one after the other)."""
    out = client.check_output("curl -s -o /dev/null -w '%%{http_code} ' %s", '%s[1-%d]' % (url, count))
    return out.split()


def request(path='/', port=8089, header='X-Test: 1', host=None):
    """(status, the response's headers in lower case, body) of one request to fe_limits."""
    url = 'http://%s:%d%s' % (LB, port, path)
    if host:
        out = client.check_output('curl -s -m 5 -D - -H %s -H %s %s', header, 'Host: ' + host, url)
    else:
        out = client.check_output('curl -s -m 5 -D - -H %s %s', header, url)
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


# The scenario's maps (molecule.yml), and trusted.lst with other entries.
MAPS = [dict(name='hosts.map', entries={'static.molecule.test': 'be_static', '#hash.molecule.test': 'be_static',
                                        'www.molecule.test': 'be_www'}),
        dict(name='blocked-paths.lst', entries=['/private/', '/.git'])]


def converge_with_trusted(entries):
    return helpers.playbook_failures('molecule/haproxy/converge.yml', '-e', json.dumps(
        {'haproxy_maps': MAPS + [dict(name='trusted.lst', entries=entries)]}))


def test_a_map_picks_the_backend_and_a_pattern_file_refuses_paths():
    for host in ('static.molecule.test', 'STATIC.molecule.test', '#hash.molecule.test'):
        assert request('/p', host=host)[2].startswith('opsnotes-hap-static:8080 /p'), host
    # Controls: a host the map lacks goes on to the default backend; so would the '#' key written as a comment.
    status, headers, body = request('/p', host='other.molecule.test')
    assert status == '200' and headers['x-server'] in ('www1', 'www2') and not body.startswith('opsnotes-hap-static')
    assert request('/private/x')[0] == '403' and request('/.git/config')[0] == '403'
    assert request('/public/x')[0] == '200' and request('/private')[0] == '200'         # controls


def test_a_map_change_alone_reloads_and_a_bad_entry_changes_nothing():
    """trusted.lst (an ACL's -f of source addresses) gains the client's address: the configuration stays the same,
    the file changes and HAProxy is reloaded, so responses to the client now carry X-Trusted. Then an entry HAProxy
    cannot read as an address: haproxy -c on the staged copy refuses it, the message names the live file, and the
    live file and HAProxy stay as they were."""
    snapshot = 'md5sum /etc/haproxy/haproxy.cfg'
    config_before = lb.check_output(snapshot)
    assert 'x-trusted' not in request('/')[1]                                           # control
    try:
        returncode, failures = converge_with_trusted(['192.0.2.1', helpers.ip_of(CLIENT)])
        assert returncode == 0, failures
        assert request('/')[1].get('x-trusted') == 'yes'
        assert lb.check_output(snapshot) == config_before
        live = lb.check_output('cat /etc/haproxy/maps/trusted.lst')
        returncode, failures = converge_with_trusted(['192.0.2.1', 'not-an-address'])
        assert returncode != 0 and failures, failures
        message = failures[0][2]
        assert 'nothing was changed' in message and "/etc/haproxy/maps/trusted.lst'" in message, message
        assert 'not-an-address' in message and 'opsnotes-haproxy-' not in message, message
        assert lb.check_output('cat /etc/haproxy/maps/trusted.lst') == live
        assert request('/')[1].get('x-trusted') == 'yes'
    finally:
        run = helpers.ansible_playbook('molecule/haproxy/converge.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert 'x-trusted' not in request('/')[1]


def test_listen_sections_serve_a_stats_page_and_route_with_their_own_servers():
    status, _headers, body = request('/stats', port=8404)
    assert status == '200' and 'Statistics Report' in body
    # Control: another path of the stats section has no server to go to.
    assert request('/other', port=8404)[0] == '503'
    # li_pinned: balance first sends everything to pin1 (www1), and the use-server rule /two/ to pin2.
    assert request('/one/', port=8091)[2] == 'opsnotes-hap-www1:8080 /one/'
    assert request('/two/', port=8091)[2] == 'opsnotes-hap-www2:8080 /two/'


def test_a_section_with_no_server_answers_with_the_page_of_its_http_errors_section():
    status, _headers, body = request('/', port=8093)
    assert (status, body) == ('503', 'opsnotes maintenance')
    # Control: the stats section has no errorfiles line, so HAProxy's own page answers there.
    status, _headers, body = request('/other', port=8404)
    assert status == '503' and 'opsnotes maintenance' not in body and '503 Service Unavailable' in body


# A request whose headers never end: (seconds until HAProxy answered or closed, the status line), read for 8 s.
PARTIAL = '''import socket, sys, time
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)
conn.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n")
conn.settimeout(8)
start = time.time()
try:
    data = conn.recv(4096)
except socket.timeout:
    data = b""
print("%.1f %s" % (time.time() - start, data.split(b"\\r\\n")[0].decode()))
'''


def test_a_defaults_line_applies_to_every_section_but_one_that_sets_its_own():
    """haproxy_defaults_directives' "timeout http-request 3s": a client that never ends its request headers gets
    408 after 3 s. Control: the stats section sets 30 s, and nothing comes in 8 s."""
    seconds, status = client.check_output('python3 -c %s %s 80', PARTIAL, LB).split(' ', 1)
    assert 2.5 <= float(seconds) < 7 and ' 408 ' in status, (seconds, status)
    seconds, status = client.check_output('python3 -c %s %s 8404', PARTIAL, LB).split(' ', 1)
    assert float(seconds) >= 7.9 and status == '', (seconds, status)
