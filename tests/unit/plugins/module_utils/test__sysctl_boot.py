# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils import _sysctl_boot as b


def tree(tmp_path, files, links=None):
    for path, text in files.items():
        full = tmp_path / path.lstrip('/')
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)
    for path, target in (links or {}).items():
        full = tmp_path / path.lstrip('/')
        full.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, str(full))
    return str(tmp_path)


@pytest.mark.parametrize('key, normal', [
    ('net.ipv4.conf.eth0.arp_ignore', 'net/ipv4/conf/eth0/arp_ignore'),
    ('net/ipv4/conf/eth0.100/arp_ignore', 'net/ipv4/conf/eth0.100/arp_ignore'),
    ('net.ipv4.conf.enp3s0/200.forwarding', 'net/ipv4/conf/enp3s0.200/forwarding'),     # sysctl.d(5)'s example
    (' /net/ipv4/ip_forward ', 'net/ipv4/ip_forward'),
])
def test_normalize(key, normal):
    assert b.normalize(key) == normal


def test_files_shadowing_order_masks_and_sysctl_conf(tmp_path):
    root = tree(tmp_path, {
        '/usr/lib/sysctl.d/50-default.conf': 'a = 1\n',
        '/usr/lib/sysctl.d/60-shadowed.conf': 'b = 1\n',
        '/etc/sysctl.d/60-shadowed.conf': 'b = 2\n',
        '/run/sysctl.d/70-run.conf': 'c = 1\n',
        '/usr/local/lib/sysctl.d/80-local.conf': 'd = 1\n',
        '/usr/lib/sysctl.d/85-masked.conf': 'e = 1\n',
        '/etc/sysctl.conf': 'f = 1\n',
        '/usr/lib/sysctl.d/notconf.txt': 'g = 1\n',
    }, links={'/etc/sysctl.d/85-masked.conf': '/dev/null', '/etc/sysctl.d/99-sysctl.conf': '../sysctl.conf'})
    assert [shown for shown, _read in b.boot_files(root)] == [
        '/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/60-shadowed.conf', '/run/sysctl.d/70-run.conf',
        '/usr/local/lib/sysctl.d/80-local.conf', '/etc/sysctl.d/99-sysctl.conf']
    assignments = b.boot_assignments(root)
    assert b.boot_value('b', assignments) == ('2', '/etc/sysctl.d/60-shadowed.conf:1')
    assert b.boot_value('e', assignments) == (None, None)                       # masked by /dev/null
    assert b.boot_value('f', assignments) == ('1', '/etc/sysctl.d/99-sysctl.conf:1')


def test_sysctl_conf_without_the_link_is_applied_last(tmp_path):
    root = tree(tmp_path, {'/etc/sysctl.d/99-z.conf': 'k = 1\n', '/etc/sysctl.conf': 'k = 2\n'})
    assert b.boot_files(root)[-1][0] == '/etc/sysctl.conf'
    assert b.boot_value('k', b.boot_assignments(root)) == ('2', '/etc/sysctl.conf:1')


def test_merged_usr_lib_is_read_once(tmp_path):
    root = tree(tmp_path, {'/usr/lib/sysctl.d/50-x.conf': 'k = 1\n'}, links={'/lib': 'usr/lib'})
    assert [shown for shown, _read in b.boot_files(root)] == ['/usr/lib/sysctl.d/50-x.conf']


def test_parse_lines():
    text = '# c\n; c\n\n k.a = 1 \n-k.b = 2\n-k.c\nk/d=  a   b \nnot an assignment\n'
    assert b.parse(text) == [(4, 'k/a', '1', 'set'), (5, 'k/b', '2', 'set'), (6, 'k/c', None, 'exclude'),
                             (7, 'k/d', 'a b', 'set')]


def test_last_assignment_wins_explicit_beats_glob_and_exclusions(tmp_path):
    root = tree(tmp_path, {
        '/usr/lib/sysctl.d/50-default.conf': 'net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n'
                                             '-net.ipv4.conf.all.rp_filter\n',
        '/etc/sysctl.d/90-a.conf': 'net.ipv4.conf.eth0.rp_filter = 0\nx = 1\nx = 2\n',
        '/etc/sysctl.d/95-b.conf': 'x = 3\nnet.ipv4.conf.*.arp_ignore = 1\nnet.ipv4.conf.e*.arp_ignore = 2\n',
    })
    a = b.boot_assignments(root)
    assert b.boot_value('x', a) == ('3', '/etc/sysctl.d/95-b.conf:1')
    # An explicit key is excluded from every glob, in whatever file order.
    assert b.boot_value('net.ipv4.conf.eth0.rp_filter', a) == ('0', '/etc/sysctl.d/90-a.conf:1')
    assert b.boot_value('net.ipv4.conf.lo.rp_filter', a) == ('2', '/usr/lib/sysctl.d/50-default.conf:2')
    assert b.boot_value('net.ipv4.conf.all.rp_filter', a) == (None, None)          # '-key' excludes it
    assert b.boot_value('net.ipv4.conf.eth0.arp_ignore', a) == ('2', '/etc/sysctl.d/95-b.conf:3')   # last glob
    assert b.boot_value('net.ipv4.conf.lo.arp_ignore', a) == ('1', '/etc/sysctl.d/95-b.conf:2')
    # A wildcard does not match across '/', as glob(3) on /proc/sys paths.
    assert not b.glob_match('net/ipv4/conf/eth0/arp_ignore', 'net/*/arp_ignore')
    assert b.glob_match('net/ipv4/conf/eth0/arp_ignore', 'net/*/conf/eth?/arp_ignore')
