# -*- coding: utf-8 -*-
# Copyright (c) 2026, opsnotes.edge contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # The CA's renewal information (module_utils._acme_proto.Directory), for the modules that judge when a
    # certificate is due: acme_config, acme_certificate_check, haproxy_check.
    DOCUMENTATION = r"""
options:
  directory_url:
    description:
      - The CA's ACME directory. When the CA offers renewal information (ARI, RFC 9773), each certificate is due
        from a point in the window the CA suggests for it (the same point the renewal script uses), and the
        certificate's C(ari_window) in the result holds that window. The CA is asked once per certificate, and a
        CA that does not answer once per run.
      - Otherwise, or when the CA does not answer within O(timeout), O(renew_days) and the lifetime decide.
    type: str
    version_added: 0.3.0
"""
