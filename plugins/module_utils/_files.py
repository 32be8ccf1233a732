# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small file helpers shared by the modules: read-if-present and atomic replace with the asked mode."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import tempfile


class StepFailed(Exception):
    """A change that could not be completed. ``result`` is the module result describing what the host holds now
    (after the undo), for ``fail_json(msg=exc.msg, **exc.result)``."""

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.msg, self.result = msg, dict(result or {})


def read_text(path):
    """Content of ``path``, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _ids(owner, group):
    uid = -1 if owner is None else (owner if isinstance(owner, int) else pwd.getpwnam(owner).pw_uid)
    gid = -1 if group is None else (group if isinstance(group, int) else grp.getgrnam(group).gr_gid)
    return uid, gid


def write_atomic(module, path, text, mode=0o644, owner=None, group=None):
    """Replace ``path`` with ``text`` atomically (temp file in the same directory, then rename).

    The temp file gets ``mode`` (and ``owner``/``group`` when given) before the rename, so the file never exists
    with other permissions, new or replaced; an existing file's mode is not carried over. Parent directories
    are created (0755). Readers see the old content or the new one, never a half-written file. ``module`` is
    kept for the callers' symmetry; the rename is os.replace, which is atomic within one directory.
    """
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    uid, gid = _ids(owner, group)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'w') as handle:
            if uid != -1 or gid != -1:
                os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FileTransaction(object):
    """Several file writes and removals that stand or fall together: ``rollback()`` puts back, in reverse order,
    what each step replaced (the old content, or no file). Returns the steps it could not undo."""

    def __init__(self, module):
        self.module, self.undo = module, []

    def write(self, path, text, mode=0o644, group=None):
        """Write ``path`` (with ``group``: owned by root and that group, for a secret of the service's)."""
        self.undo.append(self._before(path, mode))
        write_atomic(self.module, path, text, mode, 0 if group else None, group)

    def remove(self, path):
        self.undo.append(self._before(path))
        os.unlink(path)

    @staticmethod
    def _before(path, mode=0o644):
        """(path, content or None, mode, uid, gid) of ``path`` now, to put it back."""
        old = read_text(path)
        if old is None:
            return path, None, mode, -1, -1
        st = os.stat(path)
        return path, old, st.st_mode & 0o7777, st.st_uid, st.st_gid

    def rollback(self):
        failures = []
        for path, old, mode, uid, gid in reversed(self.undo):
            try:
                if old is None:
                    if os.path.exists(path):
                        os.unlink(path)
                else:
                    write_atomic(self.module, path, old, mode, uid if uid != -1 else None, gid if gid != -1 else None)
            except OSError as exc:
                failures.append('%s: %s' % (path, exc))
        self.undo = []
        return failures


def fix_mode(module, path, mode, group=None):
    """Give an existing ``path`` ``mode`` (and ``group``, owner root) when it has others: True when it did (or
    would, in check mode)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    gid = st.st_gid if group is None else grp.getgrnam(group).gr_gid
    if stat.S_IMODE(st.st_mode) == mode and st.st_gid == gid and (group is None or st.st_uid == 0):
        return False
    if not module.check_mode:
        if group is not None:
            os.chown(path, 0, gid)
        os.chmod(path, mode)
    return True
