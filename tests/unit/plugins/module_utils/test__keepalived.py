# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _keepalived as k
from ansible_collections.opsnotes.edge.plugins.module_utils._quote import Unsafe

CONFIG = dict(
    vrrp_scripts=[dict(name='chk_http', script=['/usr/local/bin/check', '--url', 'http://127.0.0.1/'], interval=2,
                       weight=-20, fall=2, rise=3)],
    track_processes=[dict(name='haproxy', process='haproxy', quorum=1, delay=2)],
    vrrp_instances=[dict(name='VI_WEB', interface='eth0', virtual_router_id=51, priority='150', nopreempt=True,
                         unicast_src_ip='192.0.2.11', unicast_peers=['192.0.2.12'], auth_pass='s3cret',
                         virtual_ipaddresses=['192.0.2.100/24', '192.0.2.101'],
                         track_scripts=['chk_http'], track_processes=[dict(name='haproxy', weight=-60)],
                         notify_master=['/usr/bin/logger', 'VI_WEB is MASTER'])],
    virtual_servers=[dict(address='192.0.2.100', port=443, lb_algo='wrr', persistence_timeout=300, quorum=1,
                          sorry_server=dict(address='192.0.2.50', port=443),
                          real_servers=[dict(address='192.0.2.21', port=443, weight=100,
                                             check=dict(type='SSL_GET', path='/health', connect_timeout=3)),
                                        dict(address='192.0.2.22', port=443, check=dict(type='TCP_CHECK')),
                                        dict(address='192.0.2.23', port=443,
                                             check=dict(type='MISC_CHECK', misc_path=['/usr/local/bin/probe', 'a b'],
                                                        misc_timeout=5))])],
    **{'global': dict(router_id='lb1')})


def lines(text):
    return [line.strip() for line in text.splitlines()]


def test_valid_config_lints_clean_and_renders():
    assert k.lint(CONFIG) == ([], [])
    out = lines(k.render(CONFIG, 'managed'))
    assert out[0] == '# managed'
    for expected in ['router_id lb1', 'enable_script_security', 'script_user root',
                     'vrrp_script chk_http {', "script \"'/usr/local/bin/check' '--url' 'http://127.0.0.1/'\"",
                     'interval 2', 'weight -20', 'rise 3', 'fall 2',
                     'vrrp_track_process haproxy {', 'process haproxy', 'quorum 1', 'delay 2',
                     'vrrp_instance VI_WEB {', 'state BACKUP', 'interface eth0', 'virtual_router_id 51',
                     'priority 150', 'advert_int 1', 'nopreempt', 'unicast_src_ip 192.0.2.11', 'unicast_peer {',
                     '192.0.2.12', 'auth_type PASS', 'auth_pass s3cret', '192.0.2.100/24 dev eth0',
                     '192.0.2.101 dev eth0', 'chk_http', 'haproxy weight -60',
                     "notify_master \"'/usr/bin/logger' 'VI_WEB is MASTER'\"",
                     'virtual_server 192.0.2.100 443 {', 'lb_algo wrr', 'lb_kind DR', 'protocol TCP',
                     'persistence_timeout 300', 'sorry_server 192.0.2.50 443', 'real_server 192.0.2.21 443 {',
                     'weight 100', 'SSL_GET {', 'path /health', 'status_code 200', 'connect_timeout 3',
                     'real_server 192.0.2.22 443 {', 'weight 1', 'TCP_CHECK {', 'MISC_CHECK {',
                     "misc_path \"'/usr/local/bin/probe' 'a b'\"", 'misc_timeout 5']:
        assert expected in out, expected
    # Blocks balance.
    text = k.render(CONFIG)
    assert text.count('{') == text.count('}')


def test_script_words_are_single_quoted_words_in_one_string():
    assert k.script_words(['/bin/x', 'a b', '#!$HOME', '', '{;}']) == "\"'/bin/x' 'a b' '#!$HOME' '' '{;}'\""
    # keepalived 2.1/2.2 unescape a script twice and 2.3 once: a quote or a backslash has no common spelling.
    for bad, message in [([], 'non-empty list'), ('/bin/x', 'non-empty list'), (['bin/x'], 'absolute path'),
                         (['/bin/x', 'a"b'], 'has no spelling keepalived reads back the same on every version'),
                         (['/bin/x', "it's"], "\"'\" has no spelling"), (['/bin/x', 'a\\b'], repr('\\') + ' has no spelling'),
                         (['/bin/x', 'a\nb'], 'line end'), (['/bin/x', None], 'must be a string')]:
        with pytest.raises(Unsafe, match=re.escape(message) if 'spelling' in message else message):
            k.script_words(bad)


def test_defaults_render():
    config = dict(vrrp_instances=[dict(name='v', interface='eth1', virtual_router_id=7, priority=10,
                                       virtual_ipaddresses=['10.0.0.1'])],
                  virtual_servers=[dict(address='10.0.0.1', port=80, real_servers=[])])
    assert k.lint(config)[0] == []
    out = lines(k.render(config))
    assert 'state BACKUP' in out and 'advert_int 1' in out and 'nopreempt' not in out and '10.0.0.1 dev eth1' in out
    assert 'lb_algo wlc' in out and 'delay_loop 6' in out and not [x for x in out if x.startswith('router_id')]
    assert 'authentication {' not in out and 'unicast_peer {' not in out


def test_http_checks_without_a_path_ask_for_the_root():
    # Without the parentheses, '%' bound before 'or' and rendered 'path None': every such check failed, every real
    # server went out of the pool, and keepalived --config-test accepted it.
    for kind in ('HTTP_GET', 'SSL_GET'):
        config = dict(virtual_servers=[dict(address='10.0.0.1', port=80, real_servers=[
            dict(address='10.0.0.2', port=80, check=dict(type=kind)),
            dict(address='10.0.0.3', port=80, check=dict(type=kind, path=None))])])
        assert k.lint(config)[0] == []
        out = lines(k.render(config))
        assert out.count('path /') == 2 and not [x for x in out if 'None' in x], out


def errors_of(change):
    config = copy.deepcopy(CONFIG)
    change(config)
    return k.lint(config)[0]


INSTANCE = 'keepalived_vrrp_instances[0]'
VS = 'keepalived_virtual_servers[0]'


@pytest.mark.parametrize('change, message', [
    (lambda c: c['vrrp_instances'][0].update(name='VI WEB'), INSTANCE + ".name: 'VI WEB' must be 1-64 characters"),
    (lambda c: c['vrrp_instances'][0].update(interface='eth0 evil'), INSTANCE + ".interface: 'eth0 evil' is not"),
    (lambda c: c['vrrp_instances'][0].update(virtual_router_id=256), '.virtual_router_id: 256 must be an integer'),
    (lambda c: c['vrrp_instances'][0].pop('virtual_router_id'), '.virtual_router_id: is required'),
    (lambda c: c['vrrp_instances'][0].update(priority=0), INSTANCE + '.priority: 0 must be an integer from 1 to 254'),
    (lambda c: c['vrrp_instances'][0].update(priority='1}'), ".priority: '1}' must be an integer"),
    (lambda c: c['vrrp_instances'][0].update(state='LEADER'), ".state: 'LEADER' must be one of BACKUP, MASTER"),
    (lambda c: c['vrrp_instances'][0].update(state='MASTER'), '.nopreempt: needs state BACKUP'),
    (lambda c: c['vrrp_instances'][0].update(nopreempt='yes'), ".nopreempt: 'yes' must be true or false"),
    (lambda c: c['vrrp_instances'][0].update(unicast_src_ip='192.0.2.11 evil'), '.unicast_src_ip: '),
    (lambda c: c['vrrp_instances'][0].update(unicast_peers=['192.0.2.12\n}']), '.unicast_peers[0]: '),
    (lambda c: c['vrrp_instances'][0].update(auth_pass='123456789'), '.auth_pass: must be 1-8 characters'),
    (lambda c: c['vrrp_instances'][0].update(auth_pass='a b'), '.auth_pass: must be 1-8 characters'),
    (lambda c: c['vrrp_instances'][0].update(virtual_ipaddresses=[]), '.virtual_ipaddresses: must be a non-empty'),
    (lambda c: c['vrrp_instances'][0].update(virtual_ipaddresses=['10.0.0.1/33']), '.virtual_ipaddresses[0]: '),
    (lambda c: c['vrrp_instances'][0].update(virtual_ipaddresses=['10.0.0.1 dev lo']), '.virtual_ipaddresses[0]: '),
    (lambda c: c['vrrp_instances'][0].update(track_scripts=['nope']), ".track_scripts[0]: 'nope' is not a defined"),
    (lambda c: c['vrrp_instances'][0].update(track_processes=[{'name': 'haproxy', 'weight': 300}]),
     '.track_processes[0].weight: 300 must be an integer from -254 to 254'),
    (lambda c: c['vrrp_instances'][0].update(notify_master=['/bin/x', 'a"b']), '.notify_master: '),
    (lambda c: c['vrrp_instances'].append(dict(c['vrrp_instances'][0], name='VI_2')),
     'keepalived_vrrp_instances[1].virtual_router_id: ' + "('eth0', 51) is already defined"),
    (lambda c: c['vrrp_instances'].append(dict(c['vrrp_instances'][0], virtual_router_id=52)),
     "keepalived_vrrp_instances[1].name: 'VI_WEB' is already defined"),
    (lambda c: c['vrrp_scripts'][0].update(script='/bin/check --x'), 'keepalived_vrrp_scripts[0].script: must be a'),
    (lambda c: c['vrrp_scripts'][0].update(interval=0), 'keepalived_vrrp_scripts[0].interval: 0 must be'),
    (lambda c: c['track_processes'][0].update(process='haproxy-master-x'), 'keepalived_track_processes[0].process: '),
    (lambda c: c['track_processes'].append(dict(name='haproxy', process='x')), "[1].name: 'haproxy' is already"),
    (lambda c: c['vrrp_instances'][0]['virtual_ipaddresses'].append('2001:db8::100'),
     INSTANCE + '.virtual_ipaddresses: mixes IPv4 and IPv6 addresses'),
    (lambda c: c['virtual_servers'][0].update(address='192.0.2.100/24'), VS + ".address: '192.0.2.100/24' is not"),
    (lambda c: c['virtual_servers'][0].update(port=0), VS + '.port: 0 must be an integer from 1 to 65535'),
    (lambda c: c['virtual_servers'][0].update(lb_algo='fastest'), VS + ".lb_algo: 'fastest' must be one of"),
    (lambda c: c['virtual_servers'][0].update(lb_kind='dr'), VS + ".lb_kind: 'dr' must be one of DR, NAT, TUN"),
    (lambda c: c['virtual_servers'][0].update(protocol='ICMP'), VS + ".protocol: 'ICMP' must be one of"),
    (lambda c: c['virtual_servers'][0].update(sorry_server={'address': 'x y', 'port': 80}), '.sorry_server.address: '),
    (lambda c: c['virtual_servers'][0]['real_servers'][0].update(port=8443),
     VS + ".real_servers[0].port: 8443 must be the virtual server's port 443 with lb_kind DR"),
    (lambda c: c['virtual_servers'][0]['real_servers'][1].update(address='192.0.2.21'),
     VS + '.real_servers[1].address: ' + "('192.0.2.21', 443) is already defined"),
    (lambda c: c['virtual_servers'][0]['real_servers'][0]['check'].update(type='PING'), ".check.type: 'PING' must be"),
    (lambda c: c['virtual_servers'][0]['real_servers'][0]['check'].update(path='/x y'), ".check.path: '/x y' must be"),
    (lambda c: c['virtual_servers'][0]['real_servers'][1]['check'].update(path='/x'), '.check.path: only applies to'),
    (lambda c: c['virtual_servers'][0]['real_servers'][2]['check'].update(misc_path=['x']), '.check.misc_path: '),
    (lambda c: c['virtual_servers'].append(dict(c['virtual_servers'][0])), 'keepalived_virtual_servers[1].port: '),
    (lambda c: c.update(vrrp_instances='x'), "keepalived_vrrp_instances: must be a list, got 'x'"),
    (lambda c: c.update({'global': {'router_id': 'a b'}}), "keepalived_router_id: 'a b' must be"),
])
def test_lint_errors(change, message):
    errors = errors_of(change)
    assert any(message in e for e in errors), errors


def test_nat_allows_another_port_and_redact_hides_the_password():
    config = copy.deepcopy(CONFIG)
    config['virtual_servers'][0].update(lb_kind='NAT')
    config['virtual_servers'][0]['real_servers'][0].update(port=8443)
    assert k.lint(config)[0] == []
    text = k.render(config)
    assert 'auth_pass s3cret' in text and 'auth_pass s3cret' not in k.redact(text)
    assert 'auth_pass <redacted>' in k.redact(text)


OPTIONS = dict(track_interfaces=['eth1', dict(name='bond0', weight=-30)], garp_master_delay=5, accept=True,
               smtp_alert=True, virtual_ipaddresses=['192.0.2.100/24', dict(address='192.0.2.102/24', label='eth0:web'),
                                                     dict(address='198.51.100.7', dev='eth1', label='eth1:svc')])


def test_the_vrrp_options_operators_use_render_in_their_place():
    config = copy.deepcopy(CONFIG)
    config['vrrp_instances'][0].update(copy.deepcopy(OPTIONS))
    assert k.lint(config) == ([], [])
    out = lines(k.render(config))
    for expected in ['garp_master_delay 5', 'accept', 'smtp_alert', 'track_interface {', 'eth1', 'bond0 weight -30',
                     '192.0.2.100/24 dev eth0', '192.0.2.102/24 dev eth0 label eth0:web',
                     '198.51.100.7 dev eth1 label eth1:svc']:
        assert expected in out, expected
    # Control: without them, none of the lines.
    plain = lines(k.render(CONFIG))
    assert not {'accept', 'smtp_alert', 'track_interface {', 'garp_master_delay 5'} & set(plain)


@pytest.mark.parametrize('change, message', [
    (dict(track_interfaces=['eth 1']), ".track_interfaces[0]: 'eth 1' is not"),
    (dict(track_interfaces=[dict(name='eth1', weight=300)]), '.track_interfaces[0].weight: 300 must be an integer'),
    (dict(track_interfaces='eth1'), '.track_interfaces: must be a list'),
    (dict(track_interfaces=['eth0']), ".track_interfaces[0]: 'eth0' is the instance's own interface"),
    (dict(garp_master_delay=256), '.garp_master_delay: 256 must be an integer from 0 to 255'),
    (dict(accept='yes'), ".accept: 'yes' must be true or false"),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5', label='web')]), ".virtual_ipaddresses[0].label: 'web' must be"),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5', dev='eth1', label='eth0:x')]), "label: 'eth0:x' must be"),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5', dev='eth1 x')]), ".virtual_ipaddresses[0].dev: 'eth1 x'"),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5', scope='host')]), 'unknown key(s) scope'),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5/40')]), '.virtual_ipaddresses[0]: '),
    (dict(virtual_ipaddresses=[dict(address='192.0.2.5'), dict(address='2001:db8::5')]), 'mixes IPv4 and IPv6'),
])
def test_the_vrrp_options_errors_name_the_variable(change, message):
    errors = errors_of(lambda c: c['vrrp_instances'][0].update(change))
    assert any(message in e for e in errors), errors
