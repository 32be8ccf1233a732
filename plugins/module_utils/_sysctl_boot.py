# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What systemd-sysctl will set at the next boot, as sysctl.d(5) defines it.

- Files ``*.conf`` from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d.
  A file name found in an earlier directory shadows the same name in later ones; a file linked to /dev/null (or
  empty) masks it. All remaining files apply in the order of their names, so for one key the assignment in the
  file with the latest name (and the latest line in it) wins.
- Debian reads /etc/sysctl.conf through the link /etc/sysctl.d/99-sysctl.conf. When no file reaches it that way,
  it is applied last, as ``sysctl --system`` does (the cautious reading: it may set values at boot).
- A key may use '/' or '.' separators: when the first separator is a dot, dots and slashes are interchanged.
- A key may be a glob. A glob assignment applies to the matching keys that no file assigns explicitly and that
  a line ``-key`` (a '-' and no '=') does not exclude; among globs, the last one wins. A '-' before an
  assignment only makes a failure to set it quiet.
"""

from __future__ import annotations

import fnmatch
import os

BOOT_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
SYSCTL_CONF = '/etc/sysctl.conf'
GLOB_CHARS = '*?['


def normalize(key):
    """The slash form of a sysctl.d key (net/ipv4/conf/eth0.100/arp_ignore)."""
    key = key.strip().strip('/')
    slash, dot = key.find('/'), key.find('.')
    if dot != -1 and (slash == -1 or dot < slash):
        key = key.translate(str.maketrans('./', '/.'))
    return key


def _under(root, path):
    return os.path.join(root, path.lstrip('/'))


def boot_files(root='/'):
    """[(path as systemd sees it, path to read)] in the order systemd-sysctl applies them."""
    chosen, seen_dirs = {}, set()
    for directory in BOOT_DIRS:
        real = os.path.realpath(_under(root, directory))
        if real in seen_dirs or not os.path.isdir(real):
            continue
        seen_dirs.add(real)
        for name in sorted(os.listdir(real)):
            if name.endswith('.conf') and name not in chosen:
                chosen[name] = os.path.join(directory, name)
    files = []
    reaches_sysctl_conf = False
    for name in sorted(chosen):
        shown = chosen[name]
        read = os.path.realpath(_under(root, shown))
        if read == os.path.realpath(_under(root, SYSCTL_CONF)):
            reaches_sysctl_conf = True
        if read == '/dev/null' or not os.path.isfile(read):
            continue                                   # masked
        files.append((shown, read))
    if not reaches_sysctl_conf and os.path.isfile(_under(root, SYSCTL_CONF)):
        files.append((SYSCTL_CONF, _under(root, SYSCTL_CONF)))
    return files


def parse(text):
    """[(lineno, key, value or None, kind)]: kind is 'set', or 'exclude' for a '-key' line without '='."""
    entries = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        key, sep, value = line.partition('=')
        key = key.strip()
        quiet = key.startswith('-')
        key = normalize(key[1:] if quiet else key)
        if not key:
            continue
        if not sep:
            if quiet:
                entries.append((lineno, key, None, 'exclude'))
            continue
        entries.append((lineno, key, ' '.join(value.split()), 'set'))
    return entries


def boot_assignments(root='/'):
    """(explicit {key: (value, where)}, globs [(pattern, value, where)], excluded {key}) from every file."""
    explicit, globs, excluded = {}, [], set()
    for shown, read in boot_files(root):
        try:
            with open(read) as handle:
                text = handle.read()
        except OSError:
            continue
        for lineno, key, value, kind in parse(text):
            where = '%s:%d' % (shown, lineno)
            if kind == 'exclude':
                excluded.add(key)
            elif any(c in key for c in GLOB_CHARS):
                globs.append((key, value, where))
            else:
                explicit[key] = (value, where)
    return explicit, globs, excluded


def boot_value(key, assignments):
    """(value, where) that boot gives ``key`` (any form), or (None, None) when nothing sets it."""
    explicit, globs, excluded = assignments
    key = normalize(key)
    if key in explicit:
        return explicit[key]
    if key in excluded:
        return None, None
    found = (None, None)
    for pattern, value, where in globs:
        if glob_match(key, pattern):
            found = (value, where)
    return found


def glob_match(key, pattern):
    """Like glob(3) over /proc/sys paths: a wildcard never matches across a '/'."""
    keys, patterns = key.split('/'), pattern.split('/')
    return len(keys) == len(patterns) and all(fnmatch.fnmatchcase(keys[i], patterns[i]) for i in range(len(keys)))
