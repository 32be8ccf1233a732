# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import grp
import os
import stat

from ansible_collections.opsnotes.edge.plugins.module_utils._files import fix_mode, read_text, write_atomic


class FakeModule(object):
    """write_atomic does not go through AnsibleModule.atomic_move, which copies an existing file's mode."""


def test_read_text(tmp_path):
    assert read_text(str(tmp_path / 'absent')) is None
    (tmp_path / 'f').write_text('x\n')
    assert read_text(str(tmp_path / 'f')) == 'x\n'


def test_write_atomic_creates_parents_sets_mode_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'a' / 'b' / 'file.conf'
    write_atomic(FakeModule(), str(path), 'one\n', 0o600)
    assert path.read_text() == 'one\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_atomic(FakeModule(), str(path), 'two\n')
    assert path.read_text() == 'two\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(str(path.parent)) == ['file.conf']


def test_write_atomic_sets_the_asked_mode_on_an_existing_file(tmp_path):
    path = tmp_path / 'state'
    path.write_text('old\n')
    os.chmod(str(path), 0o666)
    write_atomic(FakeModule(), str(path), 'new\n', 0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.umask(0o077)
    try:
        write_atomic(FakeModule(), str(tmp_path / 'new'), 'x\n', 0o644)
    finally:
        os.umask(0o022)
    assert stat.S_IMODE((tmp_path / 'new').stat().st_mode) == 0o644


def test_write_atomic_sets_owner_and_group(tmp_path):
    path = tmp_path / 'cfg'
    write_atomic(FakeModule(), str(path), 'x\n', 0o640, owner=os.getuid(), group=os.getgid())
    assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), os.getgid())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_atomic_cleans_up_when_the_rename_fails(tmp_path, monkeypatch):
    path = tmp_path / 'file.conf'
    path.write_text('old\n')

    def broken(src, dest):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'replace', broken)
    try:
        write_atomic(FakeModule(), str(path), 'new\n')
    except OSError:
        pass
    assert path.read_text() == 'old\n'
    assert os.listdir(str(tmp_path)) == ['file.conf']


class ModeModule(object):
    def __init__(self, check_mode=False):
        self.check_mode = check_mode


def test_fix_mode_changes_only_what_differs_and_nothing_in_check_mode(tmp_path):
    path = tmp_path / 'key.pem'
    assert fix_mode(ModeModule(), str(path), 0o600) is False          # absent: nothing to fix
    path.write_text('k')
    os.chmod(str(path), 0o644)
    assert fix_mode(ModeModule(check_mode=True), str(path), 0o600) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o644                  # check mode: reported, not done
    assert fix_mode(ModeModule(), str(path), 0o600) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fix_mode(ModeModule(), str(path), 0o600) is False           # the second time: nothing
    root_group = grp.getgrgid(0).gr_name
    os.chown(str(path), 0, 0)
    assert fix_mode(ModeModule(), str(path), 0o600, root_group) is False
