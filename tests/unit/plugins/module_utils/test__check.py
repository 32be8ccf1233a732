# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The contract every check module keeps (module_utils/_check.py), and each check module keeping it."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
import yaml

from ansible_collections.opsnotes.edge.plugins import modules
from ansible_collections.opsnotes.edge.plugins.module_utils._check import fail_on_problem_option, finish

CHECKS = sorted(name for _finder, name, _pkg in pkgutil.iter_modules(modules.__path__) if name.endswith('_check'))
# The older name of fail_on_problem in each, kept as its alias, and the default that module always had.
LEGACY = dict(acme_certificate_check=('fail_on_error', True), acme_challenge_check=('fail_on_error', True),
              haproxy_check=('fail_on_error', True), http_check=('fail_on_error', True),
              ipvs_check=('fail_on_drift', True), keepalived_check=('fail_on_error', True),
              lvs_dr_check=('fail_on_drift', False), syslog_ng_check=('fail_on_error', True))


class Ended(Exception):
    def __init__(self, failed, result):
        super().__init__(failed)
        self.failed, self.result = failed, result


class Module(object):
    def __init__(self, fail_on_problem):
        self.params = dict(fail_on_problem=fail_on_problem)

    def exit_json(self, **result):
        raise Ended(False, result)

    def fail_json(self, msg, **result):
        raise Ended(True, dict(result, msg=msg))


def ended(fail, result, problems, prefix=''):
    with pytest.raises(Ended) as caught:
        finish(Module(fail), result, problems, prefix)
    return caught.value.failed, caught.value.result


def test_no_problem_is_ok_and_ends_the_module_unchanged():
    failed, result = ended(True, dict(detail=[1]), [])
    assert not failed and result == dict(detail=[1], problems=[], ok=True, changed=False)


def test_a_problem_fails_with_every_sentence_joined_after_the_prefix():
    failed, result = ended(True, dict(changed=False), ['a is 0, expected 1', 'b missing'], prefix='X drift: ')
    assert failed and result['msg'] == 'X drift: a is 0, expected 1; b missing'
    assert result['ok'] is False and result['problems'] == ['a is 0, expected 1', 'b missing']


def test_with_fail_on_problem_false_the_problem_is_only_reported():
    failed, result = ended(False, {}, ['b missing'])
    assert not failed and result['ok'] is False and result['problems'] == ['b missing']


def test_the_option_carries_the_older_names_as_aliases():
    assert fail_on_problem_option() == dict(type='bool', default=True)
    assert fail_on_problem_option(False, ['fail_on_drift']) == dict(type='bool', default=False, aliases=['fail_on_drift'])


def test_every_check_module_is_listed_here():
    assert CHECKS == sorted(LEGACY)


@pytest.mark.parametrize('name', CHECKS)
def test_each_check_module_documents_and_takes_the_contract(name, monkeypatch):
    module = importlib.import_module('ansible_collections.opsnotes.edge.plugins.modules.' + name)
    options = yaml.safe_load(module.DOCUMENTATION)['options']
    returns = yaml.safe_load(module.RETURN)
    legacy, default = LEGACY[name]
    assert options['fail_on_problem']['aliases'] == [legacy] and options['fail_on_problem']['default'] is default
    assert legacy not in options
    assert returns['ok']['returned'] == returns['problems']['returned'] == 'always'
    assert returns['problems']['type'] == 'list' and returns['problems']['elements'] == 'str'
    # The argument spec says the same (the module's own AnsibleModule is built with it).
    seen = {}
    monkeypatch.setattr(module, 'AnsibleModule', lambda **kwargs: seen.update(kwargs))
    module.build_module()
    assert seen['argument_spec']['fail_on_problem'] == fail_on_problem_option(default, [legacy])
    assert 'finish(' in open(module.__file__).read()
