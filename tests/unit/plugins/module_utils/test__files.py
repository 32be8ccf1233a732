# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat

from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text, write_atomic


class FakeModule(object):
    def atomic_move(self, src, dest):
        os.rename(src, dest)


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


def test_write_atomic_cleans_up_when_move_fails(tmp_path):
    class Broken(object):
        def atomic_move(self, src, dest):
            raise OSError('disk full')
    path = tmp_path / 'file.conf'
    path.write_text('old\n')
    try:
        write_atomic(Broken(), str(path), 'new\n')
    except OSError:
        pass
    assert path.read_text() == 'old\n'
    assert os.listdir(str(tmp_path)) == ['file.conf']
