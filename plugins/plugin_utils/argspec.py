# Copyright: (c) 2026, rustaws.creds maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument checking without running a module, for tools that check tasks that way (ansible-lint's
args rule imports a module's action plugin or Python file and calls its main() with AnsibleModule
patched). The modules are compiled executables, so plugins/action/<module>.py (written by
scripts/build) give each a main() that builds an AnsibleModule from the module's documented
options. The documentation is the executable's own spec in YAML: tests/integration/test_spec.py
compares the two field by field."""

from __future__ import annotations

import json

from ansible.module_utils import basic
from ansible.plugins.loader import fragment_loader, module_loader
from ansible.utils.plugin_docs import get_plugin_docs

COLLECTION = "rustaws.creds"

# The documentation fields that are also argument_spec fields.
SPEC_FIELDS = ("type", "elements", "required", "default", "choices", "aliases", "no_log")


def argument_spec(options):
    """AnsibleModule's argument_spec for documented options (suboptions become options)."""
    spec = {}
    for name, doc in (options or {}).items():
        entry = {field: doc[field] for field in SPEC_FIELDS if field in doc}
        if doc.get("suboptions"):
            entry["options"] = argument_spec(doc["suboptions"])
        spec[name] = entry
    # Plain JSON values: ansible-core 2.19 tags documentation strings with their origin.
    return json.loads(json.dumps(spec))


def check_module_args(module):
    """Validates the arguments AnsibleModule reads (stdin or the args file) against `module`'s
    documented options, as AnsibleModule would in the module itself."""
    docs = get_plugin_docs(f"{COLLECTION}.{module}", "module", module_loader, fragment_loader, False)[0]
    # Looked up at call time, so that a tool's patched AnsibleModule is the one used.
    basic.AnsibleModule(argument_spec=argument_spec(docs.get("options")), supports_check_mode=True)
