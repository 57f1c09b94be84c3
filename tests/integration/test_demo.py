"""scripts/demo, as a newcomer runs it, with the collection tarball under test instead of a new
build (RUSTAWS_DEMO_TARBALL): it succeeds, prints nothing on stderr (no Python warnings), and its
summary shows what sets the collection apart, each in one line asserted whole: credentials kept
in a profile and reused by the same task without an STS call, a scheduled key rotation that
does nothing while the key is young, and many roles in one task.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent

# Each line of the debug task "What happened", as the default callback prints a list item.
ITEM = re.compile(r'^        ("(?:[^"\\]|\\.)*"),?$', re.M)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tarball = os.environ.get("COLLECTION_TARBALL")
    assert tarball and os.path.isfile(tarball), f"COLLECTION_TARBALL={tarball!r} is not a tarball"
    home = tmp_path_factory.mktemp("demo-home")
    # The machine's AWS, Ansible and proxy settings must not reach the demo.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "EC2_", "ANSIBLE_", "SSL_CERT_", "PYTHONWARNINGS"))
           and not k.lower().endswith("_proxy")}
    (home / "ansible.cfg").write_text("")
    env.update(
        HOME=str(home),
        PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        RUSTAWS_DEMO_TARBALL=os.path.abspath(tarball),
        ANSIBLE_CONFIG=str(home / "ansible.cfg"),
        AWS_CONFIG_FILE=str(home / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
    )
    proc = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=600,
                          env=env, cwd=home, stdin=subprocess.DEVNULL)
    return proc, home


def summary(stdout):
    start = stdout.index("TASK [What happened]")
    end = stdout.index("TASK [Clean up]")
    return [json.loads(item) for item in ITEM.findall(stdout[start:end])]


def test_the_demo_runs_cleanly(demo):
    proc, home = demo
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == ""
    assert re.search(r"^localhost\s+: ok=\d+ .*failed=0 ", proc.stdout, re.M), proc.stdout
    # The demo wrote its profile under its own scratch directory, not the user's home.
    assert not (home / ".aws").exists()


def test_the_same_task_again_reuses_the_kept_credentials(demo):
    proc, _ = demo
    assert ("kept profile:  the same task again: changed: false, the credentials kept in profile "
            "demo-role, no STS call") in summary(proc.stdout)


def test_many_roles_in_one_task(demo):
    proc, _ = demo
    assert ("many roles:    5 roles assumed in one task (api, batch, db, web, worker), "
            "each with its own credentials") in summary(proc.stdout)


def test_a_scheduled_rotation_leaves_a_young_key_alone(demo):
    proc, _ = demo
    assert ("max_age_days:  the newest key is younger than 90 days: changed: false, no key created"
            ) in summary(proc.stdout)


def test_the_summary_says_each_step_once(demo):
    proc, _ = demo
    labels = [line.split(":", 1)[0] for line in summary(proc.stdout)]
    assert labels == ["caller", "session token", "assumed role", "kept profile", "many roles", "max_age_days",
                      "rotation", "keys now"]
