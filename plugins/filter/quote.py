# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rendering layer for templates: ``{{ value | opsnotes.edge.quote('nginx') }}``."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.opsnotes.edge.plugins.module_utils import _quote

LANGUAGES = {
    'haproxy': _quote.haproxy_word,
    'syslog_ng': _quote.syslog_ng_string,
    'nginx': _quote.nginx_string,
    'systemd': _quote.systemd_value,
    'systemd_path': _quote.systemd_path,
    'systemd_paths': lambda value: _quote.systemd_path(value, listed=True),
    'systemd_exec': _quote.systemd_exec_arg,
    'systemd_calendar': _quote.systemd_calendar,
    'systemd_run': _quote.systemd_run_word,
    'shell': _quote.shell_word,
}


def quote(value, language):
    if language not in LANGUAGES:
        raise AnsibleFilterError('quote: unknown language %r (known: %s)' % (language, ', '.join(sorted(LANGUAGES))))
    try:
        return LANGUAGES[language](value)
    except _quote.Unsafe as exc:
        # Preflight refuses these first, naming the variable; reaching here means a value was not preflighted.
        raise AnsibleFilterError('quote(%s): %s' % (language, exc)) from None


class FilterModule(object):
    def filters(self):
        return {'quote': quote}
