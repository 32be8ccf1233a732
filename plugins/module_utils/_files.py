# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small file helpers shared by the modules: read-if-present and atomic replace."""

from __future__ import annotations

import os
import tempfile


def read_text(path):
    """Content of ``path``, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomic(module, path, text, mode=0o644):
    """Replace ``path`` with ``text`` atomically (temp file in the same directory + rename).

    Parent directories are created (0755). Readers never see a half-written file.
    """
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
