# Copyright: contributors to opsnotes.edge
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: counts module executions per host and role, whatever the connection.

Not part of the collection: the benchmarks load it with ANSIBLE_CALLBACK_PLUGINS=benchmarks/callback_plugins and
ANSIBLE_CALLBACKS_ENABLED=module_executions.

A module execution is one call of an action plugin's ``_execute_module``: one Python process on the target. So a
``template`` task that finds its file unchanged counts 2 (``stat``, then ``file`` for the attributes), a loop counts
once per item, and ``assert`` or ``set_fact`` count 0. The count is taken in the worker process that ran the task
(workers are forked from the controller, so the wrapper below is in place there) and appended to a spool file as
one line per task and host. Not in the task's result: Ansible censors the result of a ``no_log`` task before the
callbacks see it, which would count such a task as 0.

Output: a table at the end of the run, and the counts as JSON in $OPSNOTES_EXECUTIONS_JSON when that is set:
``{"hosts": {host: {bucket: count}}, "tasks": [[host, bucket, task name, count], ...]}``. A bucket is the role's
name, ``play`` for tasks of a play itself, or ``verify play`` for everything the plays named ``Verify ...`` run.
"""
from __future__ import annotations

DOCUMENTATION = '''
name: module_executions
type: aggregate
short_description: count module executions per host and role (benchmarks only)
description: Counts the calls of ActionBase._execute_module per host, per role and per task.
requirements: [enable in ansible.cfg or with ANSIBLE_CALLBACKS_ENABLED]
'''

import collections
import json
import os
import sys
import tempfile

from ansible.executor.task_executor import TaskExecutor
from ansible.plugins.action import ActionBase
from ansible.plugins.callback import CallbackBase

_COUNT = [0]
_SPOOL = [None]


def _counting(execute):
    def wrapper(self, *args, **kwargs):
        _COUNT[0] += 1
        return execute(self, *args, **kwargs)
    wrapper.opsnotes_counting = True
    return wrapper


def _patch_mitogen():
    mixins = sys.modules.get('ansible_mitogen.mixins')
    mixin = getattr(mixins, 'ActionModuleMixin', None)
    if mixin is not None and not getattr(mixin._execute_module, 'opsnotes_counting', False):
        mixin._execute_module = _counting(mixin._execute_module)


def _patch():
    if getattr(ActionBase._execute_module, 'opsnotes_counting', False):
        return
    ActionBase._execute_module = _counting(ActionBase._execute_module)
    run = TaskExecutor.run

    def counted_run(self):
        _patch_mitogen()
        _COUNT[0] = 0
        try:
            return run(self)
        finally:
            if _COUNT[0] and _SPOOL[0]:
                # One short line in append mode: lines of parallel workers do not interleave.
                line = json.dumps([self._host.get_name(), self._task._uuid, _COUNT[0]]) + '\n'
                with open(_SPOOL[0], 'a') as handle:
                    handle.write(line)
    TaskExecutor.run = counted_run


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'module_executions'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _patch()
        handle, _SPOOL[0] = tempfile.mkstemp(prefix='opsnotes-executions-')
        os.close(handle)
        self._play = ''
        self._buckets = {}      # task uuid -> (bucket, task name)
        self._hosts = collections.defaultdict(collections.Counter)
        self._tasks = []

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name() or ''

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._play.startswith('Verify'):
            bucket = 'verify play'
        elif task._role is not None:
            bucket = task._role.get_name(include_role_fqcn=False)
        else:
            bucket = 'play'
        self._buckets[task._uuid] = (bucket, task.get_name())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _record(self, result):
        # A host appears with every bucket it ran a task in, even with no module execution.
        bucket = self._buckets.get(result._task._uuid, ('play', ''))[0]
        self._hosts[result._host.get_name()][bucket] += 0

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _record

    def _read_spool(self):
        with open(_SPOOL[0]) as handle:
            lines = handle.read().splitlines()
        os.unlink(_SPOOL[0])
        for host, uuid, count in (json.loads(line) for line in lines if line):
            bucket, name = self._buckets.get(uuid, ('play', uuid))
            self._hosts[host][bucket] += count
            self._tasks.append([host, bucket, name, count])

    def v2_playbook_on_stats(self, stats):
        self._read_spool()
        buckets = sorted({b for c in self._hosts.values() for b in c})
        self._display.display('MODULE EXECUTIONS (per host and role)')
        self._display.display(' '.join(['%-12s' % 'host'] + ['%12s' % b[:12] for b in buckets] + ['%6s' % 'total']))
        for host in sorted(self._hosts):
            counts = self._hosts[host]
            self._display.display(' '.join(['%-12s' % host] + ['%12d' % counts[b] for b in buckets]
                                           + ['%6d' % sum(counts.values())]))
        path = os.environ.get('OPSNOTES_EXECUTIONS_JSON')
        if path:
            with open(path, 'w') as handle:
                json.dump(dict(hosts=self._hosts, tasks=self._tasks), handle, indent=1, sort_keys=True)
