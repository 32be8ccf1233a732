# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import glob
import os
import re

import pytest

from ansible_collections.opsnotes.edge.plugins.modules import nginx_config


def included(main_config):
    """The files an nginx.conf includes with 'include DIR/*.conf;', read as nginx would (through links)."""
    text = open(main_config).read()
    files = []
    for pattern in re.findall(r'include\s+(\S+);', text):
        files.extend(sorted(glob.glob(pattern)))
    return files


class Commands(object):
    """nginx -t [-c staged] (fails while an included file holds 'badness', or always with broken_before), and
    systemctl. Records what the live file held at each test: a staged test must leave it untouched."""

    def __init__(self, path, active=True, reload_rc=0, broken_before=False):
        self.path, self.active, self.reload_rc, self.broken_before = path, active, reload_rc, broken_before
        self.main_config = os.path.join(os.path.dirname(os.path.dirname(path)), 'nginx.conf')
        self.calls, self.live_at_test = [], []

    def __call__(self, argv, **kwargs):
        name = os.path.basename(argv[0])
        self.calls.append(' '.join([name] + argv[1:]) if '-c' not in argv else 'nginx -t -q -c STAGED')
        if name == 'nginx':
            main = argv[argv.index('-c') + 1] if '-c' in argv else self.main_config
            self.live_at_test.append(open(self.path).read() if os.path.exists(self.path) else None)
            for included_file in included(main):
                if self.broken_before or 'badness' in open(included_file).read():
                    return 1, '', 'nginx: [emerg] unknown directive "badness" in %s:1' % included_file
            return 0, '', ''
        if argv[1] == 'is-active':
            return (0 if self.active else 3), '', ''
        if argv[1] == 'is-enabled':
            return (0 if self.active else 1), '', ''
        if argv[1] in ('enable', 'start'):
            self.active = True
            return 0, '', ''
        if argv[1] == 'reload':
            return self.reload_rc, '', 'Job failed' if self.reload_rc else ''
        raise AssertionError(argv)


@pytest.fixture
def tmp_path(tmp_path):
    """A tree like /etc/nginx: nginx.conf includes conf.d/*.conf, which holds another site; files go in conf.d."""
    (tmp_path / 'conf.d').mkdir()
    (tmp_path / 'conf.d' / 'other.conf').write_text('server { other }\n')
    (tmp_path / 'nginx.conf').write_text('events {}\nhttp { include %s/conf.d/*.conf; }\n' % tmp_path)
    return tmp_path


def args(path, **more):
    return dict(path=str(path), main_config=os.path.join(os.path.dirname(os.path.dirname(str(path))), 'nginx.conf'),
                **more)


def test_new_file_is_tested_installed_and_reloaded(run_module, tmp_path):
    path = str(tmp_path / 'conf.d' / 'site.conf')
    fake = Commands(path)
    result, failed = run_module(nginx_config, args(path, content='server {}'), run_command=fake)
    assert not failed and result['changed'] and result['validated'] and result['reloaded']
    assert open(path).read() == 'server {}\n'
    assert fake.calls == ['nginx -t -q', 'nginx -t -q -c STAGED', 'systemctl is-active --quiet nginx.service',
                          'nginx -t -q', 'systemctl reload nginx.service']
    # The staged test ran while the live file did not exist yet: nothing went live before the test passed.
    assert fake.live_at_test == [None, None, 'server {}\n']
    assert sorted(os.listdir(str(tmp_path / 'conf.d'))) == ['other.conf', 'site.conf']
    assert result['diff']['before'] == '' and result['diff']['after'] == 'server {}\n'


def test_unchanged_file_does_nothing(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    path.write_text('server {}\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, args(path, content='server {}\n'), run_command=fake)
    assert not failed and not result['changed'] and fake.calls == []


def test_rejected_file_is_rolled_back(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    path.write_text('server { old }\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, args(path, content='badness;'), run_command=fake)
    assert failed and 'nginx -t refuses the new' in result['msg'] and 'nothing was changed' in result['msg']
    # The message names the live file, not the staged copy.
    assert 'unknown directive "badness" in %s:1' % path in result['msg'] and not result['changed']
    assert path.read_text() == 'server { old }\n' and fake.live_at_test == ['server { old }\n'] * 2
    assert not any('reload' in c for c in fake.calls)


def test_rejected_new_file_is_removed(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    result, failed = run_module(nginx_config, args(path, content='badness;'), run_command=Commands(str(path)))
    assert failed and 'nothing was changed' in result['msg'] and not path.exists()


def test_a_kill_during_the_test_leaves_the_live_file_untouched(run_module, tmp_path):
    # The run is killed while nginx -t runs on the staged copy: the live tree still holds the old file only.
    path = tmp_path / 'conf.d' / 'site.conf'
    path.write_text('server { old }\n')

    class Killed(BaseException):
        pass

    def killed_during_the_staged_test(argv, **kwargs):
        if '-c' in argv:
            assert path.read_text() == 'server { old }\n'
            raise Killed()
        return 0, '', ''
    with pytest.raises(Killed):
        run_module(nginx_config, args(path, content='server { new }'), run_command=killed_during_the_staged_test)
    assert path.read_text() == 'server { old }\n'
    assert sorted(os.listdir(str(tmp_path / 'conf.d'))) == ['other.conf', 'site.conf']


def test_a_main_config_that_does_not_include_the_directory_is_named(run_module, tmp_path):
    (tmp_path / 'nginx.conf').write_text('events {}\nhttp { }\n')
    path = tmp_path / 'conf.d' / 'site.conf'
    result, failed = run_module(nginx_config, args(path, content='server {}'), run_command=Commands(str(path)))
    assert failed and 'does not include %s/' % (tmp_path / 'conf.d') in result['msg'] and not path.exists()


def test_config_broken_elsewhere_is_not_blamed_on_the_file(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    fake = Commands(str(path), broken_before=True)
    result, failed = run_module(nginx_config, args(path, content='server {}'), run_command=fake)
    assert failed and 'already fails nginx -t; nothing was changed' in result['msg'] and not path.exists()


def test_force_reload_tests_then_reloads_an_unchanged_file(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    path.write_text('server {}\n')
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, args(path, content='server {}\n', force_reload=True),
                                run_command=fake)
    assert not failed and result['reloaded'] and result['changed']
    assert fake.calls[0] == 'nginx -t -q' and fake.calls[-1] == 'systemctl reload nginx.service'


def test_failed_reload_restores(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    path.write_text('server { old }\n')
    fake = Commands(str(path), reload_rc=1)
    result, failed = run_module(nginx_config, args(path, content='server { new }'), run_command=fake)
    assert failed and 'previous file was restored' in result['msg'] and path.read_text() == 'server { old }\n'


def test_stopped_nginx_is_not_reloaded_and_check_mode_writes_nothing(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'site.conf'
    fake = Commands(str(path), active=False)
    result, failed = run_module(nginx_config, args(path, content='server {}'), run_command=fake)
    assert not failed and result['changed'] and not result['reloaded']
    fake = Commands(str(path))
    result, failed = run_module(nginx_config, args(path, content='server { other }'), run_command=fake,
                                check_mode=True)
    assert not failed and result['changed'] and fake.calls == [] and path.read_text() == 'server {}\n'


def test_keep_running_starts_a_stopped_nginx_after_the_file_and_then_reads_only(run_module, tmp_path):
    path = tmp_path / 'conf.d' / 'sites.conf'
    commands = Commands(str(path), active=False)
    result, failed = run_module(nginx_config, args(path, content='server { new }', keep_running=True),
                                run_command=commands)
    assert not failed and result['changed'] and result['service_actions'] == ['enable', 'start'], result
    assert result['reloaded'] is False and path.read_text() == 'server { new }\n'
    assert commands.calls[-2:] == ['systemctl enable nginx.service', 'systemctl start nginx.service']
    commands.calls = []
    result, failed = run_module(nginx_config, args(path, content='server { new }', keep_running=True),
                                run_command=commands)
    assert not failed and result['changed'] is False and result['service_actions'] == []
    assert commands.calls == ['systemctl is-enabled --quiet nginx.service', 'systemctl is-active --quiet nginx.service']
    # Without keep_running a stopped nginx stays stopped.
    commands.active = False
    result, failed = run_module(nginx_config, args(path, content='server { new }'), run_command=commands)
    assert not failed and result['service_actions'] == [] and commands.active is False
