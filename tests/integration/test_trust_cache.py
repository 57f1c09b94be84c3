"""No other local user can turn the executable cache (plugins/action/delivery.py) against the user
it belongs to: a real second user (tests/support/local_user.py) pre-creates directories, plants
files and swaps directories while the modules run over the ssh host, as its user and as root.
Each attack sits next to the legitimate use it must leave working. What ran is proven with
entries that would leave a mark if they ever ran (plant_trap).
"""

import os
import pathlib
import re
import shutil
import tempfile

import pytest
from local_user import LocalUser
from test_delivery import (FROM_CACHE, PUT, STANDARD, UPLOAD, build, count, host, play, recap,  # noqa: F401 (fixtures)
                           tasks)


ATTACKER = "rustawsevil"
BECOME = "      become: true\n"
ITEM_RESULT = re.compile(r"^(ok|changed|failed|fatal): \[remote\] => \(item=(\d+)\)", re.M)
EXEC_LINE = re.compile(r"^.* EXEC .*$", re.M)

# The race: how many module runs as root, and the bounds of the attacker's swapping loop.
RACE_RUNS = 100
SWAP_LIMIT = 50_000_000
SWAP_SECONDS = 150

# Run as the attacker: exchanges two directories atomically (renameat2 RENAME_EXCHANGE) in a
# tight loop until the stop file appears or a bound is reached; leaves them as they were and
# writes the number of exchanges.
SWAPPER = """\
import ctypes, os, sys, time
a, b, stop, out = (p.encode() for p in sys.argv[1:5])
limit, seconds = int(sys.argv[5]), float(sys.argv[6])
renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
deadline = time.monotonic() + seconds
n = 0
while n < limit:
    if renameat2(-100, a, -100, b, 2) != 0:
        sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
    n += 1
    if n % 4096 == 0 and (os.path.exists(stop) or time.monotonic() > deadline):
        break
if n % 2:
    renameat2(-100, a, -100, b, 2)
    n += 1
with open(out, "w") as f:
    f.write(str(n))
"""


@pytest.fixture
def attacker():
    with LocalUser(ATTACKER) as user:
        yield user


@pytest.fixture
def shared_tmp():
    """A directory like /tmp (root's, mode 1777) for one test, outside the root-private test
    directories."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def plant_trap_as(user, path, mark):
    """An entry of `user`'s, with its cksum record, that would leave `mark` behind if it ever ran."""
    script = f"#!/bin/sh\ntouch {mark}\necho '{{\"changed\": false, \"msg\": \"trap ran\"}}'\n"
    user.run("sh", "-c", 'umask 077; printf %s "$1" > "$2" && chmod 700 "$2" && cksum < "$2" > "$2.cksum"',
             "sh", script, path)


def unsafe(path, uid=0):
    """The warning of a task that leaves an unsafe cache for the standard path."""
    return (f"rustaws.creds: Ansible's standard path for sts_session_token: the cache is not safe to use: "
            f"{path} or its parent directory is not owned by uid {uid} or is writable by others")


def warned(proc, message):
    """How many times ansible-playbook warned `message` (warnings are wrapped to the terminal)."""
    return " ".join(proc.stderr.split()).count(f"[WARNING]: {message}")


# --------------------------------------------------------------------------------------------
# 1. The directory checked is the directory used


def test_swapping_directories_above_roots_cache_never_runs_the_swappers_file(play, host, build, attacker, tmp_path):
    """The attacker owns a directory above root's cache and exchanges its real subtree with one
    of their own (holding a trap entry with a matching cksum record) in a tight loop while root
    runs the module from that cache RACE_RUNS times. The trap never runs; every run succeeds,
    from the cache or, when the check saw the attacker's directory, on the standard path."""
    shared = attacker.path("shared")
    attacker.run("mkdir", "-m", "755", shared)
    cache = shared / "real" / "tmp" / "rustaws-creds"
    first = play.run(tasks(1, extra=BECOME), rustaws_creds_cache_dir=str(cache))
    assert recap(first)["changed"] == 1
    assert (count(UPLOAD, first), count(FROM_CACHE, first)) == (1, 1)
    assert (cache / build[1]).stat().st_uid == 0

    mark = tmp_path / "trap-ran"
    fake = shared / "fake" / "tmp" / "rustaws-creds"
    attacker.run("mkdir", "-p", "-m", "755", fake)
    plant_trap_as(attacker, fake / build[1], mark)
    swapper = attacker.path("swap.py")
    swapper.write_text(SWAPPER)
    stop, swaps = attacker.path("stop"), attacker.path("swaps")
    proc = attacker.spawn("/usr/bin/python3", swapper, shared / "real", shared / "fake", stop, swaps,
                          SWAP_LIMIT, SWAP_SECONDS)
    try:
        loop = f"      loop: \"{{{{ range({RACE_RUNS}) | list }}}}\"\n"
        race = play.run(tasks(1, extra=BECOME + loop), rc=None, rustaws_creds_cache_dir=str(cache))
    finally:
        stop.touch()
        proc.wait(60)
    (tmp_path / "race.out").write_text(race.stdout + race.stderr)
    assert proc.returncode == 0
    exchanges = int(swaps.read_text())
    print(f"{RACE_RUNS} runs as root during {exchanges} directory exchanges")

    assert not mark.exists(), "root ran the attacker's file"
    assert race.returncode == 0, race.stdout + race.stderr
    items = ITEM_RESULT.findall(race.stdout)
    assert sorted(int(i) for _s, i in items) == list(range(RACE_RUNS))
    assert {s for s, _i in items} == {"changed"}
    # ansible-playbook shows a warning once; each standard-path run copies two files.
    from_cache, refused = count(FROM_CACHE, race), count(PUT, race) // 2
    print(f"{from_cache} from the cache, {refused} refused (the check saw the attacker's directory)")
    assert STANDARD.findall(race.stdout) == [], "no other reason to leave the cache"
    assert from_cache + refused == RACE_RUNS and count(PUT, race) == 2 * refused
    assert warned(race, unsafe(cache)) == min(refused, 1)
    assert from_cache > 0 and exchanges > 1000, "the race did not happen"
    # The loop leaves the real tree in place: root's cache works as before.
    after = play.run(tasks(2, extra=BECOME), rustaws_creds_cache_dir=str(cache))
    assert (recap(after)["changed"], count(FROM_CACHE, after), count(UPLOAD, after)) == (2, 2, 0)
    assert not mark.exists()


# --------------------------------------------------------------------------------------------
# 2. remote_tmp is expanded on the host as ansible-core expands it


def test_remote_tmp_with_a_variable_is_each_users_own(play, host, build, attacker, shared_tmp):
    """remote_tmp=<shared>/.ansible-${USER}/tmp: the connecting user, root (become) and another
    user (become_user) each get a cache of their own under their own name; no directory is
    named after the unexpanded text, which every user would share."""
    remote_tmp = f"{shared_tmp}/.ansible-${{USER}}/tmp"
    text = (tasks(1) + tasks(1, extra=BECOME).split("tasks:\n", 1)[1]
            + tasks(1, extra=BECOME + f"      become_user: {ATTACKER}\n").split("tasks:\n", 1)[1])
    proc = play.run(text, ansible_remote_tmp=f"'{remote_tmp}'")
    assert recap(proc)["changed"] == 3
    assert (count(FROM_CACHE, proc), count(UPLOAD, proc)) == (3, 3)
    assert sorted(p.name for p in shared_tmp.iterdir()) == sorted(
        f".ansible-{u}" for u in (host.user, "root", ATTACKER))
    for user, uid in ((host.user, host.uid), ("root", 0), (ATTACKER, attacker.uid)):
        cache = shared_tmp / f".ansible-{user}" / "tmp" / "rustaws-creds"
        assert sorted(p.name for p in cache.iterdir()) == [build[1], build[1] + ".cksum"]
        for path in (cache.parent.parent, cache.parent, cache, cache / build[1]):
            st = path.stat()
            assert (st.st_uid, st.st_mode & 0o777) == (uid, 0o700), path


def test_a_users_directory_under_anothers_name_is_refused(play, host, build, attacker, shared_tmp, tmp_path):
    """Another user who pre-creates the connecting user's expanded directory gets nothing run:
    the cache is refused with the warning, and ansible-core's standard path then fails as it
    does in a directory it cannot write."""
    remote_tmp = f"{shared_tmp}/.ansible-${{USER}}/tmp"
    mark = tmp_path / "trap-ran"
    planted = shared_tmp / f".ansible-{host.user}" / "tmp" / "rustaws-creds"
    attacker.run("mkdir", "-p", "-m", "755", planted)
    plant_trap_as(attacker, planted / build[1], mark)
    proc = play.run(tasks(1), rc=4, ansible_remote_tmp=f"'{remote_tmp}'")
    assert recap(proc)["unreachable"] == 1 and "Failed to create temporary directory" in proc.stdout
    assert not mark.exists()
    assert warned(proc, unsafe(planted, host.uid)) == 1


# --------------------------------------------------------------------------------------------
# 3. Only what the plugin made is removed


def test_a_users_own_directory_as_the_cache_keeps_its_files(play, host, build):
    """rustaws_creds_cache_dir names a directory already in use: installing removes another
    version's entry and records and a dead install's temporary, and nothing else."""
    directory = host.path("reports")
    directory.mkdir(mode=0o700)
    other = "0123456789abcdef" * 4
    keep = {"report.txt": "quarterly\n", "notes.md": "# notes\n", ".hidden": "x\n",
            other + ".txt": "not ours\n", other.upper(): "not ours either\n", "ab" * 31: "62 digits\n"}
    gone = [other, other + ".cksum", other + ".cannot-run", f".{other}.999999999", f".{other}.999999999.cksum"]
    for name, text in keep.items():
        (directory / name).write_text(text)
    for name in gone:
        (directory / name).write_text("old\n")
    for path in directory.iterdir():
        shutil.chown(path, host.user)
    shutil.chown(directory, host.user)

    proc = play.run(tasks(2), rustaws_creds_cache_dir=str(directory))
    assert recap(proc)["changed"] == 2
    assert (count(UPLOAD, proc), count(FROM_CACHE, proc)) == (1, 2)
    assert sorted(p.name for p in directory.iterdir()) == sorted([*keep, build[1], build[1] + ".cksum"])
    for name, text in keep.items():
        assert (directory / name).read_text() == text, name


# --------------------------------------------------------------------------------------------
# 4. The task's environment never reaches a command line

ENV_KEY = "AKIAENVONLYEXAMPLE42"
ENV_SECRET = "envOnlySecret/K7MDENG/bPxRfiCYzzEXAMPLEKEY"
ENV_REGION = "eu-north-1"


def env_task(hosts="remote", extra=""):
    """The same task twice: without an environment, which fails (the test environment has neither
    credentials nor endpoint), then with them only in its `environment:`; then the checks."""
    return (f"- hosts: {hosts}\n  gather_facts: false\n  tasks:\n"
            "    - rustaws.creds.sts_session_token: {}\n"
            "      register: without\n"
            "      ignore_errors: true\n"
            "    - rustaws.creds.sts_session_token: {}\n"
            "      register: r\n"
            "      environment:\n        AWS_URL: \"{{ lookup('env', 'MOTO_URL') }}\"\n"
            f"        AWS_ACCESS_KEY_ID: {ENV_KEY}\n"
            f"        AWS_SECRET_ACCESS_KEY: {ENV_SECRET}\n        AWS_REGION: {ENV_REGION}\n{extra}"
            "    - ansible.builtin.assert:\n"
            "        that:\n"
            "          - r is changed\n"
            "          - r.sts_creds.session_token | length > 0\n"
            "          - without is failed\n")


def assert_no_environment_on_a_command_line(proc):
    lines = EXEC_LINE.findall(proc.stdout + proc.stderr)
    assert any("AnsiballZ_sts_session_token" in line for line in lines), "the module's command is not shown"
    for line in lines:
        for value in (ENV_KEY, ENV_SECRET, ENV_REGION, "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
            assert value not in line


@pytest.mark.parametrize("why", ["the setting", "async", "async on the controller"])
def test_the_standard_path_takes_the_environment_off_the_command_line(play, host, why):
    extra = "      async: 60\n      poll: 1\n" if why.startswith("async") else ""
    hosts = "localhost" if why.endswith("controller") else "remote"
    proc = play.run(env_task(hosts, extra), rustaws_creds_delivery="standard" if why == "the setting" else "cached")
    assert [recap(proc, hosts)[k] for k in ("changed", "failed", "ignored")] == [1, 0, 1]
    if why == "the setting":
        assert STANDARD.findall(proc.stdout) == ["rustaws_creds_delivery is 'standard'"] * 2
    else:
        assert STANDARD.findall(proc.stdout) == ["async tasks need Ansible's async wrapper"]
    assert_no_environment_on_a_command_line(proc)
    assert ENV_SECRET not in proc.stdout + proc.stderr


def test_a_fallback_another_user_forces_keeps_the_environment_off_the_command_line(play, host, attacker, shared_tmp):
    """The attacker pre-creates the shared cache directory: the task leaves the cache, and its
    environment still appears on no command line the attacker could read in /proc."""
    cache = shared_tmp / "rustaws-creds"
    attacker.run("mkdir", "-m", "755", cache)
    proc = play.run(env_task(), rustaws_creds_cache_dir=str(cache))
    assert [recap(proc)[k] for k in ("changed", "failed", "ignored")] == [1, 0, 1]
    assert warned(proc, unsafe(cache, host.uid)) == 1
    assert_no_environment_on_a_command_line(proc)
    assert sorted(os.listdir(cache)) == []


def test_the_cache_still_takes_the_environment_on_standard_input(play, host):
    proc = play.run(env_task())
    assert [recap(proc)[k] for k in ("changed", "failed", "ignored")] == [1, 0, 1]
    assert count(FROM_CACHE, proc) == 2
    assert ENV_SECRET not in proc.stdout + proc.stderr
