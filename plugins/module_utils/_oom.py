# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""OOM score helpers: process selection through procfs, oom_score_adj read/write, target validation.

Everything takes a ``root`` argument (``/`` on a real host) so tests can use a fake ``proc`` tree.
"""

from __future__ import annotations

import errno
import os
import re

SCORE_MIN, SCORE_MAX = -1000, 1000
SELECTORS = ('pid', 'pidfile', 'name', 'pattern', 'unit')
CAP_SYS_RESOURCE = 24
# systemd unit names: no path separators, no leading dot; a .service suffix (OOMScoreAdjust= is a
# [Service] setting). Template instances (foo@bar.service) are allowed.
UNIT_RE = re.compile(r'[A-Za-z0-9:_\\-][A-Za-z0-9:_.\\@-]*\.service')
SSH_UNITS = ('ssh.service', 'sshd.service', 'ssh@.service', 'sshd@.service')


def _proc(root, *parts):
    return os.path.join(root, 'proc', *[str(p) for p in parts])


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None


def list_pids(root='/'):
    try:
        return sorted(int(name) for name in os.listdir(_proc(root)) if name.isdigit())
    except FileNotFoundError:
        return []


def process_info(pid, root='/'):
    """{pid, comm, cmdline, ppid, oom_score_adj, oom_score} or None when the process is gone."""
    comm = _read(_proc(root, pid, 'comm'))
    adj = _read(_proc(root, pid, 'oom_score_adj'))
    if comm is None or adj is None:
        return None
    cmdline = _read(_proc(root, pid, 'cmdline')) or b''
    score = _read(_proc(root, pid, 'oom_score'))
    stat = (_read(_proc(root, pid, 'stat')) or b'').decode('utf-8', 'replace')
    # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses
    after = stat.rsplit(')', 1)[-1].split()
    return dict(
        pid=pid,
        comm=comm.decode('utf-8', 'replace').strip(),
        cmdline=[a.decode('utf-8', 'replace') for a in cmdline.split(b'\0') if a],
        ppid=int(after[1]) if len(after) > 1 and after[1].isdigit() else None,
        oom_score_adj=int(adj.strip()),
        oom_score=int(score.strip()) if score else None,
    )


def processes(root='/'):
    """Every user-space process (kernel threads, which have no command line, are left out)."""
    result = []
    for pid in list_pids(root):
        info = process_info(pid, root)
        if info and info['cmdline']:
            result.append(info)
    return result


def cgroup_paths(pid, root='/'):
    """The systemd cgroup paths of a process (name=systemd on cgroup v1, the unified one on v2)."""
    text = (_read(_proc(root, pid, 'cgroup')) or b'').decode('utf-8', 'replace')
    paths = []
    for line in text.splitlines():
        parts = line.split(':', 2)
        if len(parts) == 3 and (parts[1] == 'name=systemd' or (parts[0] == '0' and parts[1] == '')):
            paths.append(parts[2])
    return paths


def in_unit(pid, unit, root='/'):
    """True when the process runs in the cgroup of ``unit`` (or below it)."""
    return any(unit in path.split('/') for path in cgroup_paths(pid, root))


def read_pidfile(path):
    data = _read(path)
    if data is None:
        return None
    text = data.decode('utf-8', 'replace').strip().split()
    return int(text[0]) if text and text[0].isdigit() else None


def select(target, procs, root='/', exclude=()):
    """The processes a target names. ``target`` holds exactly one of SELECTORS."""
    procs = [p for p in procs if p['pid'] not in exclude]
    if target.get('pid') is not None:
        return [p for p in procs if p['pid'] == int(target['pid'])]
    if target.get('pidfile'):
        pid = read_pidfile(target['pidfile'])
        return [p for p in procs if p['pid'] == pid]
    if target.get('name'):
        name = target['name']
        # comm is truncated to 15 bytes; a longer name matches on argv[0]'s basename too
        return [p for p in procs if p['comm'] == name or p['comm'] == name[:15] and
                os.path.basename(p['cmdline'][0]) == name]
    if target.get('pattern'):
        regex = re.compile(target['pattern'])
        return [p for p in procs if regex.search(' '.join(p['cmdline']))]
    if target.get('unit'):
        return [p for p in procs if in_unit(p['pid'], target['unit'], root)]
    return []


def selector_text(target):
    for key in SELECTORS:
        if target.get(key) not in (None, ''):
            return '%s=%s' % (key, target[key])
    return '(none)'


def write_score(pid, value, root='/'):
    """Write oom_score_adj; returns None on success or a readable reason."""
    try:
        fd = os.open(_proc(root, pid, 'oom_score_adj'), os.O_WRONLY)
    except (FileNotFoundError, ProcessLookupError):
        return 'process exited'
    except PermissionError as exc:
        return permission_reason(errno.errorcode.get(exc.errno, 'EACCES'), value)
    try:
        os.write(fd, ('%d\n' % value).encode())
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return permission_reason(errno.errorcode[exc.errno], value)
        if exc.errno == errno.ESRCH:
            return 'process exited'
        return '%s: %s' % (errno.errorcode.get(exc.errno, exc.errno), exc.strerror)
    finally:
        os.close(fd)
    return None


def permission_reason(name, value):
    if value < 0:
        return ('%s: lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE, '
                'which this host (or container) does not grant' % name)
    return '%s: permission denied' % name


def refused_without_cap(current, expected):
    """Whether the kernel will refuse ``expected`` to a process without CAP_SYS_RESOURCE.

    The kernel refuses values below the process's oom_score_adj_min, which is 0 unless a privileged
    writer lowered it; ``min(current, 0)`` is the best estimate procfs allows.
    """
    return expected < min(current, 0)


def limited_by_capability(expected, cap, reason):
    """Whether a process misses ``expected`` only because the kernel refuses a negative value to a writer without
    CAP_SYS_RESOURCE (``reason`` is the write's error, starting with its errno name): status "limited", not drift."""
    return expected is not None and expected < 0 and not cap and str(reason or '').startswith(('EACCES', 'EPERM'))


def has_capability(cap, root='/', pid='self'):
    """Whether the effective capability set of ``pid`` holds ``cap`` (from /proc/PID/status)."""
    text = (_read(_proc(root, pid, 'status')) or b'').decode('utf-8', 'replace')
    for line in text.splitlines():
        if line.startswith('CapEff:'):
            return bool(int(line.split()[1], 16) >> cap & 1)
    return False


def target_errors(items, var_name, allowed=SELECTORS, score_required=True, positive_only=False, force_key='force'):
    """Messages naming ``var_name[i].key`` for each invalid OOM target (used by preflight and modules)."""
    errors = []
    if not isinstance(items, list):
        return ['%s must be a list, got %r' % (var_name, items)]
    seen = {}
    for index, item in enumerate(items):
        where = '%s[%d]' % (var_name, index)
        if not isinstance(item, dict):
            errors.append('%s must be a dict, got %r' % (where, item))
            continue
        given = [k for k in SELECTORS if item.get(k) not in (None, '')]
        unknown = sorted(set(item) - set(SELECTORS) - {'score_adj', force_key})
        if unknown:
            errors.append('%s: unknown key(s) %s' % (where, ', '.join(unknown)))
        if len(given) != 1 or given[0] not in allowed:
            errors.append('%s needs exactly one of %s, got %s'
                          % (where, ', '.join(allowed), ', '.join(given) or 'none'))
            continue
        key = given[0]
        value = item[key]
        if key == 'unit' and (not isinstance(value, str) or not UNIT_RE.fullmatch(value)):
            errors.append('%s.unit: %r is not a service unit name (like rsyslog.service; no "/", no spaces)'
                          % (where, value))
        elif key == 'pid' and (isinstance(value, bool) or not str(value).isdigit() or int(value) < 1):
            errors.append('%s.pid: %r is not a process id' % (where, value))
        elif key == 'pidfile' and (not isinstance(value, str) or not value.startswith('/') or '\n' in value):
            errors.append('%s.pidfile: %r must be an absolute path' % (where, value))
        elif key == 'name' and (not isinstance(value, str) or '/' in value or not value.strip() or '\n' in value):
            errors.append('%s.name: %r is not a process name (no "/")' % (where, value))
        elif key == 'pattern':
            try:
                re.compile(value)
            except (re.error, TypeError) as exc:
                errors.append('%s.pattern: %r is not a valid regular expression (%s)' % (where, value, exc))
        score = item.get('score_adj')
        if score is None and score_required:
            errors.append('%s.score_adj is required' % where)
        elif score is not None:
            if isinstance(score, bool) or not re.fullmatch(r'-?[0-9]+', str(score)) \
                    or not SCORE_MIN <= int(score) <= SCORE_MAX:
                errors.append('%s.score_adj: %r must be an integer from -1000 to 1000' % (where, score))
            elif positive_only and int(score) <= 0:
                errors.append('%s.score_adj: %r must be above 0 for a sacrificial target' % (where, score))
            elif key == 'unit' and value in SSH_UNITS and int(score) < 0 and not item.get(force_key):
                errors.append('%s: score_adj %s on %s is refused: every login session inherits it, so a runaway '
                              'user process would be protected too (sshd already protects its own listener); '
                              'set %s: true to do it anyway' % (where, score, value, force_key))
        ident = (key, str(value))
        if ident in seen:
            errors.append('%s: %s=%s is already listed as %s' % (where, key, value, seen[ident]))
        else:
            seen[ident] = where
    return errors


# The kernel's line for each OOM kill (mm/oom_kill.c __oom_kill_process): "Out of memory: Killed process 1234
# (python3) total-vm:..kB, anon-rss:..kB, file-rss:..kB, shmem-rss:..kB, UID:0 pgtables:..kB oom_score_adj:0", with
# "Memory cgroup out of memory" instead for a kill inside a memory cgroup's limit.
KILL_RE = re.compile(r'(Out of memory|Memory cgroup out of memory): Killed process (\d+) \((.*)\) total-vm:.*?'
                     r'oom_score_adj:(-?\d+)')


def parse_kill(message):
    """{pid, comm, oom_score_adj, kind (V(system) or V(cgroup))} of a kernel OOM-kill line, or None."""
    found = KILL_RE.search(message or '')
    if not found:
        return None
    return dict(pid=int(found.group(2)), comm=found.group(3), oom_score_adj=int(found.group(4)),
                kind='cgroup' if found.group(1).startswith('Memory cgroup') else 'system')


def cgroup_oom_kills(control_group, root='/'):
    """How many processes of the cgroup ``control_group`` (systemd's ControlGroup, cgroup v2) any OOM killer has
    killed since the cgroup was made (the unit's last start); None where there is no such count (cgroup v1, no
    cgroup)."""
    if not control_group or not control_group.startswith('/'):
        return None
    text = _read(os.path.join(root, 'sys', 'fs', 'cgroup', control_group.lstrip('/'), 'memory.events'))
    for line in (text or b'').decode('ascii', 'replace').splitlines():
        key, _sep, value = line.partition(' ')
        if key == 'oom_kill' and value.strip().isdigit():
            return int(value)
    return None
