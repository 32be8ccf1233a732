# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # The options of module_utils._install.Provision, shared by the *_config modules of a systemd service.
    DOCUMENTATION = r"""
options:
  packages:
    description:
      - Debian packages that must be installed first (as C(apt-get install --no-install-recommends), the package
        lists refreshed), so that one call provisions, checks and installs. Only missing ones are installed, after
        the configuration's lint, so bad input changes nothing.
      - In check mode, missing packages are reported and the configuration is not checked (there is nothing to
        check it with yet).
    type: list
    elements: str
    default: []
  keep_running:
    description:
      - Keep O(service) enabled and started once the configuration is in place (C(systemctl enable), C(systemctl
        start), each only when needed).
    type: bool
    default: false
"""
