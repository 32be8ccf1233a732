# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ACME engine is internal: a play that runs opsnotes.edge.acme itself (no calling role set acme_role, so no
preflight checked its variables) fails at the engine's first task, naming the roles to use, before anything on the
host. The control: the same play with acme_role set, as a calling role sets it, passes the guard (in check mode,
with no certificates, so it changes nothing either)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
GUARD = 'Refuse to run the ACME engine directly'

PLAY = '''
- name: The engine, used directly
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The engine's %s entry point
      ansible.builtin.include_role:
        name: opsnotes.edge.acme
        tasks_from: %s
'''


def play(tmp_path, entry, *extra):
    path = tmp_path / 'play.yml'
    path.write_text(PLAY % (entry, entry))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    # The ansible-playbook of the Python that runs the tests (the venv's), and that Python for the modules.
    playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return subprocess.run([playbook, '-i', 'localhost,', '-c', 'local', '--check', str(path),
                           '-e', 'ansible_python_interpreter=' + sys.executable] + list(extra),
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize('entry', ['setup', 'issue'])
def test_the_engine_used_directly_fails_at_its_guard_naming_the_roles_to_use(tmp_path, entry):
    run = play(tmp_path, entry)
    assert run.returncode == 2, run.stdout[-3000:]
    assert 'opsnotes.edge.acme is the ACME engine of the opsnotes.edge.nginx_acme and opsnotes.edge.haproxy' in run.stdout
    # The guard is the first task after the argument validation: no other task of the engine ran.
    tasks = [line for line in run.stdout.splitlines() if line.startswith('TASK [')]
    assert GUARD in tasks[-1] and 'Validating arguments' in tasks[-2] and len(tasks) == 3, tasks


def test_control_with_acme_role_set_by_a_calling_role_the_guard_passes(tmp_path):
    run = play(tmp_path, 'issue', '-e', '{"acme_role": "nginx_acme", "acme_wait_sites": [], "acme_due": []}')
    lines = run.stdout.splitlines()
    guard = next(i for i, line in enumerate(lines) if line.startswith('TASK [') and GUARD in line)
    result = next(line for line in lines[guard + 1:] if line.startswith(('ok:', 'fatal:', 'skipping:')))
    assert result.startswith('ok: [localhost]'), run.stdout[-3000:]
    assert 'opsnotes.edge.acme is the ACME engine' not in run.stdout
