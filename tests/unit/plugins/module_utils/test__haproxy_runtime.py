# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _haproxy_runtime as r


def test_command_and_parsers(fake_haproxy):
    stats = r.parse_stat(r.command(fake_haproxy.path, 'show stat'))
    expected = [('fe_web', 'FRONTEND', 'OPEN'), ('be_www', 'www1', 'UP')]
    assert [(s['pxname'], s['svname'], s['status']) for s in stats][:2] == expected
    rows = r.parse_servers_state(r.command(fake_haproxy.path, 'show servers state be_www'))
    expected = [('be_www', 'www1', '1'), ('be_www', 'www2', '1')]
    assert [(row['be_name'], row['srv_name'], row['srv_uweight']) for row in rows] == expected
    assert fake_haproxy.commands == ['show stat', 'show servers state be_www']


@pytest.mark.parametrize('admin, state', [(0, 'ready'), (0x01, 'maint'), (0x02, 'maint'), (0x20, 'maint'),
                                          (0x08, 'drain'), (0x10, 'drain'), (0x09, 'maint')])
def test_admin_state(admin, state):
    assert r.admin_state({'srv_admin_state': str(admin)}) == state


def test_missing_socket_is_a_clear_error(tmp_path):
    with pytest.raises(r.RuntimeError_, match='cannot connect to the HAProxy admin socket .*nope.sock'):
        r.command(str(tmp_path / 'nope.sock'), 'show stat')


def test_check_answer():
    r.check_answer('\n')
    with pytest.raises(r.RuntimeError_, match='No such server'):
        r.check_answer('No such server.\n')


def test_parse_servers_state_empty():
    assert r.parse_servers_state('1\n') == []
    assert r.parse_stat('') == []
