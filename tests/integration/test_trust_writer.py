"""The credentials writer against another, unprivileged user of the same machine (LocalUser,
created and removed by the tests; they need root, as the modules' become does).

Each attack of the "Trust" issue is run for real, and each must fail, with its whole message,
before any call that mints credentials or keys, leaving the planted things as they were; the
legitimate use next to it still works:

- special files: credentials_file a link to /dev/null (or /dev/null itself), a FIFO, a link to
  /dev/zero: refused at once, /dev/null still a character device; a regular file is written;
- another user's symbolic links: a link planted in their home to a root file, a dangling lock
  link: not followed, nothing created where they point; root's own link there is followed;
- who owns the result: a file the other user made in a sticky shared directory is refused (STS
  and a key rotation alike); the user's own ~/.aws/credentials written by root stays theirs;
- a lock the other user holds forever: the task gives up after the lock timeout (10 s), before
  the STS call or the key's creation; once released, the same task works;
- --diff of a replaced profile hides every credential-bearing key.
"""

import os
import pathlib
import shutil
import stat
import subprocess
import tempfile

import pytest
from fake_role_sts import RoleSTS
from local_user import LocalUser

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (useradd, as become does)")

SOURCE = {"access_key": "AKIATRUSTSOURCE00001", "secret_key": "trustSourceSecretKey0000000000000000001"}
NOT_REGULAR = ("is {kind}, not a regular file: refusing to read or replace it (only a regular file, or none "
               "yet, can hold credentials)")
EVIL = "rustawswriter"
USER = "alice"


@pytest.fixture(scope="module")
def evil():
    with LocalUser(EVIL) as user:
        yield user


@pytest.fixture
def home(evil, request):
    """A fresh ~/.aws-like directory of the other user (theirs, mode 0700), removed afterwards."""
    path = evil.path(f"aws-{request.node.name[:40]}")
    evil.run("mkdir", "-m", "700", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def shared():
    """A shared directory like /tmp: root's, sticky, anyone can write."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="rustaws-shared-"))
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def sts_server():
    with RoleSTS() as server:
        yield server


@pytest.fixture
def sts(sts_server):
    sts_server.clear()
    return sts_server


@pytest.fixture
def session(run_named_module, sts):
    """session(credentials_file, **options) -> sts_session_token's result with output_profile out."""

    def go(credentials_file, **options):
        args = {**SOURCE, "endpoint_url": sts.url, "output_profile": "out",
                "credentials_file": str(credentials_file), **options}
        diff = args.pop("diff", False)
        check_mode = args.pop("check_mode", False)
        return run_named_module("sts_session_token", args, diff=diff, check_mode=check_mode).result

    return go


@pytest.fixture
def rotate(run_named_module, iam):
    """rotate(credentials_file) -> iam_access_key rotating alice's old key into profile alice."""

    def go(credentials_file):
        (old,) = iam.add_user(USER, keys=1)
        iam.age(USER, old.access_key_id, 100)
        args = {**SOURCE, "endpoint_url": iam.url, "user_name": USER, "rotate_keys": True, "max_age_days": 90,
                "verify": True, "retire": "deactivate", "output_profile": "alice",
                "credentials_file": str(credentials_file)}
        return run_named_module("iam_access_key", args).result

    return go


def who(evil):
    return f"user {EVIL} (uid {evil.uid})"


def refused(result, msg):
    assert result.get("failed") is True, result
    assert result["msg"] == msg
    return result


def owner(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


# --------------------------------------------------------------------------------------------
# 5. Special files


def test_a_link_to_dev_null_is_refused_and_dev_null_stays_a_device(session, sts, tmp_path):
    link = tmp_path / "credentials"
    link.symlink_to("/dev/null")
    kind = NOT_REGULAR.format(kind="a character device")
    refused(session(link), f"output_profile out: {link} leads to /dev/null, which {kind}")
    refused(session("/dev/null"), f"output_profile out: /dev/null {kind}")
    assert sts.actions() == []
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode) and os.readlink(link) == "/dev/null"
    # The regular file next to it is written.
    regular = tmp_path / "regular"
    assert session(regular)["changed"] is True and stat.S_ISREG(os.lstat(regular).st_mode)


def test_a_fifo_or_a_link_to_dev_zero_fails_at_once(session, sts, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(session(fifo), f"output_profile out: {fifo} " + NOT_REGULAR.format(kind="a named pipe (FIFO)"))
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    refused(session(zero), f"output_profile out: {zero} leads to /dev/zero, which "
            + NOT_REGULAR.format(kind="a character device"))
    assert sts.actions() == [] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_rotation_into_a_link_to_dev_null_creates_no_key(rotate, iam, tmp_path):
    link = tmp_path / "credentials"
    link.symlink_to("/dev/null")
    refused(rotate(link), f"output_profile alice: {link} leads to /dev/null, which "
            + NOT_REGULAR.format(kind="a character device"))
    assert iam.actions() == ["ListAccessKeys"]


# --------------------------------------------------------------------------------------------
# 6. Another user's symbolic links


def untrusted(link, evil):
    return (f"refusing to follow the symbolic link {link}: it belongs to {who(evil)}, not to you or root, and "
            f"{link.parent} is not a directory only you or root can write, so the link may have been planted to "
            "redirect this file. Give the path it points to instead, if that file is meant")


def test_a_link_the_user_planted_in_their_home_is_not_followed(session, sts, evil, home, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("[keep]\nk = v\n")
    os.chmod(victim, 0o644)
    link = home / "credentials"
    evil.run("ln", "-s", victim, link)
    refused(session(link), f"output_profile out: {untrusted(link, evil)}")
    assert sts.actions() == []
    assert victim.read_text() == "[keep]\nk = v\n" and owner(victim) == (0, 0, 0o644)
    # Root's own link in the same place is followed.
    os.remove(link)
    link.symlink_to(victim)
    assert session(link)["changed"] is True
    assert victim.read_text().startswith("[keep]\nk = v\n[out]\n") and owner(victim) == (0, 0, 0o600)


def test_a_dangling_lock_link_creates_nothing(session, sts, evil, home, tmp_path):
    target = tmp_path / "nologin"
    creds = home / "credentials"
    evil.run("sh", "-c", f"printf '[mine]\\nk = v\\n' > {creds}; ln -s {target} {creds}.lock")
    msg = f"output_profile out: the lock file {creds}.lock is a symbolic link, not a regular file: refusing to use it; " \
        "remove it"
    refused(session(creds), msg)
    refused(session(creds, check_mode=True), msg)
    assert sts.actions() == [] and not target.exists() and not os.path.lexists(target)
    assert creds.read_text() == "[mine]\nk = v\n"
    # Without the planted link, the user's file is written.
    os.remove(f"{creds}.lock")
    assert session(creds)["changed"] is True


def test_a_rotation_through_a_planted_link_creates_no_key(rotate, iam, evil, home, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("[keep]\nk = v\n")
    link = home / "credentials"
    evil.run("ln", "-s", victim, link)
    refused(rotate(link), f"output_profile alice: {untrusted(link, evil)}")
    assert iam.actions() == ["ListAccessKeys"] and victim.read_text() == "[keep]\nk = v\n"


# --------------------------------------------------------------------------------------------
# 7. Who owns the result


def planted(path, evil, shared):
    return (f"{path} belongs to {who(evil)}, who does not own {shared} alone: the file may have been planted "
            "there, and writing credentials into it would hand them to that user. Refusing; remove the file, or "
            "choose a file in a directory that only its owner can write")


def test_a_file_the_user_made_in_a_shared_directory_gets_no_credentials(session, sts, evil, shared):
    creds = shared / "credentials"
    evil.run("sh", "-c", f"umask 077; printf '[mine]\\nk = v\\n' > {creds}")
    refused(session(creds), f"output_profile out: {planted(creds, evil, shared)}")
    assert sts.actions() == []
    assert creds.read_text() == "[mine]\nk = v\n" and owner(creds) == (evil.uid, evil.gid, 0o600)
    assert sorted(p.name for p in shared.iterdir()) == ["credentials"]
    # Root's own file in the same directory is written, and stays root's.
    ours = shared / "ours"
    assert session(ours)["changed"] is True and owner(ours) == (0, 0, 0o600)


def test_a_rotation_into_the_users_file_in_a_shared_directory_creates_no_key(rotate, iam, evil, shared):
    creds = shared / "credentials"
    evil.run("touch", creds)
    refused(rotate(creds), f"output_profile alice: {planted(creds, evil, shared)}")
    assert iam.actions() == ["ListAccessKeys"] and creds.read_bytes() == b""


def test_root_writing_a_users_own_file_keeps_them_the_owner(session, rotate, evil, home):
    creds = home / "credentials"
    evil.run("sh", "-c", f"umask 022; printf '[mine]\\nk = v\\n' > {creds}")
    r = session(creds)
    assert r["changed"] is True, r
    assert owner(creds) == (evil.uid, evil.gid, 0o600)
    # The user reads what root wrote for them.
    shown = evil.run("cat", creds).stdout
    assert shown.startswith("[mine]\nk = v\n[out]\n") and r["sts_creds"]["access_key"] in shown
    # A rotation's long-term key too.
    r = rotate(creds)
    assert r["changed"] is True, r
    assert owner(creds) == (evil.uid, evil.gid, 0o600)
    assert r["access_key_id"] in evil.run("cat", creds).stdout


# --------------------------------------------------------------------------------------------
# 10. A lock held forever


def hold_lock(evil, lock):
    """The other user holds `lock` (flock) until killed; returns once it is held."""
    proc = evil.spawn("flock", "-o", lock, "sleep", "600")
    for _ in range(600):
        busy = subprocess.run(["flock", "-n", "-E", "75", lock, "true"], capture_output=True, timeout=30)
        if busy.returncode == 75:
            return proc
        assert proc.poll() is None, "flock exited"
        subprocess.run(["sleep", "0.05"], timeout=30)
    raise AssertionError("the lock was never taken")


def busy(lock):
    return (f"the lock file {lock} stayed locked by another process for 10 s: giving up. Retry later, or find the "
            f"process holding it (fuser {lock})")


def test_a_lock_held_forever_fails_the_task_before_the_call(session, sts, evil, shared):
    creds = shared / "credentials"
    lock = shared / "credentials.lock"
    evil.run("touch", lock)
    holder = hold_lock(evil, lock)
    refused(session(creds), f"output_profile out: {busy(lock)}")
    assert sts.actions() == [] and not creds.exists()
    holder.kill()
    holder.wait(30)
    assert session(creds)["changed"] is True and owner(creds) == (0, 0, 0o600)


def test_a_lock_held_forever_fails_a_rotation_before_the_create(rotate, iam, evil, shared):
    lock = shared / "credentials.lock"
    evil.run("touch", lock)
    holder = hold_lock(evil, lock)
    refused(rotate(shared / "credentials"), f"output_profile alice: {busy(lock)}")
    assert iam.actions() == ["ListAccessKeys"]
    holder.kill()
    holder.wait(30)


# --------------------------------------------------------------------------------------------
# 9. --diff of a replaced profile


def test_diff_hides_every_credential_bearing_key(session, tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text("[out]\n"
                     "aws_access_key_id = AKIAHANDWRITTEN00001\n"
                     "aws_secret_access_key = handSecretKeyNeverShown00000000000000001\n"
                     "aws_security_token = LegacySecurityTokenNeverShown0001\n"
                     "aws_session_token = SessionTokenNeverShown0001\n"
                     "credential_process = /usr/local/bin/get-creds --secret ProcessSecretNeverShown\n"
                     "region = eu-west-1\n")
    before = ("aws_access_key_id = AKIAHANDWRITTEN00001\n"
              "aws_secret_access_key = <hidden>\n"
              "aws_session_token = <hidden>\n"
              "aws_security_token = <hidden>\n"
              "credential_process = <hidden>\n"
              "region = eu-west-1\n")
    probe = session(creds, overwrite_unmanaged_profile=True, diff=True, check_mode=True)
    assert probe["diff"]["before"] == before, probe["diff"]
    r = session(creds, overwrite_unmanaged_profile=True, diff=True)
    assert r["diff"]["before"] == before
    text = str(probe["diff"]) + str(r["diff"])
    for secret in ("handSecretKey", "LegacySecurityToken", "SessionTokenNeverShown", "ProcessSecret",
                   "get-creds"):
        assert secret not in text
