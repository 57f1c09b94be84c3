"""Key rotation as one task: iam_access_key with rotate_keys and max_age_days, verify, retire and
output_profile creates a key only when the newest Active key is old, checks it with STS, writes
it into a profile, and only then retires the other keys; a later run finishes what a stopped run
began. Against a recording IAM stand-in that also answers STS GetCallerIdentity (refusing a new
key's first calls, as IAM's eventual consistency does), and against moto.
"""

import configparser
import pathlib
import re
import stat

import pytest

SOURCE = {"access_key": "AKIAROTATIONSOURCE01", "secret_key": "rotationSourceSecretKey00000000000000001"}
USER = "alice"
WRITES = ("CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey")


@pytest.fixture
def rotate(run_named_module, iam, creds_file):
    """rotate(**options) -> result of iam_access_key with the rotation options (signed with a key
    that is not the user's), the profile `alice` of creds_file."""

    def go(env=None, check_mode=False, executable=None, **options):
        args = {**SOURCE, "endpoint_url": iam.url, "user_name": USER, "rotate_keys": True, "max_age_days": 90,
                "verify": True, "retire": "deactivate", "output_profile": "alice",
                "credentials_file": str(creds_file), **options}
        args = {k: v for k, v in args.items() if v is not None}
        return run_named_module("iam_access_key", args, env=env, check_mode=check_mode, executable=executable).result

    return go


def profile(path, name="alice"):
    parser = configparser.RawConfigParser()
    parser.read_string(pathlib.Path(path).read_text())
    return dict(parser[name]) if parser.has_section(name) else None


def statuses(iam):
    return {k["access_key_id"]: k["status"] for k in iam.keys(USER)}


def test_a_young_key_means_one_listing_and_nothing_else(rotate, iam):
    (young,) = iam.add_user(USER, keys=1)
    r = rotate(output_profile=None, credentials_file=None)
    assert r["changed"] is False, r
    assert r["access_key"]["access_key_id"] == young.access_key_id
    assert iam.actions() == ["ListAccessKeys"]


def test_an_old_key_is_replaced_verified_written_and_retired_in_that_order(rotate, iam, creds_file):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    iam.refusals = 2
    r = rotate()
    assert r["changed"] is True and r["verified"] is True, r
    new = r["access_key_id"]
    assert r["secret_access_key"] == iam.secret_of(new)
    assert r["retired_access_key_ids"] == [old.access_key_id]
    assert iam.actions() == ["ListAccessKeys", "CreateAccessKey", "GetCallerIdentity", "GetCallerIdentity",
                             "GetCallerIdentity", "UpdateAccessKey"]
    assert [r.access_key for r in iam.requests if r.action == "GetCallerIdentity"] == [new] * 3
    assert statuses(iam) == {old.access_key_id: "Inactive", new: "Active"}
    stored = profile(creds_file)
    assert (stored["aws_access_key_id"], stored["aws_secret_access_key"]) == (new, r["secret_access_key"])
    assert "aws_session_token" not in stored and stored["x_rustaws_creds_managed"] == "true"
    iam.clear()
    again = rotate()
    assert again["changed"] is False and iam.actions() == ["ListAccessKeys"]
    assert again["access_key"]["access_key_id"] == new


def test_a_key_never_accepted_is_deleted_and_the_old_one_left(rotate, iam, creds_file):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    iam.refusals = 1000
    r = rotate(verify_timeout=2)
    assert r["failed"], r
    new = r["access_key_id"]
    assert r["msg"].startswith(f"Created access key {new} for user {USER}, but STS did not accept it within 2 s"
                               " (it last answered InvalidClientTokenId); it was deleted, and every other key"
                               " was left as it was."), r["msg"]
    assert statuses(iam) == {old.access_key_id: "Active"}
    assert not creds_file.exists()
    assert "UpdateAccessKey" not in iam.actions()


def test_at_the_limit_the_inactive_key_is_the_one_deleted(rotate, iam):
    active, inactive = iam.add_user(USER, keys=2, statuses=("Active", "Inactive"))
    iam.age(USER, active.access_key_id, 200)
    r = rotate()
    assert r["changed"] is True, r
    assert r["deleted_access_key_id"] == inactive.access_key_id
    assert statuses(iam) == {active.access_key_id: "Inactive", r["access_key_id"]: "Active"}


def test_two_active_keys_at_the_limit_fail_with_no_write_call(rotate, iam):
    a, b = iam.add_user(USER, keys=2)
    iam.age(USER, a.access_key_id, 200)
    iam.age(USER, b.access_key_id, 100)
    r = rotate()
    assert r["failed"] and r["msg"].startswith(f"User {USER} has two active access keys, AWS's limit"), r
    assert "delete_active_to_make_room: true" in r["msg"]
    assert not set(iam.actions()) & set(WRITES)
    r = rotate(delete_active_to_make_room=True)
    assert r["changed"] is True and r["deleted_access_key_id"] == a.access_key_id
    assert statuses(iam) == {b.access_key_id: "Inactive", r["access_key_id"]: "Active"}


def test_a_failing_profile_write_retires_nothing_and_saves_the_secret_unprinted(rotate, iam, tmp_path):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the directory should be\n")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    r = rotate(credentials_file=str(blocked / "credentials"), env={"HOME": str(home)})
    assert r["failed"], r
    new = r["access_key_id"]
    saved = pathlib.Path(r["unsaved_credentials_file"])
    assert saved.parent == home / ".rustaws-creds/unsaved" and saved.name.startswith("alice-"), saved
    assert r["msg"] == (
        f"Created access key {new} for user {USER}, but could not write it to profile [alice] of "
        f"{blocked / 'credentials'}: cannot inspect {blocked / 'credentials'}: not a directory. "
        f"No key was retired; the new key and its secret were saved to {saved} (mode 0600, that one "
        "profile); the secret is not in this result.")
    assert "secret_access_key" not in r and iam.secret_of(new) not in str(r)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    kept = profile(saved)
    assert re.fullmatch("[0-9a-f]{64}", kept.pop("x_rustaws_creds_request")), kept
    assert kept == {"aws_access_key_id": new, "aws_secret_access_key": iam.secret_of(new),
                    "x_rustaws_creds_managed": "true"}
    assert statuses(iam) == {old.access_key_id: "Active", new: "Active"}


def test_a_run_stopped_after_the_write_is_finished_by_the_next(rotate, iam, creds_file, hooked_executable):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    stopped = rotate_raw(rotate, hooked_executable, env={"RUSTAWS_CREDS_TEST_STOP_AT": "DirSynced"})
    assert stopped is None
    written = profile(creds_file)["aws_access_key_id"]
    assert statuses(iam) == {old.access_key_id: "Active", written: "Active"}
    iam.clear()
    r = rotate()
    assert r["changed"] is True and r["retired_access_key_ids"] == [old.access_key_id], r
    assert "CreateAccessKey" not in iam.actions()
    assert r["access_key"]["access_key_id"] == written
    assert statuses(iam) == {old.access_key_id: "Inactive", written: "Active"}


def test_a_run_stopped_before_the_write_has_its_key_replaced(rotate, iam, creds_file, hooked_executable):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    first = rotate()
    delivered = first["access_key_id"]
    iam.age(USER, delivered, 100)
    assert rotate_raw(rotate, hooked_executable, env={"RUSTAWS_CREDS_TEST_STOP_AT": "Read"}) is None
    lost = [k for k in statuses(iam) if k not in (old.access_key_id, delivered)]
    assert len(lost) == 1 and profile(creds_file)["aws_access_key_id"] == delivered
    iam.clear()
    r = rotate()
    assert r["changed"] is True and r["undelivered_access_key_id"] == lost[0], r
    assert iam.actions()[:2] == ["ListAccessKeys", "DeleteAccessKey"]
    assert profile(creds_file)["aws_access_key_id"] == r["access_key_id"]
    assert lost[0] not in statuses(iam) and statuses(iam)[delivered] == "Inactive"


def test_check_mode_sends_only_read_calls(rotate, iam, creds_file):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    r = rotate(check_mode=True)
    assert r["changed"] is True and r["retired_access_key_ids"] == [old.access_key_id], r
    assert iam.actions() == ["ListAccessKeys"] and not creds_file.exists()


def test_a_failed_retirement_still_returns_the_new_key(rotate, iam, creds_file):
    (old,) = iam.add_user(USER, keys=1)
    iam.age(USER, old.access_key_id, 100)
    iam.inject("UpdateAccessKey", (403, "AccessDenied", "not allowed to deactivate"))
    r = rotate()
    assert r["failed"] and "not allowed to deactivate" in r["msg"], r
    assert r["msg"].startswith(f"Created access key {r['access_key_id']} for user {USER} (verified and written as "
                               f"asked), but retiring the other keys failed: Failed to deactivate access key "
                               f"{old.access_key_id} of user {USER}: An error occurred (AccessDenied)"), r["msg"]
    assert r["secret_access_key"] == iam.secret_of(r["access_key_id"])
    assert profile(creds_file)["aws_access_key_id"] == r["access_key_id"]


def test_without_a_profile_no_key_is_retired_for_one_the_run_did_not_create(rotate, iam):
    old, young = iam.add_user(USER, keys=2)
    iam.age(USER, old.access_key_id, 200)
    r = rotate(output_profile=None, credentials_file=None, retire="delete")
    assert r["changed"] is False and r["access_key"]["access_key_id"] == young.access_key_id, r
    assert any("the others were not retired in its favour" in w for w in r["warnings"]), r
    assert iam.actions() == ["ListAccessKeys"]
    assert statuses(iam) == {old.access_key_id: "Active", young.access_key_id: "Active"}


def rotate_raw(rotate, executable, env):
    """A run that the test hook stops (in the hooked debug build): the process aborts, printing
    no result."""
    try:
        rotate(env=env, executable=executable)
    except AssertionError as e:  # the protocol check: no JSON line from a stopped process
        assert "expected one line of JSON" in str(e), e
        return None
    raise AssertionError("the run was expected to stop")


# --------------------------------------------------------------------------------------------
# Against moto


def test_the_whole_task_twice_against_moto_and_the_profile_works(run_named_module, moto, creds_file):
    import boto3

    client = boto3.client("iam", endpoint_url=moto.url, region_name="us-east-1",
                          aws_access_key_id="AKIAMOTOADMIN0000001", aws_secret_access_key="x" * 40)
    client.create_user(UserName="rotated")
    client.create_access_key(UserName="rotated")
    args = {**SOURCE, "endpoint_url": moto.url, "user_name": "rotated", "rotate_keys": True,
            "max_age_days": 0, "retire": "delete", "output_profile": "rotated",
            "credentials_file": str(creds_file)}
    first = run_named_module("iam_access_key", args).result
    assert first["changed"] is True, first
    args["max_age_days"] = 90
    second = run_named_module("iam_access_key", args).result
    assert second["changed"] is False and second["access_key"]["access_key_id"] == first["access_key_id"], second
    me = run_named_module("aws_caller_info", {"profile": "rotated", "endpoint_url": moto.url},
                          env={"AWS_SHARED_CREDENTIALS_FILE": str(creds_file)}).result
    assert me["arn"].endswith(":user/rotated"), me
