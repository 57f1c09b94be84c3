"""iam_access_key (issue 3): create, rotate, enable, disable and delete a user's access keys as
amazon.aws.iam_access_key does, with the differences the README lists.

Where it is shown:
- the upstream scenario list (peer-modules.md §13.1) as a playbook
  (playbooks/iam_access_key_scenarios.yml) against a moto server of this file's own that
  authenticates requests like AWS, so that the keys kept, rotated out and disabled can be tried;
- ad hoc `ansible -m rustaws.creds.iam_access_key` with string arguments, against the shared moto;
- bad input and AWS's refusals against moto, and what moto cannot show (which calls a run makes,
  retried attempts, a failure between two calls) against the recording fake IAM of
  tests/support/fake_iam.py;
- no_log: ansible-playbook at -vvv against the fake IAM, whose issued secrets are all known.
"""

import json
import re
import subprocess
import urllib.request

import pytest
from fake_iam import FakeIAM
from moto_server import MotoServer

from conftest import (
    HOST_LINE, PLACEHOLDER, TEST_ACCESS_KEY, TEST_SECRET_KEY, _boto3_client, _merge_env, _no_aws_environment,
    assert_network_safe,
)

MODULE = "iam_access_key"
FQCN = f"rustaws.creds.{MODULE}"
KEYS = {"access_key": TEST_ACCESS_KEY, "secret_key": TEST_SECRET_KEY}
ACCOUNT = "123456789012"
KEY_ID = re.compile(r"^AKIA[A-Z0-9]{16}$")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def without_invocation(result):
    return {k: v for k, v in result.items() if k != "invocation"}


# --------------------------------------------------------------------------------------------
# Servers


class AdminMoto:
    """moto enforcing IAM authentication, with an admin user allowed every IAM action."""

    def __init__(self, url, admin):
        self.url = url
        self.admin = admin  # {"access_key": ..., "secret_key": ...}

    def iam(self):
        import boto3

        assert self.url.startswith("http://127.0.0.1:")
        return boto3.session.Session(
            aws_access_key_id=self.admin["access_key"], aws_secret_access_key=self.admin["secret_key"],
            region_name="us-east-1",
        ).client("iam", endpoint_url=self.url)


def allow(*actions, resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource}]})


@pytest.fixture(scope="module")
def iam_moto():
    with MotoServer() as url:
        with _no_aws_environment():
            iam = _boto3_client("iam", url)
            iam.create_user(UserName="iam-admin")
            iam.put_user_policy(UserName="iam-admin", PolicyName="iam", PolicyDocument=allow("iam:*"))
            admin = iam.create_access_key(UserName="iam-admin")["AccessKey"]
        req = urllib.request.Request(f"{url}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()
        yield AdminMoto(url, {"access_key": admin["AccessKeyId"], "secret_key": admin["SecretAccessKey"]})


@pytest.fixture(scope="module")
def fake_iam_server():
    with FakeIAM() as server:
        yield server


@pytest.fixture
def fake_iam(fake_iam_server, known_secret):
    """The recording fake IAM, empty; every secret it issued during the test is registered with
    the session's secret scan afterwards."""
    fake_iam_server.reset()
    yield fake_iam_server
    for secret in fake_iam_server.issued_secrets:
        known_secret(secret, "fake IAM: issued secret")


@pytest.fixture
def moto_user(moto):
    """new(name, keys=0): a user on the shared moto (no authentication); returns its key ids,
    oldest first. Users are deleted afterwards."""
    made = []

    def new(name, keys=0):
        with _no_aws_environment():
            iam = _boto3_client("iam", moto.url)
            iam.create_user(UserName=name)
            made.append(name)
            return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(keys)]

    yield new
    with _no_aws_environment():
        iam = _boto3_client("iam", moto.url)
        for name in made:
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName=name)


def moto_keys(url, name):
    """(id, status) of the user's keys on the shared moto, oldest first."""
    with _no_aws_environment():
        metadata = _boto3_client("iam", url).list_access_keys(UserName=name)["AccessKeyMetadata"]
    return [(k["AccessKeyId"], k["Status"]) for k in sorted(metadata, key=lambda k: k["CreateDate"])]


# --------------------------------------------------------------------------------------------
# The upstream scenarios (§13.1)


def test_upstream_scenarios(playbook, iam_moto):
    """Every step of the upstream target, check mode first for each change; step 1 (create the
    user) and the user's deletion are done here, the rest in the playbook's assert tasks."""
    iam = iam_moto.iam()
    with _no_aws_environment():
        iam.create_user(UserName="scenario-user")
    try:
        proc = playbook("iam_access_key_scenarios.yml", args=["-v"], env={
            "IAM_MOTO_URL": iam_moto.url, "IAM_TEST_USER": "scenario-user",
            "AWS_ACCESS_KEY_ID": iam_moto.admin["access_key"],
            "AWS_SECRET_ACCESS_KEY": iam_moto.admin["secret_key"],
        })
        # Every task ran: none skipped, the one refused create and the two refused calls ignored.
        assert re.search(r"^localhost\s+: ok=83\s+changed=19\s+unreachable=0\s+failed=0\s+skipped=0\s+"
                         r"rescued=0\s+ignored=3", proc.stdout, re.M), proc.stdout
        with _no_aws_environment():
            assert iam.list_access_keys(UserName="scenario-user")["AccessKeyMetadata"] == []
    finally:
        with _no_aws_environment():
            for key in iam.list_access_keys(UserName="scenario-user")["AccessKeyMetadata"]:
                iam.delete_access_key(UserName="scenario-user", AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName="scenario-user")
