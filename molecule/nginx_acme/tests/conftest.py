# SPDX-License-Identifier: GPL-3.0-or-later
# Shared verifier plumbing (journal of JOURNAL_HOSTS on failure) lives in tests/testinfra/helpers.py.
from helpers import pytest_runtest_makereport  # noqa: F401  # pylint: disable=unused-import
