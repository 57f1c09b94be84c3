"""What the integration tests share besides fixtures: the test keys and constants, the network
safety checks, the check of a binary module's output, ansible-playbook against the ssh host,
and the bad-value check (one module run with one bad option value, which must fail with its
message and send nothing).

tests/integration/conftest.py puts this directory on the import path and builds its fixtures
from these names; the test files import them from here, never from conftest.

Network rule: only 127.0.0.1 (and the ssh host on 127.0.0.2) is ever contacted; the run
helpers call `assert_network_safe` on every environment and argument set, and
`assert_urls_local` on every playbook and ad hoc argument string.
"""

import json
import pathlib
import re
import subprocess
import sys
import typing
import urllib.parse

import module_spec
import pytest
from moto_server import PROXY_VARS, TEST_ACCESS_KEY, TEST_SECRET_KEY  # noqa: F401 (for the tests)
from secret_scanner import PLACEHOLDER  # noqa: F401 (for the tests)

# The public names: what the test files and conftest.py import from here.
__all__ = [
    "CACHE", "FQCN", "FROM_CACHE", "HOST_LINE", "INTEGRATION", "INTERNAL_ARGS", "MOTO_ACCESS_KEY", "PLACEHOLDER",
    "PLAYBOOKS", "PROXY_VARS", "REMOVE", "TEST_ACCESS_KEY", "TEST_SECRET_KEY", "VENV_BIN", "AdhocRun", "AuthMoto",
    "IamKey", "ModuleRun", "Play", "TlsMoto", "assert_message", "assert_network_safe", "assert_next_task_signs_as",
    "assert_urls_local", "bad_value_cases", "check_bad_value", "check_protocol", "count", "is_local", "merge_env",
    "with_changes",
]

INTEGRATION = pathlib.Path(__file__).resolve().parent.parent / "integration"
PLAYBOOKS = INTEGRATION / "playbooks"
VENV_BIN = pathlib.Path(sys.executable).parent
FQCN = "rustaws.creds.sts_session_token"
# What moto's GetSessionToken always returns.
MOTO_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"

# The `_ansible_*` keys ansible-core 2.19 appends to the args file.
INTERNAL_ARGS = {
    "_ansible_check_mode": False,
    "_ansible_no_log": False,
    "_ansible_debug": False,
    "_ansible_diff": False,
    "_ansible_verbosity": 0,
    "_ansible_version": "2.19.14",
    "_ansible_module_name": FQCN,
    "_ansible_syslog_facility": "LOG_USER",
    "_ansible_selinux_special_fs": ["fuse", "nfs", "vboxsf", "ramfs", "9p", "vfat"],
    "_ansible_socket": None,
    "_ansible_shell_executable": "/bin/sh",
    "_ansible_keep_remote_files": False,
    "_ansible_tmpdir": "/tmp/ansible-tmp-1-2-3/",
    "_ansible_remote_tmp": "~/.ansible/tmp",
    "_ansible_ignore_unknown_opts": False,
    "_ansible_target_log_info": None,
    "_ansible_tracebacks_for": [],
}

# A host's result line of the default callback at -v: `ok: [localhost] => {...}`.
HOST_LINE = re.compile(r"^(ok|changed|skipping|fatal): \[localhost\](?:: [A-Z!]+)? => ", re.M)

# The connecting user's cache directory, under the host's home, and what the plugin prints at -vvv.
CACHE = ".ansible/tmp/rustaws-creds"
FROM_CACHE = re.compile(r"rustaws\.creds: ran \w+ from the cache")


# --------------------------------------------------------------------------------------------
# Environment and network safety


def merge_env(base, extra):
    """base with extra's variables set; a value of None in extra removes the variable."""
    merged = dict(base)
    for k, v in (extra or {}).items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return merged


def is_local(value):
    """True unless value is a URL whose host is not 127.0.0.1."""
    if not isinstance(value, str) or "://" not in value:
        return True  # not a URL: the module refuses it before connecting
    host = urllib.parse.urlsplit(value).hostname
    return host in (None, "", "127.0.0.1")


def assert_network_safe(env, args=None):
    """No variable or option that could point a module (or boto3 in a helper) anywhere but
    127.0.0.1: the SDK's AWS_ENDPOINT_URL*, and endpoint_url's variables and aliases (spec)."""
    endpoint = module_spec.common_options()["endpoint_url"]
    assert env.get("AWS_EC2_METADATA_DISABLED") == "true", "the metadata service must stay disabled"
    assert env.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"), "the endpoint safety net is missing"
    for k, v in env.items():
        if k in endpoint["env"] or k.startswith("AWS_ENDPOINT_URL"):
            assert is_local(v), f"{k}={v} is not local"
    for k in module_spec.all_names({"endpoint_url": endpoint}):
        assert is_local((args or {}).get(k)), f"{k}={args[k]} is not local"


def assert_urls_local(text):
    for host in re.findall(r"https?://([^/:\s'\"]+)", text):
        assert host == "127.0.0.1", f"non-local URL host {host!r} in {text!r}"


# --------------------------------------------------------------------------------------------
# What a module run and the servers' fixtures return


class ModuleRun(typing.NamedTuple):
    rc: int
    result: dict
    stdout: str
    stderr: str


class IamKey(typing.NamedTuple):
    access_key: str
    secret_key: str


class AuthMoto(typing.NamedTuple):
    """What the auth_moto fixture gives: moto that authenticates every request, and two users."""

    url: str
    key: IamKey  # a user allowed sts:GetSessionToken
    denied_key: IamKey  # a user with no policy


class TlsMoto(typing.NamedTuple):
    """What the tls_moto fixture gives: moto over https."""

    url: str
    ca_bundle: str  # the CA that issued the server's certificate
    other_ca_bundle: str  # an unrelated CA


class AdhocRun(typing.NamedTuple):
    rc: int
    status: str  # ok, changed, skipping or fatal
    result: dict
    stdout: str
    stderr: str


def check_protocol(proc):
    """What ansible-core needs from a binary module: exactly one JSON object, on one line,
    nothing on stderr; and the AnsibleModule convention of exit status 1 on failure. Returns
    the ModuleRun of the completed process."""
    assert proc.stderr == "", f"stderr must stay empty, got: {proc.stderr!r}"
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and proc.stdout.endswith("\n"), f"expected one line of JSON, got: {proc.stdout!r}"
    result = json.loads(lines[0])
    assert isinstance(result, dict), f"expected a JSON object, got: {lines[0]}"
    assert proc.returncode == (1 if result.get("failed") else 0), (proc.returncode, result)
    return ModuleRun(proc.returncode, result, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------------------------
# One bad option value: the module fails with its message and sends nothing

REMOVE = object()  # in a case's changes: the option is left out of the arguments


def bad_value_cases(cases):
    """pytest.param(changes, expected, id=name) of each (name, changes, expected, *marks) of a
    table of bad values; for `@pytest.mark.parametrize("changes,expected", ...)`."""
    return [pytest.param(changes, expected, id=name, marks=marks) for name, changes, expected, *marks in cases]


def with_changes(args, changes):
    """A copy of args with changes applied; a value of REMOVE leaves that option out."""
    changed = dict(args)
    for k, v in changes.items():
        if v is REMOVE:
            changed.pop(k, None)
        else:
            changed[k] = v
    return changed


def assert_message(msg, expected, match):
    """match: "whole" (msg == expected), "prefix" (msg starts with expected), "words" (every
    string of the list expected is in msg) or "part" (expected is in msg)."""
    if match == "whole":
        assert msg == expected, msg
    elif match == "prefix":
        assert msg.startswith(expected), msg
    elif match == "words":
        assert not isinstance(expected, str), "words: a list of strings"
        for w in expected:
            assert w in msg, msg
    elif match == "part":
        assert expected in msg, msg
    else:
        raise ValueError(f"unknown match {match!r}")


def check_bad_value(run, args, changes, expected, server, match="words", check_mode=None):
    """Runs run(args with changes) (a run_module, or run_named_module with its module name bound:
    functools.partial) and asserts: exit 1, failed, the message as `match` says, and no request
    reached `server` (a recording stand-in). Returns (the arguments run, the ModuleRun)."""
    full = with_changes(args, changes)
    internal = {} if check_mode is None else {"check_mode": check_mode}
    done = run(full, **internal)
    assert done.rc == 1 and done.result["failed"] is True, done.result
    assert_message(done.result["msg"], expected, match)
    assert server.requests == [], "nothing may be sent for a bad value"
    return full, done


# --------------------------------------------------------------------------------------------
# A managed host over ssh (tests/support/ssh_host.py), played to by ansible-playbook


class Play:
    """ansible-playbook against the ssh host (`remote`) and the controller (`localhost`)."""

    def __init__(self, host, env, tmp_path, moto_url):
        self.host = host
        self.tmp = tmp_path
        self.env = merge_env(env, {
            "MOTO_URL": moto_url,
            # The host's own default (~/.ansible/tmp), not the test directory the other tests use.
            "ANSIBLE_REMOTE_TMP": None,
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp"),
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        })
        self.counter = 0

    def inventory(self, **remote_vars):
        path = self.tmp / f"inventory-{self.counter}"
        path.write_text(
            "[all]\n"
            + self.host.inventory_line("remote", **remote_vars) + "\n"
            + "localhost ansible_connection=local ansible_python_interpreter=" + sys.executable
            + "\n"
        )
        return path

    def run(self, playbook, *args, rc=0, env=None, verbosity=3, **remote_vars):
        """playbook: a file of playbooks/ or the text of one. Returns the completed process, whose
        exit code must be `rc` (None: any)."""
        self.counter += 1
        if "\n" in playbook:
            path = self.tmp / f"play-{self.counter}.yml"
            path.write_text(playbook)
        else:
            path = PLAYBOOKS / playbook
        full_env = merge_env(self.env, env)
        assert_network_safe(full_env)
        cmd = ["ansible-playbook", "-i", str(self.inventory(**remote_vars)), str(path), *args]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=full_env, cwd=self.tmp,
                              stdin=subprocess.DEVNULL)
        if rc is not None:
            assert proc.returncode == rc, f"ansible-playbook exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        return proc



def assert_next_task_signs_as(run_named_module, url, r):
    """The STS result `r`'s credentials sign an aws_caller_info at `url` as `r`'s role."""
    creds = r["sts_creds"]
    rc, caller, _, _ = run_named_module("aws_caller_info", {
        "endpoint_url": url, "access_key": creds["access_key"], "secret_key": creds["secret_key"],
        "session_token": creds["session_token"]})
    assert rc == 0, caller
    assert caller["arn"] == r["sts_user"]["arn"]
    return caller


def count(pattern, proc):
    """How often pattern matches the process's stdout and stderr together."""
    return len(pattern.findall(proc.stdout + proc.stderr))
