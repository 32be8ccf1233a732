# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils._rendered_config import prepare


class Exit(Exception):
    pass


class FakeModule(object):
    def __init__(self, params):
        self.params = params
        self.exited = self.failed = None

    def exit_json(self, **kwargs):
        self.exited = kwargs
        raise Exit()

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Exit()


def lint(config):
    return (['x: bad'] if config.get('bad') else []), ['x: unused']


def render(config, header):
    return '# %s\nvalue %s\n' % (header, config['value'])


def test_change_returns_previous_content_and_result(tmp_path):
    path = tmp_path / 'svc.cfg'
    path.write_text('old\n')
    old, content, result = prepare(FakeModule(dict(config=dict(value=1), header='h', path=str(path))), lint, render)
    assert old == 'old\n' and content == '# h\nvalue 1\n'
    assert result == dict(changed=True, content='# h\nvalue 1\n', validated=False, reloaded=False,
                          warnings_lint=['x: unused'], diff=dict(before_header=str(path), after_header=str(path),
                                                                 before='old\n', after='# h\nvalue 1\n'))


def test_missing_file_is_a_change(tmp_path):
    old, content, result = prepare(FakeModule(dict(config=dict(value=1), header='h', path=str(tmp_path / 'x'))), lint, render)
    assert old is None and result['diff']['before'] == ''


def test_unchanged_exits(tmp_path):
    path = tmp_path / 'svc.cfg'
    path.write_text('# h\nvalue 1\n')
    module = FakeModule(dict(config=dict(value=1), header='h', path=str(path)))
    with pytest.raises(Exit):
        prepare(module, lint, render)
    assert module.exited['changed'] is False


def test_lint_errors_fail(tmp_path):
    module = FakeModule(dict(config=dict(bad=True, value=1), header='h', path=str(tmp_path / 'x')))
    with pytest.raises(Exit):
        prepare(module, lint, render)
    assert module.failed == dict(msg='x: bad', errors=['x: bad'])
