# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lints' common ground: a list of errors that name their place, and the base class of each service's lint.

A lint (``_haproxy.Linter``, ``_keepalived.Linter``, ``_syslog_ng.Linter``) checks a whole configuration model and
returns every error at once, each starting with the variable's path. It judges values with the rendering layer
(``_quote``): a value is refused only when ``_quote`` has no safe rendering for it.
"""

from __future__ import annotations

from ansible_collections.opsnotes.edge.plugins.module_utils._quote import errors, fullmatch


class Findings(object):
    """The error list of a lint: ``err`` adds one naming its place, ``check`` runs a check of this layer, and the
    typed checks every configuration lint shares (integer, choice, flag) name the place and the value."""

    def __init__(self):
        self.errors, self.warnings = [], []

    def err(self, where, message):
        self.errors.append('%s: %s' % (where, message))

    def check(self, where, function, *args):
        """True when ``function(*args)`` accepts; else its refusal becomes an error naming ``where``."""
        problems = errors(where, function, *args)
        self.errors.extend(problems)
        return not problems

    def items(self, value, where):
        """[(where[i], item)] of a list of dicts; anything else is an error naming its place (None: no items)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(where, 'must be a list, got %r' % (value,))
            return []
        out = []
        for index, item in enumerate(value):
            here = '%s[%d]' % (where, index)
            if isinstance(item, dict):
                out.append((here, item))
            else:
                self.err(here, 'must be a dict, got %r' % (item,))
        return out

    def integer(self, where, value, low, high, required=False):
        """An integer (or its decimal string) from ``low`` to ``high``; None is fine unless ``required``."""
        if value is None:
            if required:
                self.err(where, 'is required (an integer from %d to %d)' % (low, high))
            return
        if isinstance(value, bool) or not fullmatch(r'-?[0-9]+', str(value)) or not low <= int(value) <= high:
            self.err(where, '%r must be an integer from %d to %d' % (value, low, high))

    def choice(self, where, value, choices, default=None, required=False):
        """``value`` if it is one of ``choices`` (``default`` when None); anything else is an error."""
        if value is None:
            if required:
                self.err(where, 'is required (one of %s)' % ', '.join(choices))
            return default
        if value not in choices:
            self.err(where, '%r must be one of %s' % (value, ', '.join(choices)))
        return value

    def flag(self, where, value):
        """true, false, or unset."""
        if value is not None and not isinstance(value, bool):
            self.err(where, '%r must be true or false' % (value,))


class ConfigLinter(Findings):
    """The lint of one structured configuration: ``run`` checks ``config`` section by section and returns self."""

    def __init__(self, config):
        super(ConfigLinter, self).__init__()
        self.config = config or {}

    def run(self):
        raise NotImplementedError

    @classmethod
    def lint(cls, config):
        """(errors, warnings) of ``config``."""
        linter = cls(config).run()
        return linter.errors, linter.warnings
