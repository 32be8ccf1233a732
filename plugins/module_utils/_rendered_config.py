# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The common start of the modules that render a service's configuration from a structured model."""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils._files import fix_mode, read_text


def prepare(module, lint, render, redact=None, perms=None, unchanged=None, provision=None):
    """Lint and render ``config``; exit unchanged when ``path`` already holds the result.

    Uses the module parameters ``config``, ``header`` and ``path``. Returns (previous content or None, the new
    content, result dict with changed, content, validated, reloaded, warnings_lint and diff) when there is a change.
    ``redact`` (text -> text) hides secrets in the result's content and diff; the file gets the real text.
    ``perms`` (mode, group or None): an unchanged file with other permissions gets these, and counts as changed.
    ``unchanged`` (result -> None) runs before the exit when the file holds the result already (it may set changed).
    ``provision`` (an ``_install.Provision``): its packages are installed right after the lint, so the first change
    on the host comes after the input was accepted; its ``finish`` (the unit kept running) runs before the exit of
    an unchanged file; and in check mode with packages still missing, this exits too: there is nothing to check the
    configuration with yet.
    """
    redact = redact or (lambda text: text)
    params = module.params
    errors, warnings = lint(params['config'])
    if errors:
        module.fail_json(msg='; '.join(errors), errors=errors)
    extra = provision.setup() if provision else {}
    content = render(params['config'], params['header'])
    path = params['path']
    old = read_text(path)
    result = dict(changed=old != content, content=redact(content), validated=False, reloaded=False,
                  warnings_lint=warnings,
                  diff=dict(before_header=path, after_header=path, before=redact(old or ''), after=redact(content)))
    result.update(extra)
    if old == content:
        if perms:
            result['changed'] = fix_mode(module, path, *perms)
        if unchanged:
            unchanged(result)
        if provision:
            provision.finish(result)
        module.exit_json(**result)
    if provision and provision.pending(result):
        module.exit_json(**provision.finish(result))
    return old, content, result
