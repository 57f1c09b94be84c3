"""How the modules reach a host (plugins/action/delivery.py): in place on the controller, from a
per-user cache on a managed host reached over ssh (a real sshd on 127.0.0.2, tests/support/ssh_host.py),
and ansible-core's standard binary-module path where the cache cannot serve.

Uploads are counted from the plugin's -vvv lines and from ssh's own (`SSH: EXEC`, `PUT`); what
ran is proven with entries that would leave a mark if they ever ran.
"""

import hashlib
import pathlib
import re
import shutil
import subprocess

import pytest
from play_results import results
from ssh_host import SshHost

from harness import CACHE, FROM_CACHE, TEST_ACCESS_KEY, TEST_SECRET_KEY, Play, count

UPLOAD = re.compile(r"rustaws\.creds: uploading ")
IN_PLACE = re.compile(r"rustaws\.creds: running \w+ in place")
STANDARD = re.compile(r"rustaws\.creds: Ansible's standard path for \w+: (.*)")
SSH_EXEC = re.compile(r"SSH: EXEC ssh ")
PUT = re.compile(r"^<[^>]+> PUT ", re.M)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with SshHost(tmp_path_factory.mktemp("ssh-host")) as h:
        yield h


@pytest.fixture(scope="module")
def build(collections_dir):
    """The installed collection's Linux-x86_64 executable and its SHA-256."""
    path = collections_dir / "ansible_collections/rustaws/creds/libexec/Linux-x86_64/rustaws-creds"
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def play(host, env, moto, tmp_path):
    (tmp_path / "cp").mkdir()
    return Play(host, env, tmp_path, moto.url)


@pytest.fixture
def cache(host):
    """The connecting user's cache directory on the host, emptied before the test."""
    path = host.path(CACHE)
    shutil.rmtree(path, ignore_errors=True)
    return path


def tasks(n, module="rustaws.creds.sts_session_token", hosts="remote", extra=""):
    task = (f"    - {module}:\n        endpoint_url: \"{{{{ lookup('env', 'MOTO_URL') }}}}\"\n"
            f"        access_key: {TEST_ACCESS_KEY}\n        secret_key: {TEST_SECRET_KEY}\n{extra}")
    return f"- hosts: {hosts}\n  gather_facts: false\n  tasks:\n" + task * n


def recap(proc, host="remote"):
    line = re.search(rf"^{host}\s+: (.*)$", proc.stdout, re.M).group(1)
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def chown(path, user="nobody"):
    shutil.chown(path, user)


def plant_trap(path, mark):
    """An entry that, if it ever ran, would leave `mark` behind."""
    path.write_text(f"#!/bin/sh\ntouch {mark}\necho '{{\"changed\": false, \"msg\": \"trap ran\"}}'\n")
    path.chmod(0o700)


# --------------------------------------------------------------------------------------------
# A managed host over ssh


def test_twenty_tasks_on_a_new_host_upload_once_and_run_with_one_exec_each(play, cache, build, host):
    first = play.run(tasks(20))
    assert recap(first)["changed"] == 20
    assert count(UPLOAD, first) == 1
    assert count(FROM_CACHE, first) == 20
    # The first task: run (entry missing), install, run; every other task: one exec. No sftp.
    assert count(SSH_EXEC, first) == 22
    assert count(PUT, first) == 0
    entry = cache / build[1]
    assert hashlib.sha256(entry.read_bytes()).hexdigest() == build[1]
    st = entry.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (host.uid, 0o700)
    assert cache.stat().st_mode & 0o777 == 0o700
    # No temporary directory, no args file: the arguments went on standard input.
    assert not list(host.path(".ansible/tmp").glob("ansible-tmp-*"))

    again = play.run(tasks(20))
    assert (count(UPLOAD, again), count(SSH_EXEC, again), count(PUT, again)) == (0, 20, 0)
    assert entry.stat().st_ino == st.st_ino, "the entry was rewritten"


def test_parallel_forks_on_a_new_host_all_run_from_the_cache(play, cache, build, host, tmp_path):
    """Five inventory names for the same host and user, five forks: concurrent installs of one
    version never take each other's entry away."""
    names = [f"same{i}" for i in range(5)]
    inventory = tmp_path / "five"
    inventory.write_text("".join(host.inventory_line(n) + "\n" for n in names))
    text = tasks(3, hosts="all")
    path = tmp_path / "five.yml"
    path.write_text(text)
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", "5", str(path), "-vvv"],
                          capture_output=True, text=True, timeout=300, env=play.env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for n in names:
        assert recap(proc, n)["changed"] == 3
    assert count(FROM_CACHE, proc) == 15
    assert 1 <= count(UPLOAD, proc) <= 5
    assert "WARNING" not in proc.stderr and count(PUT, proc) == 0
    assert sorted(p.name for p in cache.iterdir()) == [build[1], build[1] + ".cksum"]


@pytest.mark.parametrize("damage", ["tampered", "one byte changed", "truncated", "another user's", "a symbolic link"])
def test_a_damaged_entry_is_replaced_and_never_run(play, cache, build, host, tmp_path, damage):
    play.run(tasks(1))
    entry = cache / build[1]
    mark = tmp_path / "trap-ran"
    if damage == "truncated":
        entry.write_bytes(entry.read_bytes()[: 1 << 20])
    elif damage == "one byte changed":
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0x40
        entry.write_bytes(bytes(data))
    elif damage == "a symbolic link":
        entry.unlink()
        target = host.path("elsewhere")
        plant_trap(target, mark)
        chown(target, host.user)
        entry.symlink_to(target)
    else:
        plant_trap(entry, mark)
        chown(entry, "nobody" if damage == "another user's" else host.user)
    proc = play.run(tasks(2))
    assert recap(proc)["changed"] == 2
    assert not mark.exists(), "the damaged entry ran"
    assert count(UPLOAD, proc) == 1
    assert not entry.is_symlink()
    assert hashlib.sha256(entry.read_bytes()).hexdigest() == build[1]
    assert entry.stat().st_uid == host.uid


@pytest.mark.parametrize("problem", ["group-writable", "world-writable", "owned by another user"])
def test_a_directory_others_can_write_is_refused(play, cache, build, host, tmp_path, problem):
    play.run(tasks(1))
    entry = cache / build[1]
    mark = tmp_path / "trap-ran"
    plant_trap(entry, mark)
    if problem == "owned by another user":
        chown(cache)
    else:
        cache.chmod(0o770 if problem == "group-writable" else 0o707)
    proc = play.run(tasks(1))
    assert recap(proc)["changed"] == 1
    assert not mark.exists(), "an entry in an unsafe directory ran"
    assert "the cache is not safe to use" in proc.stderr, "the refusal is a warning"
    assert count(UPLOAD, proc) == 0
    assert count(PUT, proc) == 2, "the standard path copies the module and its arguments"


def test_become_root_uses_roots_own_cache(play, cache, build, host, tmp_path):
    root_cache = pathlib.Path("/root") / CACHE
    shutil.rmtree(root_cache, ignore_errors=True)
    try:
        proc = play.run(tasks(3, extra="      become: true\n"))
        assert recap(proc)["changed"] == 3
        assert count(UPLOAD, proc) == 1 and count(FROM_CACHE, proc) == 3
        entry = root_cache / build[1]
        assert entry.stat().st_uid == 0
        assert not cache.exists(), "the connecting user's cache was used"
    finally:
        shutil.rmtree(root_cache, ignore_errors=True)


def test_become_root_never_runs_a_file_the_connecting_user_can_write(play, cache, build, host, tmp_path):
    play.run(tasks(1))
    mark = tmp_path / "trap-ran"
    plant_trap(cache / build[1], mark)
    proc = play.run(tasks(1, extra="      become: true\n"), rustaws_creds_cache_dir=str(cache))
    assert recap(proc)["changed"] == 1
    assert not mark.exists()
    assert "the cache is not safe to use" in proc.stderr
    assert count(PUT, proc) == 2


def test_become_an_unprivileged_user_without_a_home_takes_the_standard_path(play, cache):
    proc = play.run(tasks(2, extra="      become: true\n      become_user: nobody\n"))
    assert recap(proc)["changed"] == 2
    assert count(UPLOAD, proc) == 0
    reasons = STANDARD.findall(proc.stdout)
    assert len(reasons) == 2 and all("no cache directory" in r for r in reasons), reasons
    assert "WARNING" not in proc.stderr


def test_the_setting_turns_the_cache_off(play, cache):
    by_var = play.run(tasks(2), rustaws_creds_delivery="standard")
    by_env = play.run(tasks(2), env={"RUSTAWS_CREDS_DELIVERY": "standard"})
    for proc in (by_var, by_env):
        assert recap(proc)["changed"] == 2
        assert count(UPLOAD, proc) == 0 and count(FROM_CACHE, proc) == 0
        assert count(PUT, proc) == 4
        assert "rustaws_creds_delivery is 'standard'" in proc.stdout
    assert not cache.exists()


def test_a_bad_setting_fails_clearly(play, cache):
    proc = play.run(tasks(1), rc=2, verbosity=0, rustaws_creds_delivery="fast")
    assert "rustaws_creds_delivery must be one of cached, standard, got 'fast'" in proc.stdout


def _uname_says(host, words):
    """Makes `uname` on the host print `words` for the connecting user's ssh sessions."""
    shim = host.path("shim")
    shim.mkdir(exist_ok=True)
    (shim / "uname").write_text(f"#!/bin/sh\necho '{words}'\n")
    (shim / "uname").chmod(0o755)
    environment = host.path(".ssh/environment")
    environment.write_text(f"PATH={shim}:/usr/local/bin:/usr/bin:/bin\n")
    chown(environment, host.user)


@pytest.fixture
def uname_shim(host):
    yield lambda words: _uname_says(host, words)
    host.path(".ssh/environment").unlink(missing_ok=True)


SHIPPED = "Darwin-arm64, Darwin-x86_64, Linux-aarch64, Linux-x86_64"


@pytest.mark.parametrize("platform", ["Linux riscv64", "FreeBSD amd64"])
def test_a_platform_not_shipped_fails_at_once_naming_it(play, cache, uname_shim, platform):
    uname_shim(platform)
    proc = play.run(tasks(1), rc=2, verbosity=1)
    assert (f"rustaws.creds has no build for this host's platform ({platform}); "
            f"it ships builds for: {SHIPPED}") in proc.stdout
    assert count(PUT, proc) == 0


def put_builds(proc):
    """The builds the standard path copied, by platform directory."""
    return re.findall(r"^<[^>]+> PUT \S+/libexec/([^/]+)/\w+ TO \S+/AnsiballZ_sts_session_token$", proc.stdout, re.M)


def test_a_macos_host_gets_the_macos_build_on_the_standard_path(play, cache, uname_shim):
    """The cache's scripts need Linux; ansible-core's standard path copies the host's build (here
    it cannot start: the host is Linux saying Darwin)."""
    uname_shim("Darwin arm64")
    proc = play.run(tasks(1), rc=2)
    assert STANDARD.findall(proc.stdout) == ["the host runs Darwin: the cache needs Linux"]
    assert put_builds(proc) == ["Darwin-arm64"]


def test_the_standard_path_copies_the_build_for_the_hosts_architecture(play, cache, uname_shim):
    """Taken by choice, the standard path asks the host `uname -sm`; an aarch64 Linux host gets
    the aarch64 build (which runs here under qemu-user)."""
    uname_shim("Linux aarch64")
    proc = play.run(tasks(1), rustaws_creds_delivery="standard")
    assert recap(proc)["changed"] == 1
    assert put_builds(proc) == ["Linux-aarch64"]


def test_a_noexec_cache_takes_the_standard_path_after_one_try(play, host):
    mount = host.path("noexec")
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"noexec,size=32m,mode=0700,uid={host.uid},gid={host.gid}",
                    "tmpfs", str(mount)], check=True)
    try:
        cache = mount / "cache"
        proc = play.run(tasks(3), rustaws_creds_cache_dir=str(cache))
        assert recap(proc)["changed"] == 3
        assert count(UPLOAD, proc) == 1, "one try, then the cache remembers that it cannot run"
        reasons = STANDARD.findall(proc.stdout)
        assert len(reasons) == 3 and all("cannot run from" in r for r in reasons), reasons
        assert count(PUT, proc) == 6
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        mount.rmdir()


# --------------------------------------------------------------------------------------------
# The controller


def test_on_the_controller_the_executable_runs_in_place(play, tmp_path):
    proc = play.run(tasks(3, hosts="localhost"))
    assert recap(proc, "localhost")["changed"] == 3
    assert count(IN_PLACE, proc) == 3
    assert count(PUT, proc) == 0 and "ansible-tmp-" not in proc.stdout


def test_delegated_to_the_controller_it_runs_in_place(play, cache):
    proc = play.run(tasks(2, extra="      delegate_to: localhost\n"))
    assert recap(proc)["changed"] == 2
    assert count(IN_PLACE, proc) == 2 and count(SSH_EXEC, proc) == 0


def test_async_takes_the_standard_path(play):
    proc = play.run(tasks(1, hosts="localhost", extra="      async: 30\n      poll: 1\n"))
    assert recap(proc, "localhost")["changed"] == 1
    assert "async tasks need Ansible's async wrapper" in proc.stdout


# --------------------------------------------------------------------------------------------
# Both paths give the same results


@pytest.mark.parametrize("target", ["remote", "localhost"])
def test_every_scenario_gives_the_same_results_on_both_paths(play, cache, target):
    runs = {}
    for mode in ("cached", "standard"):
        proc = play.run("delivery_scenarios.yml", "-e", f"target={target}", "--diff", verbosity=1,
                        rustaws_creds_delivery=mode, env={"RUSTAWS_CREDS_DELIVERY": mode})
        runs[mode] = proc
    cached, standard = (results(runs[m].stdout) for m in ("cached", "standard"))
    assert [s for s, _ in cached] == ["changed", "skipping", "changed", "ok", "ok", "ok", "changed", "fatal"]
    assert cached == standard
    hidden = cached[2][1]
    assert set(hidden) == {"censored", "changed"}
    warnings = [w for w in re.findall(r"\[(?:WARNING|DEPRECATION WARNING)\]: (.*)", runs["cached"].stderr)]
    assert warnings == re.findall(r"\[(?:WARNING|DEPRECATION WARNING)\]: (.*)", runs["standard"].stderr)
    assert any("ec2_region" in w for w in warnings), warnings


def test_verbose_runs_show_no_secret(play, cache):
    """The scenario at -vvv over ssh (the session's secret scan reads it); the arguments never
    appear in a command line."""
    proc = play.run("delivery_scenarios.yml", "-e", "target=remote", "--diff", verbosity=4)
    assert TEST_SECRET_KEY not in proc.stdout + proc.stderr
