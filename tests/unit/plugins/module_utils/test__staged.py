# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils._staged import StageError, staged_tree


@pytest.fixture
def etc(tmp_path):
    """/etc/nginx in small: a main file with a relative and an absolute include, conf.d with two files."""
    root = tmp_path / 'nginx'
    (root / 'conf.d').mkdir(parents=True)
    (root / 'mime.types').write_text('types {}\n')
    (root / 'conf.d' / 'a.conf').write_text('old a\n')
    (root / 'conf.d' / 'b.conf').write_text('b\n')
    (root / 'nginx.conf').write_text('include mime.types;\ninclude %s/conf.d/*.conf;\n' % root)
    return root


def snapshot(root):
    out = {}
    for directory, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            out[path] = open(path).read()
    return out


def test_the_staged_tree_holds_the_new_file_and_leaves_the_live_tree_alone(etc):
    before = snapshot(etc)
    with staged_tree(str(etc / 'nginx.conf'), str(etc / 'conf.d' / 'a.conf'), 'new a\n') as (main, unstage):
        stage = os.path.dirname(main)
        assert not main.startswith(str(etc))
        text = open(main).read()
        # Relative includes resolve inside the mirror (a link to the live file); the directory points at the stage.
        assert 'include mime.types;' in text and str(etc) not in text
        assert open(os.path.join(stage, 'mime.types')).read() == 'types {}\n'
        assert open(os.path.join(stage, 'conf.d', 'a.conf')).read() == 'new a\n'
        assert open(os.path.join(stage, 'conf.d', 'b.conf')).read() == 'b\n'
        assert unstage('error in %s/conf.d/a.conf:1' % stage) == 'error in %s/conf.d/a.conf:1' % etc
    assert snapshot(etc) == before
    assert not os.path.exists(stage)


def test_a_file_in_the_root_and_the_main_file_itself(etc):
    with staged_tree(str(etc / 'nginx.conf'), str(etc / 'extra.conf'), 'extra\n') as (main, _unstage):
        assert open(os.path.join(os.path.dirname(main), 'extra.conf')).read() == 'extra\n'
    with staged_tree(str(etc / 'nginx.conf'), str(etc / 'nginx.conf'), 'include %s/conf.d/*.conf;\n' % etc) as (
            main, _unstage):
        assert open(main).read() == 'include %s/conf.d/*.conf;\n' % os.path.dirname(main)
    assert not (etc / 'extra.conf').exists()


def test_a_directory_outside_the_root_is_staged_when_the_main_file_names_it(tmp_path, etc):
    sites = tmp_path / 'sites'
    sites.mkdir()
    (etc / 'nginx.conf').write_text('include %s/*.conf;\n' % sites)
    with staged_tree(str(etc / 'nginx.conf'), str(sites / 's.conf'), 'site\n') as (main, unstage):
        text = open(main).read()
        staged_dir = text.split('include ')[1].rsplit('/', 1)[0]
        assert open(os.path.join(staged_dir, 's.conf')).read() == 'site\n'
        assert unstage(staged_dir + '/s.conf') == str(sites / 's.conf')
    assert not (sites / 's.conf').exists()


def test_a_main_file_that_does_not_name_the_directory_or_is_missing(tmp_path, etc):
    (etc / 'nginx.conf').write_text('events {}\n')
    with pytest.raises(StageError, match='does not include'):
        with staged_tree(str(etc / 'nginx.conf'), str(etc / 'conf.d' / 'a.conf'), 'x'):
            pass
    with pytest.raises(StageError, match='does not exist'):
        with staged_tree(str(tmp_path / 'none' / 'nginx.conf'), str(tmp_path / 'none' / 'conf.d' / 'a.conf'), 'x'):
            pass
