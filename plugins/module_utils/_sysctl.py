# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared procfs / sysctl helpers.

Everything takes a ``root`` argument (``/`` on a real host) so that unit tests can point the
code at a fake ``proc`` tree.
"""

from __future__ import annotations

import os
import re

from ansible_collections.opsnotes.edge.plugins.module_utils._files import StepFailed, read_text, write_atomic

# Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no "/", no whitespace. We accept the
# conservative subset that also cannot be misread by a shell or as a sysctl path separator
# other than the dot (VLAN names such as eth0.100 are handled by slash-form keys).
IFACE_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}')
KEY_COMPONENT_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.:@-]*')


class SysctlError(Exception):
    """A sysctl key or value that cannot be read, written or understood."""


def valid_interface_name(name):
    """True when ``name`` is a safe Linux interface name (not ``.``/``..``, no path characters)."""
    return bool(isinstance(name, str) and IFACE_RE.fullmatch(name) and name not in ('.', '..'))


def split_key(key):
    """Split a sysctl key into its path components.

    Follows sysctl.d(5): when the first separator is a slash, the key is split on slashes
    only and dots stay part of a component (``net/ipv4/conf/eth0.100/arp_ignore``); otherwise
    it is split on dots.
    """
    if not isinstance(key, str) or not key:
        raise SysctlError('sysctl key must be a non-empty string, got %r' % (key,))
    key = key.strip()
    first_slash, first_dot = key.find('/'), key.find('.')
    if first_slash != -1 and (first_dot == -1 or first_slash < first_dot):
        parts = key.strip('/').split('/')
    else:
        parts = key.split('.')
    for part in parts:
        if not part or part in ('.', '..') or not KEY_COMPONENT_RE.fullmatch(part):
            raise SysctlError('invalid sysctl key %r (bad component %r)' % (key, part))
    return parts


def canonical_key(key):
    """The display form of a key: dotted, unless a component contains a dot (then slashes)."""
    parts = split_key(key)
    if any('.' in part for part in parts):
        return '/'.join(parts)
    return '.'.join(parts)


def conf_key(family, iface, name):
    """Key of a per-interface setting, e.g. conf_key('ipv4', 'eth0.100', 'arp_ignore')."""
    return canonical_key('/'.join(('net', family, 'conf', iface, name)))


def key_path(key, root='/'):
    return os.path.join(root, 'proc', 'sys', *split_key(key))


def normalize_value(value):
    """Values compare as whitespace-collapsed strings (procfs separates fields with tabs)."""
    if isinstance(value, bool):
        value = int(value)
    return ' '.join(str(value).split())


def read_sysctl(key, root='/'):
    """Live value of ``key`` as a normalized string, or None when the key does not exist."""
    try:
        with open(key_path(key, root)) as handle:
            return normalize_value(handle.read())
    except (FileNotFoundError, NotADirectoryError):
        return None


def write_sysctl(key, value, root='/'):
    path = key_path(key, root)
    try:
        with open(path, 'w') as handle:
            handle.write(normalize_value(value) + '\n')
    except OSError as exc:
        raise SysctlError('cannot write %s = %s (%s): %s'
                          % (canonical_key(key), normalize_value(value), path, exc)) from exc


def parse_sysctl_conf(text):
    """Parse sysctl.d text into an ordered {canonical key: normalized value} dict.

    Comments (``#`` or ``;``), blank lines and the ``-`` (ignore errors) prefix are handled as
    systemd-sysctl does; the last assignment of a key wins.
    """
    values = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        if '=' not in line:
            raise SysctlError('line %d: no "=" in %r' % (lineno, raw))
        key, value = line.split('=', 1)
        key = key.strip().lstrip('-').strip()
        values[canonical_key(key)] = normalize_value(value)
    return values


def render_sysctl_conf(values, header=None):
    lines = []
    if header:
        lines.extend('# ' + line if line else '#' for line in header.splitlines())
    for key, value in values.items():
        lines.append('%s = %s' % (canonical_key(key), normalize_value(value)))
    return '\n'.join(lines) + '\n'


def read_sysctl_conf(path):
    """Parsed content of a persisted sysctl file, or None when it does not exist."""
    try:
        with open(path) as handle:
            return parse_sysctl_conf(handle.read())
    except FileNotFoundError:
        return None


def effective(all_value, iface_value):
    """The kernel uses max(conf/all, conf/<iface>) for arp_ignore, arp_announce and rp_filter."""
    known = [int(v) for v in (all_value, iface_value) if v is not None]
    return max(known) if known else None


def list_interfaces(root='/'):
    """Interfaces that have an IPv4 conf directory (excludes the all/default pseudo entries)."""
    try:
        names = os.listdir(os.path.join(root, 'proc', 'sys', 'net', 'ipv4', 'conf'))
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n not in ('all', 'default'))


def interface_hwaddr(iface, root='/'):
    """MAC address of ``iface`` from sysfs (lower case), or None when unknown."""
    try:
        with open(os.path.join(root, 'sys', 'class', 'net', iface, 'address')) as handle:
            return handle.read().strip().lower() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def default_route_interface(root='/'):
    """Interface of the IPv4 default route with the lowest metric (IPv6 as fallback), or None."""
    best = None
    try:
        with open(os.path.join(root, 'proc', 'net', 'route')) as handle:
            for line in handle.read().splitlines()[1:]:
                fields = line.split()
                if len(fields) >= 8 and fields[1] == '00000000' and fields[7] == '00000000':
                    flags, metric = int(fields[3], 16), int(fields[6])
                    if flags & 0x1 and (best is None or metric < best[0]):  # RTF_UP
                        best = (metric, fields[0])
    except FileNotFoundError:
        pass
    if best:
        return best[1]
    try:
        with open(os.path.join(root, 'proc', 'net', 'ipv6_route')) as handle:
            for line in handle.read().splitlines():
                fields = line.split()
                if len(fields) == 10 and fields[0] == '0' * 32 and fields[1] == '00' and fields[9] != 'lo':
                    metric = int(fields[5], 16)
                    if best is None or metric < best[0]:
                        best = (metric, fields[9])
    except FileNotFoundError:
        pass
    return best[1] if best else None


def _lines(values):
    return ''.join('%s = %s\n' % (k, v) for k, v in values.items() if v is not None)


def _desired(values):
    desired = {}
    for key, value in values.items():
        try:
            key = canonical_key(key)
        except SysctlError as exc:
            raise StepFailed('values: %s' % exc) from exc
        raw = normalize_value(value) if isinstance(value, bool) else str(value).strip()
        if not raw or '\n' in raw or '\r' in raw or '\0' in raw:
            raise StepFailed('values: %s has an empty or multi-line value %r' % (key, value))
        desired[key] = normalize_value(raw)
    return desired


def converge(module, values, path, header, runtime=True, root='/'):
    """Set the keys of ``values`` in the running kernel (``runtime``) and write exactly them to ``path`` (when
    given), in check mode only comparing. Returns the result (changed, changed_keys, file_changed, values, diff).

    Every key is read first: a missing one fails before anything is written. All or nothing: the runtime keys one
    by one, then the file; a failure at any step restores the keys already written, so runtime and boot never
    disagree because of this call. Failures raise StepFailed.
    """
    desired = _desired(values)
    live = {}
    if runtime:
        live = {key: read_sysctl(key, root) for key in desired}
        missing = [key for key, value in live.items() if value is None]
        if missing:
            raise StepFailed('these sysctl keys do not exist on this host (missing interface or kernel module?): '
                             '%s; nothing was changed' % ', '.join(missing), dict(missing=missing))
    to_set = [key for key in desired if runtime and live[key] != desired[key]]

    old_text = read_text(path) if path else None
    new_text = render_sysctl_conf(desired, header) if path else None
    file_changed = bool(path) and old_text != new_text

    result = dict(
        changed=bool(to_set) or file_changed,
        changed_keys=to_set,
        file_changed=file_changed,
        values={key: {'before': live.get(key), 'after': value} for key, value in desired.items()},
        diff=[
            dict(before_header='runtime', after_header='runtime',
                 before=_lines({k: live[k] for k in to_set}), after=_lines({k: desired[k] for k in to_set})),
        ],
    )
    if path:
        result['diff'].append(dict(before_header=path, after_header=path, before=old_text or '', after=new_text))
    if module.check_mode or not result['changed']:
        return result

    done = []

    def restore(reason):
        restore_errors = []
        for key in reversed(done):
            try:
                write_sysctl(key, live[key], root)
            except SysctlError as restore_exc:
                restore_errors.append(str(restore_exc))
        restore_note = (' (restore failed: %s)' % '; '.join(restore_errors)) if restore_errors else ''
        result['changed'] = bool(restore_errors)
        return StepFailed('%s; restored the %d key(s) already written%s; the file was not changed'
                          % (reason, len(done), restore_note), result)

    try:
        for key in to_set:
            write_sysctl(key, desired[key], root)
            done.append(key)
    except SysctlError as exc:
        raise restore(str(exc)) from exc
    if file_changed:
        try:
            write_atomic(module, path, new_text, 0o644)
        except OSError as exc:
            raise restore('cannot write %s: %s' % (path, exc)) from exc
    return result
