# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

from ansible_collections.opsnotes.edge.plugins.modules import nginx_config


class Commands(object):
    """nginx -t (fails while the file holds 'badness', or always with broken_before) and systemctl."""

    def __init__(self, path, active=True, reload_rc=0, broken_before=False):
        self.path, self.active, self.reload_rc, self.broken_before = path, active, reload_rc, broken_before
        self.calls = []

    def __call__(self, argv, **kwargs):
        name = os.path.basename(argv[0])
        self.calls.append(' '.join([name] + argv[1:]))
        if name == 'nginx':
            text = open(self.path).read() if os.path.exists(self.path) else ''
            if self.broken_before or 'badness' in text:
                return 1, '', 'nginx: [emerg] unknown directive "badness" in %s:1' % self.path
            return 0, '', ''
        if argv[1] == 'is-active':
            return (0 if self.active else 3), '', ''
        if argv[1] == 'reload':
            return self.reload_rc, '', 'Job failed' if self.reload_rc else ''
        raise AssertionError(argv)


def test_new_file_is_tested_installed_and_reloaded(run_module, tmp_path):
    path = str(tmp_path / 'site.conf')
    fake = Commands(path)
    result, failed = run_module(nginx_config, dict(content='server {}', path=path), run_command=fake)
    assert not failed and result['changed'] and result['validated'] and result['reloaded']
    assert open(path).read() == 'server {}\n'
    assert fake.calls == ['nginx -t -q', 'nginx -t -q', 'systemctl is-active --quiet nginx.service',
                          'systemctl reload nginx.service']
    assert result['diff']['before'] == '' and result['diff']['after'] == 'server {}\n'


def test_unchanged_file_does_nothing(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    path.write_text('server {}\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, dict(content='server {}\n', path=str(path)), run_command=fake)
    assert not failed and not result['changed'] and fake.calls == []


def test_rejected_file_is_rolled_back(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    path.write_text('server { old }\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, dict(content='badness;', path=str(path)), run_command=fake)
    assert failed and 'nginx -t refuses the new' in result['msg'] and 'previous file was restored' in result['msg']
    assert 'unknown directive "badness"' in result['msg']
    assert path.read_text() == 'server { old }\n'
    assert not any('reload' in c for c in fake.calls)


def test_rejected_new_file_is_removed(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    result, failed = run_module(nginx_config, dict(content='badness;', path=str(path)), run_command=Commands(str(path)))
    assert failed and 'was removed' in result['msg'] and not path.exists()


def test_config_broken_elsewhere_is_not_blamed_on_the_file(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    fake = Commands(str(path), broken_before=True)
    result, failed = run_module(nginx_config, dict(content='server {}', path=str(path)), run_command=fake)
    assert failed and 'already fails nginx -t; nothing was changed' in result['msg'] and not path.exists()


def test_force_reload_tests_then_reloads_an_unchanged_file(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    path.write_text('server {}\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, dict(content='server {}\n', path=str(path), force_reload=True),
                                run_command=fake)
    assert not failed and result['reloaded'] and result['changed']
    assert fake.calls[0] == 'nginx -t -q' and fake.calls[-1] == 'systemctl reload nginx.service'


def test_failed_reload_restores(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    path.write_text('server { old }\n')
    fake = Commands(str(path), reload_rc=1)
    result, failed = run_module(nginx_config, dict(content='server { new }', path=str(path)), run_command=fake)
    assert failed and 'previous file was restored' in result['msg'] and path.read_text() == 'server { old }\n'


def test_stopped_nginx_is_not_reloaded_and_check_mode_writes_nothing(run_module, tmp_path):
    path = tmp_path / 'site.conf'
    fake = Commands(str(path), active=False)
    result, failed = run_module(nginx_config, dict(content='server {}', path=str(path)), run_command=fake)
    assert not failed and result['changed'] and not result['reloaded']
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, dict(content='server { other }', path=str(path)), run_command=fake,
                                check_mode=True)
    assert not failed and result['changed'] and fake.calls == [] and path.read_text() == 'server {}\n'
