"""Every supported ansible-core (tests/compat/versions.txt), each in a virtualenv holding nothing
but that release (scripts/setup-compat, build/compat/ansible-<version>), with the tarball under
test installed by that release's ansible-galaxy:

- ansible-doc lists every module with their short descriptions, in every listing;
- one playbook runs every module, written every way a task can be written (playbooks/compat.yml),
  and every module call takes the action plugin's fast path (its own -vvv lines, counted);
- ad hoc `ansible -m` does too;
- on the oldest and the newest release, a managed host over ssh gives the same results from the
  cache as on Ansible's standard path.
"""

import json
import os
import pathlib
import re
import secrets
import subprocess
import sys

import pytest
import yaml
from play_results import RESULT, results
from ssh_host import SshHost

from harness import PLAYBOOKS, TEST_ACCESS_KEY, TEST_SECRET_KEY, merge_env, assert_network_safe
from moto_server import boto3_client, no_aws_environment

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONS = [
    line.split()[0]
    for line in (ROOT / "tests/compat/versions.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
FAST = re.compile(r"rustaws\.creds: (?:running (\w+) in place|ran (\w+) from the cache)")
STANDARD = re.compile(r"rustaws\.creds: Ansible's standard path for (\w+): (.*)")
VAULT_PASSWORD = "rustaws-compat-vault"


class Core:
    """One ansible-core release: its virtualenv's bin directory and the collection installed
    with its ansible-galaxy."""

    def __init__(self, version, bin_dir, collections):
        self.version = version
        self.bin = bin_dir
        self.collections = collections
        self.installed = collections / "ansible_collections/rustaws/creds"

    def env(self, base, **extra):
        return merge_env(base, {
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),
            "PATH": f"{self.bin}:{base['PATH']}",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            # ansible-core's own import of a deprecated cryptography API, on 2.19 and later.
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            **extra,
        })

    def run(self, program, *args, env, cwd, rc=0):
        assert_network_safe(env)
        proc = subprocess.run([str(self.bin / program), *map(str, args)], capture_output=True, text=True,
                              timeout=300, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
        assert proc.returncode == rc, f"{program} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        return proc


@pytest.fixture(scope="module", params=VERSIONS)
def core(request, tmp_path_factory):
    version = request.param
    bin_dir = ROOT / "build/compat" / f"ansible-{version}" / "bin"
    if not (bin_dir / "ansible-playbook").is_file():
        pytest.fail(f"{bin_dir} has no ansible-playbook: scripts/setup-compat makes it "
                    "(scripts/test runs it)", pytrace=False)
    path = tmp_path_factory.mktemp(f"collections-{version}")
    proc = subprocess.run(
        [str(bin_dir / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(path),
         os.environ["COLLECTION_TARBALL"]],
        capture_output=True, text=True, timeout=120, env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(path)},
    )
    assert proc.returncode == 0, f"ansible-galaxy {version}:\n{proc.stdout}\n{proc.stderr}"
    return Core(version, bin_dir, path)


def documented(core):
    """{FQCN: short_description} from the installed collection's sidecar documentation, for every
    module its executable runs."""
    exe = core.installed / "libexec/Linux-x86_64/rustaws-creds"
    modules = subprocess.run([exe, "--list-modules"], capture_output=True, text=True, check=True).stdout.split()
    assert modules == sorted(p.stem for p in (core.installed / "plugins/modules").glob("*.yml")), modules
    docs = {}
    for m in modules:
        doc = yaml.safe_load((core.installed / f"plugins/modules/{m}.yml").read_text())["DOCUMENTATION"]
        docs[f"rustaws.creds.{m}"] = doc["short_description"]
    return docs


def test_ansible_doc_lists_every_module(core, env, tmp_path):
    run_env = core.env(env)
    want = documented(core)

    listed = core.run("ansible-doc", "-l", "--json", "rustaws.creds", env=run_env, cwd=tmp_path)
    assert json.loads(listed.stdout) == want
    assert "[WARNING]" not in listed.stderr, listed.stderr

    plain = core.run("ansible-doc", "-l", "rustaws.creds", env=run_env, cwd=tmp_path)
    assert [line.split()[0] for line in plain.stdout.splitlines()] == sorted(want)
    assert "[WARNING]" not in plain.stderr, plain.stderr

    every_module = json.loads(core.run("ansible-doc", "-t", "module", "-l", "--json", env=run_env, cwd=tmp_path).stdout)
    assert {k: v for k, v in every_module.items() if k.startswith("rustaws.")} == want

    dump = json.loads(core.run("ansible-doc", "--metadata-dump", "rustaws.creds", env=run_env, cwd=tmp_path).stdout)
    modules = dump["all"]["module"]
    assert sorted(modules) == sorted(want)
    for fqcn, entry in modules.items():
        assert entry["doc"]["module"] == fqcn.rpartition(".")[2]
        assert entry["doc"]["short_description"] == want[fqcn]
        assert entry["doc"]["options"] and entry["return"] and entry["examples"]


# The module each call of playbooks/compat.yml runs, in order, and whether it runs from the cache
# (become) rather than in place.
COMPAT_CALLS = [
    ("aws_caller_info", False), ("sts_session_token", False),
    ("sts_assume_role", False), ("sts_assume_role", False), ("sts_assume_role", False),
    ("sts_assume_role_with_web_identity", False), ("sts_assume_roles", False),
    ("iam_access_key", False), ("iam_access_key", False), ("iam_access_key_info", False),
    ("sts_session_token", False), ("aws_caller_info", False),
    ("aws_caller_info", True), ("aws_caller_info", False), ("sts_assume_role", False),
    ("aws_caller_info", False), ("sts_session_token", False),
    ("aws_caller_info", False), ("aws_caller_info", False),
]


def fast_path_calls(proc):
    text = proc.stdout + proc.stderr
    assert not STANDARD.search(text), STANDARD.search(text).group(0)
    return [(m.group(1) or m.group(2), m.group(2) is not None) for m in FAST.finditer(text)]


def run_compat_playbook(core, env, moto, tmp_path, *args):
    """playbooks/compat.yml at -vvv, every assertion in it passed; returns the process."""
    user = f"compat-{secrets.token_hex(6)}"
    with no_aws_environment():
        boto3_client("iam", moto.url).create_user(UserName=user)
    password = tmp_path / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    run_env = core.env(env, MOTO_URL=moto.url, COMPAT_USER=user)
    proc = core.run("ansible-playbook", "-i", "localhost,", "--vault-password-file", password,
                    PLAYBOOKS / "compat.yml", "-vvv", *args, env=run_env, cwd=tmp_path)
    assert re.search(r"^localhost\s+: ok=18\s+changed=7\s+unreachable=0\s+failed=0\s+skipped=1\s+rescued=0\s+ignored=2",
                     proc.stdout, re.M), proc.stdout
    warnings = re.findall(r"\[WARNING\]: (.*)", proc.stdout + proc.stderr)
    assert not [w for w in warnings if "rustaws" in w], warnings
    return proc


def test_every_module_on_the_fast_path(core, env, moto, tmp_path):
    assert fast_path_calls(run_compat_playbook(core, env, moto, tmp_path)) == COMPAT_CALLS


def test_every_module_on_the_standard_path(core, env, moto, tmp_path):
    """The same playbook, its assertions and inline vault values included, on Ansible's
    standard path."""
    proc = run_compat_playbook(core, env, moto, tmp_path, "-e", "rustaws_creds_delivery=standard")
    text = proc.stdout + proc.stderr
    assert not FAST.search(text)
    assert [(m.group(1), m.group(2)) for m in STANDARD.finditer(text)] == [
        (module, "rustaws_creds_delivery is 'standard'") for module, _ in COMPAT_CALLS]


def test_ad_hoc_on_the_fast_path(core, env, moto, tmp_path):
    run_env = core.env(env)
    proc = core.run(
        "ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "rustaws.creds.aws_caller_info",
        "-a", f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} secret_key={TEST_SECRET_KEY}", "-vvv",
        env=run_env, cwd=tmp_path,
    )
    assert fast_path_calls(proc) == [("aws_caller_info", False)]
    result, _ = json.JSONDecoder().raw_decode(proc.stdout, RESULT.search(proc.stdout).end())
    assert result["account"] == "123456789012" and result["changed"] is False


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with SshHost(tmp_path_factory.mktemp("compat-ssh-host")) as h:
        yield h


@pytest.mark.parametrize("core", [VERSIONS[0], VERSIONS[-1]], indirect=True)
def test_a_managed_host_gives_the_same_results_from_the_cache(core, host, env, moto, tmp_path):
    inventory = tmp_path / "inventory"
    runs = {}
    for mode in ("cached", "standard"):
        inventory.write_text("[all]\n" + host.inventory_line("remote", rustaws_creds_delivery=mode) + "\n")
        run_env = core.env(env, MOTO_URL=moto.url, ANSIBLE_REMOTE_TMP=None,
                           ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / f"cp-{mode}"))
        runs[mode] = core.run("ansible-playbook", "-i", inventory, PLAYBOOKS / "delivery_scenarios.yml",
                              "-e", "target=remote", "--diff", "-vvv", env=run_env, cwd=tmp_path)
    cached = runs["cached"].stdout + runs["cached"].stderr
    assert not STANDARD.search(cached), STANDARD.search(cached).group(0)
    calls = len(re.findall(r"rustaws\.creds: ran \w+ from the cache", cached))
    standard = runs["standard"].stdout + runs["standard"].stderr
    assert calls >= 8 and len(STANDARD.findall(standard)) == calls
    assert results(runs["cached"].stdout) == results(runs["standard"].stdout)
    assert [s for s, _ in results(runs["cached"].stdout)] == [
        "changed", "skipping", "changed", "ok", "ok", "ok", "changed", "fatal"]


def test_a_release_the_plugin_does_not_know_takes_the_standard_path_with_a_warning(env, moto, tmp_path,
                                                                                   tmp_path_factory):
    """The newest release, made to say it is 2.22.0 from the start (as a later release would):
    the task still works, on Ansible's standard path, and the warning names the version."""
    newest = ROOT / "build/compat" / f"ansible-{VERSIONS[-1]}" / "bin"
    later = tmp_path / "later"
    later.mkdir()
    (later / "sitecustomize.py").write_text("import ansible.release\nansible.release.__version__ = '2.22.0'\n")
    path = tmp_path_factory.mktemp("collections-later")
    subprocess.run([str(newest / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(path),
                    os.environ["COLLECTION_TARBALL"]], check=True, capture_output=True, timeout=120,
                   env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(path)})
    core = Core("2.22.0", newest, path)
    proc = core.run(
        "ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "rustaws.creds.aws_caller_info",
        "-a", f"endpoint_url={moto.url} access_key={TEST_ACCESS_KEY} secret_key={TEST_SECRET_KEY}", "-v",
        env=core.env(env, PYTHONPATH=str(later)), cwd=tmp_path,
    )
    assert "[core 2.22.0]" in core.run("ansible", "--version", env=core.env(env, PYTHONPATH=str(later)),
                                       cwd=tmp_path).stdout
    warnings = [" ".join(w.split()) for w in re.findall(r"\[WARNING\]: ((?:.|\n(?! *\[|\S))*)", proc.stderr)]
    assert ("rustaws.creds: Ansible's standard path for aws_caller_info: ansible-core 2.22.0 is not one "
            "this plugin knows (2.16 to 2.21)") in warnings, proc.stderr
    result, _ = json.JSONDecoder().raw_decode(proc.stdout, RESULT.search(proc.stdout).end())
    assert result["account"] == "123456789012"


def test_the_stated_range_is_the_tested_one(collections_dir):
    """meta/runtime.yml and the action plugin state the first and last releases of
    tests/compat/versions.txt, nothing wider."""
    import importlib.util

    first, last = (tuple(int(x) for x in v.split(".")[:2]) for v in (VERSIONS[0], VERSIONS[-1]))
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
    assert runtime["requires_ansible"] == f">={first[0]}.{first[1]}.0,<{last[0]}.{last[1] + 1}.0"
    spec = importlib.util.spec_from_file_location(
        "delivery", collections_dir / "ansible_collections/rustaws/creds/plugins/action/delivery.py")
    delivery = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = delivery  # its dataclasses look their module up
    spec.loader.exec_module(delivery)
    assert delivery.KNOWN_CORE == (first, last)
    assert all(delivery.core_known(v) for v in VERSIONS)
    assert not delivery.core_known(f"{first[0]}.{first[1] - 1}.13")
    assert not delivery.core_known(f"{last[0]}.{last[1] + 1}.0.dev0")
