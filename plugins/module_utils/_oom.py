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

from ansible_collections.opsnotes.edge.plugins.module_utils._quote import abs_path, systemd_exec_arg

SCORE_MIN, SCORE_MAX = -1000, 1000
SELECTORS = ('pid', 'pidfile', 'name', 'pattern', 'unit')
CAP_SYS_RESOURCE = 24
# systemd unit names: no path separators, no leading dot; a .service suffix (OOMScoreAdjust= is a
# [Service] setting). Template instances (foo@bar.service) are allowed.
UNIT_RE = re.compile(r'[A-Za-z0-9:_\\-][A-Za-z0-9:_.\\@-]*\.service')
SSH_UNITS = ('ssh.service', 'sshd.service', 'ssh@.service', 'sshd@.service')
# The user-space OOM killers oom_protect knows besides the kernel's: found by their process name.
OOMD_COMM, EARLYOOM_COMM = 'systemd-oomd', 'earlyoom'
OOM_POLICIES = ('continue', 'stop', 'kill')
OOMD_PREFERENCES = ('none', 'avoid', 'omit')
UNIT_OPTIONS = ('oom_policy', 'oomd_preference', 'earlyoom_names')
COMM_LEN = 15   # the kernel keeps the first 15 bytes of a process name (TASK_COMM_LEN - 1)
_ERE_SPECIAL = set('.[]{}()*+?^$|\\')


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
        unknown = sorted(set(item) - set(SELECTORS) - set(UNIT_OPTIONS) - {'score_adj', force_key})
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
        errors.extend(unit_option_errors(item, where, key))
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


def unit_option_errors(item, where, key):
    """Messages for the options of a unit target (OOMPolicy=, ManagedOOMPreference=, earlyoom's names)."""
    errors = []
    given = [option for option in UNIT_OPTIONS if item.get(option) is not None]
    if given and key != 'unit':
        return ['%s: %s apply to a unit only' % (where, ', '.join(given))]
    for option, allowed in (('oom_policy', OOM_POLICIES), ('oomd_preference', OOMD_PREFERENCES)):
        if item.get(option) is not None and item[option] not in allowed:
            errors.append('%s.%s: %r must be one of %s' % (where, option, item[option], ', '.join(allowed)))
    names = item.get('earlyoom_names')
    if names is not None:
        if not isinstance(names, list):
            errors.append('%s.earlyoom_names must be a list of process names, got %r' % (where, names))
        else:
            errors.extend('%s.earlyoom_names[%d]: %s' % (where, index, why)
                          for index, why in enumerate(map(comm_name_error, names)) if why)
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


def comm_name_error(value):
    """Why ``value`` cannot be a process name (comm) as earlyoom matches it, or None."""
    if not isinstance(value, str) or not value or '/' in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return '%r is not a process name (non-empty, no "/", no control characters)' % (value,)
    return None


def earlyoom_regex(names):
    """A POSIX extended regular expression (earlyoom's, matched against the process name) for exactly ``names``:
    None when there are none. Names are cut to the 15 bytes the kernel keeps, and every character that ERE gives a
    meaning is escaped."""
    cut = sorted({name.encode('utf-8')[:COMM_LEN].decode('utf-8', 'ignore') for name in names})
    if not cut:
        return None
    return '^(%s)$' % '|'.join(''.join('\\' + c if c in _ERE_SPECIAL else c for c in name) for name in cut)


def earlyoom_exec(command, avoid, prefer):
    """The ExecStart= of earlyoom.service that keeps the packaged options ($EARLYOOM_ARGS, from /etc/default/earlyoom)
    and adds --avoid/--prefer for the process names ``avoid`` and ``prefer``; given last, they win over the same
    options there."""
    words = [systemd_exec_arg(abs_path(command)), '$EARLYOOM_ARGS']
    for option, names in (('--avoid', avoid), ('--prefer', prefer)):
        regex = earlyoom_regex(names)
        if regex:
            words += [option, systemd_exec_arg(regex)]
    return ' '.join(words)


def earlyoom_options(cmdline):
    """{avoid, prefer}: the regular expressions of a running earlyoom's command line (the last of each wins, as
    earlyoom reads them); None where not given."""
    found = dict(avoid=None, prefer=None)
    index = 1
    while index < len(cmdline):
        arg = cmdline[index]
        for key in found:
            if arg == '--' + key and index + 1 < len(cmdline):
                found[key] = cmdline[index + 1]
                index += 1
            elif arg.startswith('--%s=' % key):
                found[key] = arg.split('=', 1)[1]
        index += 1
    return found


def regex_matches(regex, name):
    """Whether a POSIX extended ``regex`` (as earlyoom compiles it) matches ``name``; None when Python cannot read
    it."""
    if not regex:
        return False
    try:
        return re.search(regex, name) is not None
    except re.error:
        return None


def cgroup_oomd_preference(control_group, root='/'):
    """(the preference systemd-oomd reads on the cgroup ``control_group``: V(omit), V(avoid) or V(none); the uid that
    owns the cgroup). systemd-oomd honours the preference of a root-owned cgroup only (or one owned by the owner of
    the cgroup it monitors). (None, None) where the cgroup cannot be read."""
    if not control_group or not control_group.startswith('/'):
        return None, None
    path = os.path.join(root, 'sys', 'fs', 'cgroup', control_group.lstrip('/'))
    try:
        owner = os.stat(path).st_uid
    except OSError:
        return None, None
    found = 'none'
    for name in ('avoid', 'omit'):      # omit wins where both are set, as systemd-oomd reads them
        try:
            if os.getxattr(path, 'user.oomd_' + name) == b'1':
                found = name
        except OSError:
            pass
    return found, owner


def find_killers(procs):
    """The OOM killers of the host: the kernel's (always there), systemd-oomd and earlyoom (active when their process
    runs; earlyoom with the --avoid/--prefer of its command line)."""
    first = {}
    for proc in sorted(procs, key=lambda p: p['pid']):
        first.setdefault(proc['comm'], proc)
    killers = [dict(name='kernel', active=True, pid=None)]
    for name, comm in (('systemd-oomd', OOMD_COMM), ('earlyoom', EARLYOOM_COMM)):
        proc = first.get(comm)
        killers.append(dict(name=name, active=proc is not None, pid=proc['pid'] if proc else None))
    if killers[2]['active']:
        killers[2].update(earlyoom_options(first[EARLYOOM_COMM]['cmdline']))
    return killers


def exposures(killers, targets):
    """Processes of protected targets (expected score below 0) that an active user-space killer may still pick:
    earlyoom's --avoid does not match their name; systemd-oomd finds no avoid/omit preference on their unit's cgroup,
    or one it ignores (a cgroup not owned by root). [{killer, selector, pid, comm, reason}]."""
    active = {k['name']: k for k in killers if k['active']}
    found = []
    protected = [t for t in targets if t.get('expected') is not None and t['expected'] < 0]
    early = active.get('earlyoom')
    for target in protected if early else []:
        for proc in target.get('processes') or []:
            matched = regex_matches(early.get('avoid'), proc['comm'])
            if matched:
                continue
            how = ('it runs without --avoid' if not early.get('avoid') else
                   'its --avoid %r cannot be read' % early['avoid'] if matched is None else
                   'its --avoid %r does not match the name' % early['avoid'])
            found.append(dict(killer='earlyoom', selector=target['selector'], pid=proc['pid'], comm=proc['comm'],
                              reason='earlyoom (pid %d) would not avoid %s (pid %d, %s): %s; list the name in the '
                                     "target's earlyoom_names" % (early['pid'], proc['comm'], proc['pid'],
                                                                  target['selector'], how)))
    oomd = active.get('systemd-oomd')
    for target in protected if oomd else []:
        live, owner = target.get('oomd_live'), target.get('cgroup_owner')
        if live is None or not target.get('processes'):
            continue
        if live not in ('avoid', 'omit'):
            why = 'its cgroup has no avoid or omit preference (ManagedOOMPreference=%s)' % target.get('oomd_preference')
        elif owner not in (0, None):
            why = 'its cgroup is owned by uid %s, and systemd-oomd honours the preference of a root-owned one' % owner
        else:
            continue
        found.append(dict(killer='systemd-oomd', selector=target['selector'], pid=None, comm=None,
                          reason='systemd-oomd (pid %d) may pick %s: %s' % (oomd['pid'], target['selector'], why)))
    return found
