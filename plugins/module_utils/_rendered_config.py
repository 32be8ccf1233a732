# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The common start of the modules that render a service's configuration from a structured model."""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils._files import read_text


def prepare(module, lint, render):
    """Lint and render ``config``; exit unchanged when ``path`` already holds the result.

    Uses the module parameters ``config``, ``header`` and ``path``. Returns (previous content or None,
    result dict with changed, content, validated, reloaded, warnings_lint and diff) when there is a change.
    """
    params = module.params
    errors, warnings = lint(params['config'])
    if errors:
        module.fail_json(msg='; '.join(errors), errors=errors)
    content = render(params['config'], params['header'])
    path = params['path']
    old = read_text(path)
    result = dict(changed=old != content, content=content, validated=False, reloaded=False, warnings_lint=warnings,
                  diff=dict(before_header=path, after_header=path, before=old or '', after=content))
    if old == content:
        module.exit_json(**result)
    return old, result
