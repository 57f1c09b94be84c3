"""sts_assume_roles: many roles in one task. Against the recording role STS stand-in (what is
sent, signed with which key) and moto (the credentials authenticate as their role)."""

import boto3
import pytest
from fake_role_sts import RoleSTS

SOURCE = {"access_key": "AKIAFANOUTSOURCE0001", "secret_key": "fanOutSourceSecretKey000000000000000001"}
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def role(i, account="123456789012"):
    return {"name": f"app-{i:03d}", "role_arn": f"arn:aws:iam::{account}:role/app-{i:03d}"}


class ThrottlingSTS(RoleSTS):
    """Throttles every third AssumeRole request."""

    def answer(self, r):
        if r.action == "AssumeRole":
            with self.lock:
                self.seen = getattr(self, "seen", 0) + 1
                throttle = self.seen % 3 == 0
            if throttle:
                return self.xml_error(400, "Throttling", "Rate exceeded")
        return super().answer(r)


@pytest.fixture
def fan_out(run_named_module, role_sts):
    def go(env=None, url=None, **options):
        args = {**SOURCE, "endpoint_url": url or role_sts.url, "role_session_name": "fan-out", **options}
        return run_named_module("sts_assume_roles", args, env=env).result

    return go


def test_a_hundred_roles_against_moto_authenticate_as_their_roles(fan_out, moto):
    r = fan_out(url=moto.url, roles=[role(i) for i in range(100)])
    assert r["changed"] is True and r["failed_roles"] == {}, r.get("msg")
    assert list(r["roles"]) == [f"app-{i:03d}" for i in range(100)]
    for i in (0, 57, 99):
        creds = r["roles"][f"app-{i:03d}"]["sts_creds"]
        sts = boto3.client("sts", endpoint_url=moto.url, region_name="us-east-1",
                           aws_access_key_id=creds["access_key"], aws_secret_access_key=creds["secret_key"],
                           aws_session_token=creds["session_token"])
        assert sts.get_caller_identity()["Arn"].endswith(f":assumed-role/app-{i:03d}/fan-out")
    one = r["roles"]["app-000"]
    assert set(one) >= {"sts_creds", "sts_user", "env", "expires_in"}
    assert one["env"]["AWS_ACCESS_KEY_ID"] == one["sts_creds"]["access_key"]


def test_one_mfa_code_serves_every_role(fan_out, role_sts):
    r = fan_out(roles=[role(i) for i in range(10)], mfa_serial_number=SERIAL, mfa_token="123456")
    assert r["changed"] is True, r
    with_code = [q for q in role_sts.requests if "TokenCode" in q.form]
    assert [q.action for q in with_code] == ["GetSessionToken"] and with_code[0].form["TokenCode"] == "123456"
    session_key = role_sts.requests[0].access_key
    assert role_sts.requests[0].action == "GetSessionToken" and session_key == SOURCE["access_key"]
    issued = [k for k, (arn, _) in role_sts.issued.items() if arn is None]
    assumes = [q for q in role_sts.requests if q.action == "AssumeRole"]
    assert len(assumes) == 10 and {q.access_key for q in assumes} <= set(issued)
    assert len({q.access_key for q in assumes}) == 1, "every AssumeRole is signed with the one session"


def test_a_third_of_the_calls_throttled_still_gives_every_role(fan_out):
    with ThrottlingSTS() as sts:
        r = fan_out(url=sts.url, roles=[role(i) for i in range(30)])
        assert r["changed"] is True and len(r["roles"]) == 30, r.get("msg")
        throttled = sum(1 for q in sts.requests if q.action == "AssumeRole") - 30
        assert throttled >= 10


def test_a_refused_role_is_reported_and_the_others_returned(fan_out, role_sts):
    roles = [role(i) for i in range(5)] + [{"name": "denied", "role_arn": "arn:aws:iam::123456789012:role/error-AccessDenied"}]
    r = fan_out(roles=roles)
    assert r["failed"] is True, r
    assert r["msg"].startswith("1 of 6 roles failed (denied)")
    assert "AccessDenied" in r["failed_roles"]["denied"]
    assert sorted(r["roles"]) == [f"app-{i:03d}" for i in range(5)]


def test_a_chain_signs_each_hop_with_the_one_before(fan_out, role_sts):
    r = fan_out(chain=True, roles=[role(i) for i in range(4)])
    assert r["changed"] is True, r
    assumes = [q for q in role_sts.requests if q.action == "AssumeRole"]
    assert [q.form["RoleArn"].rsplit("/", 1)[-1] for q in assumes] == ["app-000", "app-001", "app-002", "app-003"]
    assert assumes[0].access_key == SOURCE["access_key"]
    for i in range(1, 4):
        assert assumes[i].access_key == r["roles"][f"app-{i - 1:03d}"]["sts_creds"]["access_key"]


def test_a_chain_longer_than_an_hour_fails_before_any_call(fan_out, role_sts):
    r = fan_out(chain=True, roles=[role(0), {**role(1), "duration_seconds": 7200}])
    assert r["failed"] and role_sts.requests == [], r
    assert r["msg"].startswith("app-001: duration_seconds is 7200, but a role assumed with temporary credentials")
    r = fan_out(roles=[role(0)], duration_seconds=7200, mfa_serial_number=SERIAL, mfa_token="123456")
    assert r["failed"] and "(the MFA session (GetSessionToken))" in r["msg"] and role_sts.requests == []
    r = fan_out(roles=[role(0)], duration_seconds=7200)
    assert r["changed"] is True, "without MFA or a chain, 7200 s is the role's business"


def test_bad_values_in_entry_57_fail_before_any_call(fan_out, role_sts):
    roles = [role(i) for i in range(100)]
    roles[57]["policy"] = "not json"
    r = fan_out(roles=roles)
    assert r["failed"] and role_sts.requests == [], r
    assert "roles[57] (app-057).policy: The policy is not in the valid JSON format." in r["msg"], r["msg"]
    roles[57] = {**role(57), "role_session_name": "x"}
    r = fan_out(roles=roles)
    assert r["msg"].startswith("roles[57] (app-057).role_session_name must be 2 to 64 characters"), r["msg"]


def test_profiles_of_the_config_file_are_entries(fan_out, role_sts, aws_config_file):
    env = aws_config_file(
        "[profile dev]\nrole_arn = arn:aws:iam::111111111111:role/dev\nexternal_id = ext-dev\n"
        "[profile prod]\nrole_arn = arn:aws:iam::222222222222:role/prod\nrole_session_name = prod-session\n")
    r = fan_out(env=env, profiles=["dev", "prod"], roles=[role(1)])
    assert r["changed"] is True and list(r["roles"]) == ["app-001", "dev", "prod"], r
    sent = {q.form["RoleArn"].rsplit("/", 1)[-1]: q.form for q in role_sts.requests if q.action == "AssumeRole"}
    assert sent["dev"]["ExternalId"] == "ext-dev" and sent["prod"]["RoleSessionName"] == "prod-session"


def test_entries_keep_their_credentials_in_their_own_profiles(fan_out, role_sts, creds_file):
    roles = [{**role(i), "output_profile": f"acct-{i}"} for i in range(3)]
    common = {"credentials_file": str(creds_file), "mfa_serial_number": SERIAL}
    first = fan_out(roles=roles, mfa_token="123456", **common)
    assert first["changed"] is True, first
    assert first["roles"]["app-000"]["refresh_reason"] == "the profile does not exist yet"
    role_sts.clear()
    again = fan_out(roles=roles, **common)
    assert again["changed"] is False and role_sts.requests == [], again
    assert {n: r["sts_creds"] for n, r in again["roles"].items()} == \
        {n: r["sts_creds"] for n, r in first["roles"].items()}
    assert again["roles"]["app-001"]["refresh_reason"] is None
    needed = fan_out(roles=roles, force_refresh=True, **common)
    assert needed["failed"] and role_sts.requests == [], needed
    assert needed["msg"].startswith("New credentials are needed for app-000, app-001, app-002")
    mixed = fan_out(roles=roles + [role(9)], mfa_token="123456", **common)
    assert mixed["changed"] is True and "refresh_reason" not in mixed["roles"]["app-009"], mixed
    assert [q.form["RoleArn"].rsplit("/", 1)[-1] for q in role_sts.requests if q.action == "AssumeRole"] == ["app-009"]
    r = fan_out(roles=roles, chain=True, **common)
    assert r["failed"] and r["msg"].startswith("output_profile in entries does not go with chain")


def test_an_entry_whose_profile_write_fails_keeps_its_credentials_in_a_file_not_the_result(fan_out, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the directory should be\n")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    target = blocked / "credentials"
    r = fan_out(roles=[{**role(0), "output_profile": "acct-0"}, role(1)], credentials_file=str(target),
                env={"HOME": str(home)})
    (saved,) = [p for p in (home / ".rustaws-creds/unsaved").iterdir() if p.suffix != ".lock"]
    assert saved.name.startswith("acct-0-"), saved
    assert r["failed"] and list(r["roles"]) == ["app-001"], r
    assert r["failed_roles"] == {"app-000": (
        "got new credentials, but could not keep them: Got new credentials from AssumeRole but could not "
        f"write them to profile [acct-0] of {target}: cannot inspect {target}: not a directory. They were "
        f"saved to {saved} instead (mode 0600, that one profile); they are not in this result.")}
    assert r["msg"] == ("1 of 2 roles failed (app-000); failed_roles has each message, roles the credentials "
                        "of the others")
