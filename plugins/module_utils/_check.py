# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The contract every ``*_check`` module keeps.

A check reads live state and changes nothing. It returns:

- ``ok``: true when it found no problem;
- ``problems``: each problem as one sentence that names what it is about (empty when ``ok``), the same sentences
  the failure message joins;
- its own structured detail (certificates, instances, sysctl keys...), which the problems summarise.

It takes ``fail_on_problem``: fail the task when there is a problem, or only report it. The older names of that
switch (``fail_on_error``, ``fail_on_drift``) are its aliases. A check whose subject can be down by design (a
backend's server, a real server its health check took out) also takes ``fail_on_down``: whether a down server
counts as a problem at all.
"""

from __future__ import annotations


def fail_on_problem_option(default=True, legacy=()):
    """The argument spec entry of ``fail_on_problem``, with the module's older names of it as ``aliases``."""
    spec = dict(type='bool', default=default)
    if legacy:
        spec['aliases'] = list(legacy)
    return spec


def finish(module, result, problems, prefix=''):
    """Ends the module by the contract: ``ok`` and ``problems`` set from ``problems``; the task fails with them
    joined (after ``prefix``) when there is one and ``fail_on_problem`` holds."""
    result['problems'] = [str(problem) for problem in problems]
    result['ok'] = not result['problems']
    result.setdefault('changed', False)
    if result['problems'] and module.params['fail_on_problem']:
        module.fail_json(msg=prefix + '; '.join(result['problems']), **result)
    module.exit_json(**result)
