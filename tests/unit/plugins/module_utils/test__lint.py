# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.opsnotes.edge.plugins.module_utils._lint import ConfigLinter, Findings


def test_findings_name_the_place_of_each_error_and_of_each_refused_value():
    findings = Findings()
    findings.err('a_port', 'is required')
    assert findings.check('a_path', lambda value: value, '/etc/x') is True
    assert findings.items(None, 'a_list') == [] and findings.items([dict(x=1)], 'a_list') == [('a_list[0]', dict(x=1))]
    findings.items('x', 'b_list')
    findings.items([1], 'c_list')
    assert findings.errors == ['a_port: is required', "b_list: must be a list, got 'x'", 'c_list[0]: must be a dict, got 1']


def test_the_shared_lint_checks_name_the_place_and_the_value():
    class Sample(ConfigLinter):
        def run(self):
            self.integer('x_port', self.config.get('port'), 1, 65535, required=True)
            self.integer('x_offset', self.config.get('offset'), -10, 10)
            self.mode = self.choice('x_mode', self.config.get('mode'), ('http', 'tcp'), default='http')
            self.choice('x_kind', self.config.get('kind'), ('a', 'b'), required=True)
            self.flag('x_check', self.config.get('check'))
            if self.config.get('odd'):
                self.warnings.append('odd')
            return self

    assert Sample.lint(dict(port='443', offset=-3, kind='a', check=False)) == ([], [])
    assert Sample(dict(port=80, kind='b')).run().mode == 'http'
    errors, warnings = Sample.lint(dict(port=True, offset='-11', mode='udp', check='yes', odd=True))
    assert errors == ['x_port: True must be an integer from 1 to 65535', "x_offset: '-11' must be an integer from -10 to 10",
                      "x_mode: 'udp' must be one of http, tcp", 'x_kind: is required (one of a, b)',
                      "x_check: 'yes' must be true or false"]
    assert warnings == ['odd']
    assert Sample.lint(None)[0][:1] == ['x_port: is required (an integer from 1 to 65535)']
    with pytest.raises(NotImplementedError):
        ConfigLinter({}).run()
