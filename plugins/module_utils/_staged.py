# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A staged copy of a service's configuration tree, to validate a new file before anything goes live.

An included file (an nginx ``conf.d`` file, a syslog-ng fragment) cannot be checked on its own. Writing it in
place and checking afterwards leaves a broken configuration behind when the run is killed in between. Instead,
``staged_tree`` builds, in a private temporary directory outside the configuration tree, a mirror of the main
configuration's directory made of symbolic links, with the new file in place of the old one and a main file
whose references to the configuration directory point into the mirror. The service's own checker then reads
exactly the configuration it would load, and nothing under /etc is touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager


class StageError(Exception):
    """The main configuration does not include the file's directory: the file would never be read."""


def _mirror(source, target, replace=None):
    """``target`` made a directory of links to the entries of ``source``; ``replace`` (name, text) is written."""
    os.mkdir(target, 0o700)
    names = os.listdir(source) if os.path.isdir(source) else []
    for name in names:
        if replace and name == replace[0]:
            continue
        os.symlink(os.path.join(source, name), os.path.join(target, name))
    if replace:
        with open(os.path.join(target, replace[0]), 'w') as handle:
            handle.write(replace[1])


@contextmanager
def staged_tree(main_config, path, content):
    """Yields (staged main configuration, a function mapping staged paths in a message back to the live ones).

    Raises StageError when ``main_config`` does not exist or does not name the directory of ``path``.
    """
    root = os.path.dirname(main_config)
    file_dir, file_name = os.path.split(path)
    if path == main_config:
        main_text = content
    else:
        try:
            with open(main_config) as handle:
                main_text = handle.read()
        except FileNotFoundError:
            raise StageError('%s does not exist: is the service installed?' % main_config) from None
        if file_dir != root and file_dir.rstrip('/') + '/' not in main_text:
            raise StageError('%s does not include %s/: the file would never be read' % (main_config, file_dir))
    stage = tempfile.mkdtemp(prefix='opsnotes-stage-')
    try:
        mirror = os.path.join(stage, 'root')
        mapping = [(mirror, root)]
        # The configuration directory, with the new file in it when it lives there or in a directory below it.
        _mirror(root, mirror, (file_name, content) if file_dir == root else None)
        if file_dir.startswith(root + '/') and file_dir != root:
            below = os.path.join(mirror, os.path.relpath(file_dir, root))
            if os.path.islink(below):
                os.unlink(below)
            elif os.path.isdir(below):
                raise StageError('%s is nested too deep to stage' % file_dir)
            _mirror(file_dir, below, (file_name, content))
            main_text = main_text.replace(file_dir.rstrip('/') + '/', below + '/')
        elif file_dir != root:
            outside = os.path.join(stage, 'outside')
            _mirror(file_dir, outside, (file_name, content))
            main_text = main_text.replace(file_dir.rstrip('/') + '/', outside + '/')
            mapping.insert(0, (outside, file_dir))
        main_text = main_text.replace(root.rstrip('/') + '/', mirror + '/')
        staged_main = os.path.join(mirror, os.path.basename(main_config))
        if os.path.lexists(staged_main):
            os.unlink(staged_main)
        with open(staged_main, 'w') as handle:
            handle.write(main_text)

        def unstage(text):
            for staged, live in mapping:
                text = text.replace(staged, live)
            return text

        yield staged_main, unstage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
