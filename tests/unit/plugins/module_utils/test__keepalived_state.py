# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import time

from ansible_collections.opsnotes.edge.plugins.module_utils import _keepalived_state as state

# Dumps of keepalived 2.2.7 (Debian 12) and 2.1.5 (Debian 11, its VRRP part) holding one instance as MASTER,
# written on its DATA signal.
DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'keepalived_master.data')
DATA_21 = os.path.join(os.path.dirname(__file__), '..', '..', 'keepalived_2.1_master.data')


def test_settled_waits_for_a_fresh_backup_and_init():
    now = time.time()
    fresh = dict(state='BACKUP', last_transition=now - 1, master_down=3.6)
    old = dict(state='BACKUP', last_transition=now - 10, master_down=3.6)
    assert not state.settled([fresh], now) and state.settled([old], now)
    assert not state.settled([dict(state='INIT', last_transition=None, master_down=None)], now)
    assert state.settled([dict(state='MASTER'), dict(state='FAULT')], now)


def test_parse_data_and_addresses():
    instances = state.parse_data(open(DATA).read())
    assert [(i['name'], i['state'], i['vips'], i['master_down']) for i in instances] == \
        [('vi1', 'MASTER', ['10.99.0.1'], 3.609375)]
    assert state.parse_data('') == []
    assert state.addresses_held('1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet6 fe80::1/64 scope link') == \
        ['127.0.0.1', 'fe80::1']
    problems = state.judge([dict(name='v', state='FAULT', vips=['10.0.0.1'])], [])
    assert problems == ['v: FAULT (an interface down or a tracked check failing)']


def test_parse_the_dump_of_keepalived_2_1():
    instances = state.parse_data(open(DATA_21).read())
    assert [(i['name'], i['state'], i['vips'], i['effective_priority'], i['master_down']) for i in instances] == \
        [('VI_1', 'MASTER', ['10.99.0.1'], 150, 3.414062)]
    assert state.judge(instances, ['10.99.0.1']) == []


def test_an_instance_without_a_virtual_address_read_is_drift():
    """A dump whose address lines this parser cannot read must not pass as "holds nothing"."""
    text = open(DATA).read().replace('     10.99.0.1 dev eth0 scope global set', '     (something new)')
    instances = state.parse_data(text)
    assert instances[0]['vips'] == []
    assert state.judge(instances, ['10.99.0.1']) == [
        "vi1: no virtual address in keepalived's data dump (an unknown dump format?)"]
