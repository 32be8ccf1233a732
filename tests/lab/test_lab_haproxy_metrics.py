# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Against the running lab (scripts/lab.sh up): HAProxy's own Prometheus exporter, on the balancers' statistics
listener (a listen section of haproxy_listens, inventories/lab/group_vars/haproxy.yml), on the loopback only. Its
metrics follow the live state: rs1 put in maintenance over the admin socket leaves one active server in be_web, and
the next scrape says so; when it is back, two again. Controls: from the network, nothing answers on that port; the
listener's other paths are the statistics page, not the metrics."""

from __future__ import annotations

import os
import re

import helpers

LAB = 'opsnotes-' + (os.environ.get('OPSNOTES_LAB') or 'lab')
director, client = helpers.host('%s-director' % LAB), helpers.host('%s-client' % LAB)
METRICS = 'curl -s --max-time 5 http://127.0.0.1:8404/metrics'


def value(text, name, **labels):
    """The value of the sample ``name`` whose labels include ``labels`` in an exposition ``text``, or None."""
    for line in text.splitlines():
        found = re.match(r'%s\{([^}]*)\} (\S+)$' % re.escape(name), line)
        if found and labels.items() <= dict(re.findall(r'(\w+)="([^"]*)"', found.group(1))).items():
            return float(found.group(2))
    return None


def active_servers():
    return value(director.check_output(METRICS), 'haproxy_backend_active_servers', proxy='be_web')


def test_the_exporter_follows_a_server_put_in_maintenance_and_back():
    assert active_servers() == 2
    helpers.haproxy_command(director, 'set server be_web/rs1 state maint')
    try:
        assert helpers.wait_for(lambda: active_servers() == 1, 10) is not None, active_servers()
        scrape = director.check_output(METRICS)
        assert value(scrape, 'haproxy_server_status', proxy='be_web', server='rs1', state='MAINT') == 1
        assert value(scrape, 'haproxy_server_status', proxy='be_web', server='rs2', state='UP') == 1
    finally:
        helpers.haproxy_command(director, 'set server be_web/rs1 state ready')
    # Back in service once its health check passes again.
    assert helpers.wait_for(lambda: active_servers() == 2, 30) is not None, active_servers()


def test_the_exporter_answers_on_the_loopback_only():
    # The listener's other paths are the statistics page (the control: the metrics come from the use-service rule).
    assert 'Statistics Report' in director.check_output('curl -s --max-time 5 http://127.0.0.1:8404/')
    assert 'haproxy_backend_active_servers' not in director.check_output('curl -s --max-time 5 http://127.0.0.1:8404/')
    address = helpers.ip_of('%s-director' % LAB).split()[0]
    refused = client.run('curl -s --max-time 5 -o /dev/null http://%s:8404/metrics' % address)
    assert refused.rc == 7, refused            # connection refused: nothing listens there on the network
    # ... while the same address answers on the balancers' own port (so the address is right).
    assert client.run('curl -s --max-time 5 -o /dev/null http://%s:80/' % address).rc == 0
