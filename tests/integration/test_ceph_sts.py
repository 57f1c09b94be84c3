"""The STS modules against a real, non-AWS STS: Ceph's radosgw (Ceph 16.2 "Pacific", Debian 12),
reached through endpoint_url, and the credentials each module returns used for real S3
requests against the same gateway.

The cluster (tests/support/ceph.py) is a throw-away one on 127.0.0.1, started once for this
module's tests and stopped after the session; scripts/setup-ceph installs the Debian packages
when they are missing (as root). The web-identity tests serve their own OpenID Connect
provider on 127.0.0.1 (discovery document and JWKS), and sign RS256 tokens with `cryptography`.

RGW answers differently from AWS in places, and these tests assert RGW's answers (each one seen
and listed in the README's "Other STS implementations"): errors are S3-shaped `<Error>` bodies
with an empty Message, so the failures are asserted on RGW's code and the HTTP status; the
GetSessionToken default and maximum durations are 3600 and 43200 s; AssumeRole refuses every
six-digit MFA code; a trust policy with an sts:ExternalId condition refuses every caller; the
assumed-role id comes as <AssumeRoleId> (AWS: <AssumedRoleId>).
"""

import base64
import datetime
import hashlib
import json
import re
import subprocess
import time
import uuid

import botocore.exceptions
import ceph
import pytest
from certificates import CertificateAuthority, private_key
from fake_aws import FakeAWS
from harness import PLAYBOOKS, assert_network_safe, assert_urls_local

OIDC_AUDIENCE = "rustaws-app"
EXPIRATION_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
# Slack for comparing an expiration with now + duration: RGW's clock is this machine's, so
# this only covers the time between the call and the check.
CLOCK_SLACK = 120

# A session policy written the way people write JSON: with spaces. It narrows the role (s3:* on
# every bucket) to one bucket; the tests then see it applied, so it arrived intact.
SPACED_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"]}
    ]
}"""


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def rgw(tmp_path_factory):
    """The throw-away cluster, plus two roles besides S3Access (max 43200 s): ShortRole
    (max 3600 s) and ExternalIdRole (trust policy with an sts:ExternalId condition)."""
    with ceph.cluster_for_tests(tmp_path_factory) as cluster:
        cluster.short_role_arn = cluster.create_role("ShortRole", principal="arn:aws:iam:::user/tester")
        cluster.put_role_policy("ShortRole", "AllowS3", ceph.allow("s3:*", "arn:aws:s3:::*"))
        cluster.external_id_role_arn = cluster.create_role("ExternalIdRole", trust={
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/tester"]},
                "Action": ["sts:AssumeRole"], "Condition": {"StringEquals": {"sts:ExternalId": "ext-2026"}},
            }]})
        cluster.put_role_policy("ExternalIdRole", "AllowS3", ceph.allow("s3:*", "arn:aws:s3:::*"))
        yield cluster


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcIssuer(FakeAWS):
    """An OpenID Connect identity provider on 127.0.0.1: discovery document, a JWKS with the
    x5c certificate RGW Pacific needs, and RS256 ID tokens. Serves from construction on."""

    methods = ("GET",)
    protocol_version = "HTTP/1.0"

    def __init__(self):
        super().__init__()
        ca = CertificateAuthority("rustaws test issuer", key_type="rsa", days=2)
        self.key = ca.key
        self.der = ca.der
        self.thumbprint = hashlib.sha1(self.der).hexdigest()
        self.start()

    def answer(self, request):
        if request.path == "/.well-known/openid-configuration":
            return self.json(200, {"issuer": self.url, "jwks_uri": f"{self.url}/jwks",
                                   "id_token_signing_alg_values_supported": ["RS256"],
                                   "response_types_supported": ["id_token"], "subject_types_supported": ["public"]})
        if request.path == "/jwks":
            numbers = self.key.public_key().public_numbers()
            return self.json(200, {"keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "test-key",
                "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": _b64url(numbers.e.to_bytes(3, "big")),
                "x5c": [base64.b64encode(self.der).decode()],
            }]})
        return 404, {"Content-Type": "text/plain"}, "not found"

    def token(self, audience=OIDC_AUDIENCE, subject="alice", lifetime=600, key=None):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": "test-key"}
        claims = {"iss": self.url, "sub": subject, "aud": audience, "azp": audience,
                  "iat": now, "exp": now + lifetime}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = (key or self.key).sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


@pytest.fixture(scope="session")
def oidc(rgw):
    """The issuer, registered with RGW (IAM CreateOpenIDConnectProvider), and role WebRole that
    trusts its tokens for the audience OIDC_AUDIENCE."""
    issuer = OidcIssuer()
    try:
        rgw.client("iam").create_open_id_connect_provider(
            Url=issuer.url, ClientIDList=[OIDC_AUDIENCE], ThumbprintList=[issuer.thumbprint])
        issuer.role_arn = rgw.create_role("WebRole", trust={
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": [f"arn:aws:iam:::oidc-provider/{issuer.host}"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {"StringEquals": {f"{issuer.host}:app_id": OIDC_AUDIENCE}},
            }]}, max_session=3600)
        rgw.put_role_policy("WebRole", "AllowS3", ceph.allow("s3:*", "arn:aws:s3:::*"))
        yield issuer
    finally:
        issuer.close()


@pytest.fixture
def run_rgw(run_named_module, rgw):
    """run(module, args, keys=rgw.user): a module with endpoint_url and region pointing at the
    gateway and, unless keys=None, the tester's keys as options."""

    def run(name, args, keys=rgw.user):
        full = {"endpoint_url": rgw.endpoint, "region": ceph.REGION, **args}
        if keys is not None:
            full.setdefault("access_key", keys[0])
            full.setdefault("secret_key", keys[1])
        return run_named_module(name, full)

    return run


# --------------------------------------------------------------------------------------------
# Helpers


def assert_rgw_failure(run, code, status, operation):
    """A failure that tells the user what RGW said: its error code, the operation and the HTTP
    status, in msg and in error/response_metadata (never a generic 'unknown')."""
    assert run.rc == 1 and run.result.get("failed") is True, run.result
    msg = run.result["msg"]
    assert f"An error occurred ({code}) when calling the {operation} operation" in msg, msg
    assert f"HTTP status {status}" in msg, msg
    assert "nknown" not in msg, msg
    assert run.result["error"] == {"code": code, "message": None}, run.result
    meta = run.result["response_metadata"]
    assert meta["http_status_code"] == status, run.result
    assert meta["request_id"].startswith("tx"), run.result  # RGW's transaction id
    return msg


def assert_expires_in(creds, seconds):
    assert EXPIRATION_FORMAT.match(creds["expiration"]), creds["expiration"]
    expires = datetime.datetime.fromisoformat(creds["expiration"])
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert seconds - CLOCK_SLACK <= left <= seconds + 1, (creds["expiration"], seconds)


def wrong_secret():
    """A secret key RGW does not know (random: the suite's secret scan looks for it everywhere)."""
    return "Wrong" + uuid.uuid4().hex + "Key"


def bucket_name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def s3_with(rgw, creds):
    return rgw.client("s3", keys=(creds["access_key"], creds["secret_key"]), session_token=creds["session_token"])


def assert_s3_works(rgw, creds):
    """CreateBucket, PutObject, GetObject and ListObjects with temporary credentials."""
    s3 = s3_with(rgw, creds)
    bucket = bucket_name("creds")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello from temporary credentials")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello from temporary credentials"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["hello.txt"]


def assert_s3_denied(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    assert e.value.response["Error"]["Code"] == "AccessDenied", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --------------------------------------------------------------------------------------------
# sts_session_token


def test_session_token_default_duration_and_s3(rgw, run_rgw):
    run = run_rgw("sts_session_token", {})
    assert run.rc == 0 and run.result["changed"] is True, run.result
    creds = run.result["sts_creds"]
    assert set(creds) == {"access_key", "secret_key", "session_token", "expiration"}
    assert_expires_in(creds, 3600)  # RGW's default (AWS: 43200)
    assert_s3_works(rgw, creds)


@pytest.mark.parametrize("seconds", [900, 43200])
def test_session_token_duration(rgw, run_rgw, seconds):
    run = run_rgw("sts_session_token", {"duration_seconds": seconds})
    assert run.rc == 0, run.result
    assert_expires_in(run.result["sts_creds"], seconds)


def test_session_token_beyond_rgw_maximum(run_rgw):
    """129600 s is valid for AWS, so the module sends it; RGW's maximum is 43200 s."""
    run = run_rgw("sts_session_token", {"duration_seconds": 43201})
    assert_rgw_failure(run, "InvalidArgument", 400, "GetSessionToken")


def test_session_token_needs_an_identity_policy(rgw, run_rgw):
    run = run_rgw("sts_session_token", {}, keys=rgw.nopolicy_user)
    assert_rgw_failure(run, "AccessDenied", 403, "GetSessionToken")


def test_session_token_wrong_secret(rgw, run_rgw):
    run = run_rgw("sts_session_token", {}, keys=(rgw.user.access_key, wrong_secret()))
    assert_rgw_failure(run, "AccessDenied", 403, "GetSessionToken")


def test_session_token_mfa_is_not_checked(rgw, run_rgw):
    """RGW accepts any MFA code with GetSessionToken (it has no MFA devices to check)."""
    run = run_rgw("sts_session_token", {"duration_seconds": 900, "mfa_serial_number": "arn:aws:iam:::mfa/tester",
                                        "mfa_token": "405918"})
    assert run.rc == 0, run.result
    assert_expires_in(run.result["sts_creds"], 900)


# --------------------------------------------------------------------------------------------
# sts_assume_role


def test_assume_role_session_policy_with_spaces_duration_external_id(rgw, run_rgw):
    bucket = bucket_name("allowed")
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "release-1",
        "policy": SPACED_POLICY.replace("BUCKET", bucket), "duration_seconds": 900, "external_id": "ext-2026",
    })
    assert run.rc == 0 and run.result["changed"] is True, run.result
    assert run.result["sts_user"]["arn"] == "arn:aws:sts:::assumed-role/S3Access/release-1"
    creds = run.result["sts_creds"]
    assert_expires_in(creds, 900)
    s3 = s3_with(rgw, creds)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"in the policy")
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"in the policy"
    # The role alone allows every bucket: a refusal here is the session policy at work.
    assert_s3_denied(s3.create_bucket, Bucket=bucket_name("outside"))
    assert_s3_denied(s3.list_buckets)


def test_policy_with_spaces_where_boto3_fails(rgw, run_rgw):
    """RGW bug: it does not decode '+' as a space in form bodies. boto3 (so amazon.aws) sends a
    policy's spaces as '+', and RGW refuses it, which botocore reports as '(Unknown) ...:
    Unknown'. The modules send spaces as %20, and the same policy works."""
    policy = SPACED_POLICY.replace("BUCKET", "any-bucket")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        rgw.client("sts").assume_role(RoleArn=rgw.role_arn, RoleSessionName="boto3", Policy=policy)
    # botocore's query parser finds no <ErrorResponse><Error>: the code lands beside it
    assert e.value.response.get("Code") == "MalformedPolicyDocument", e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert str(e.value) == "An error occurred (Unknown) when calling the AssumeRole operation: Unknown"
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "module", "policy": policy})
    assert run.rc == 0, run.result


def test_assume_role_policy_dict_with_a_space_in_a_resource(rgw, run_rgw):
    """A dict policy is sent as JSON; a space inside a value (an object key prefix) must
    reach RGW as a space too."""
    bucket = bucket_name("reports")
    rgw.client("s3").create_bucket(Bucket=bucket)
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "reports",
        "policy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": f"arn:aws:s3:::{bucket}/reports 2026/*"}]},
    })
    assert run.rc == 0, run.result
    s3 = s3_with(rgw, run.result["sts_creds"])
    s3.put_object(Bucket=bucket, Key="reports 2026/q1.txt", Body=b"q1")
    assert s3.get_object(Bucket=bucket, Key="reports 2026/q1.txt")["Body"].read() == b"q1"
    assert_s3_denied(s3.put_object, Bucket=bucket, Key="reports2026/q1.txt", Body=b"q1")


def test_assume_role_default_duration_and_s3(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "s3-check"})
    assert run.rc == 0, run.result
    assert_expires_in(run.result["sts_creds"], 3600)
    assert_s3_works(rgw, run.result["sts_creds"])


def test_assume_role_up_to_the_role_maximum(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "long",
                                      "duration_seconds": 43200})
    assert run.rc == 0, run.result
    assert_expires_in(run.result["sts_creds"], 43200)


def test_assume_role_returns_the_assumed_role_id(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "ids"})
    assert run.rc == 0, run.result
    assert run.result["sts_user"]["assumed_role_id"].endswith(":ids"), run.result["sts_user"]


def test_assume_role_with_session_token_credentials(rgw, run_rgw):
    """Credentials from sts_session_token can assume a role (they carry a session token)."""
    session = run_rgw("sts_session_token", {"duration_seconds": 900})
    assert session.rc == 0, session.result
    creds = session.result["sts_creds"]
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "chained", "access_key": creds["access_key"],
        "secret_key": creds["secret_key"], "session_token": creds["session_token"]})
    assert run.rc == 0, run.result
    assert run.result["sts_user"]["arn"] == "arn:aws:sts:::assumed-role/S3Access/chained"
    assert_s3_works(rgw, run.result["sts_creds"])


def test_assume_role_tags_and_source_identity_are_accepted(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "tagged", "tags": {"project": "release"},
        "transitive_tag_keys": ["project"], "source_identity": "alice"})
    assert run.rc == 0, run.result
    assert "source_identity" not in run.result  # RGW does not send it back


def test_assume_role_duration_beyond_the_role_maximum(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": rgw.short_role_arn, "role_session_name": "too-long",
                                      "duration_seconds": 7200})
    assert_rgw_failure(run, "InvalidArgument", 400, "AssumeRole")


def test_assume_role_unknown_role(run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": "arn:aws:iam:::role/NoSuchRole", "role_session_name": "nope"})
    assert_rgw_failure(run, "NoSuchEntity", 404, "AssumeRole")  # AWS: 403 AccessDenied


def test_assume_role_policy_rgw_refuses(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "bad-policy",
        "policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}'})
    assert_rgw_failure(run, "MalformedPolicyDocument", 400, "AssumeRole")


def test_assume_role_policy_rgw_refuses_reads_as_on_aws(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {
        "role_arn": rgw.role_arn, "role_session_name": "bad-policy",
        "policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}'})
    assert run.result["msg"].startswith(
        "Invalid policy document provided: An error occurred (MalformedPolicyDocument)"), run.result["msg"]


def test_assume_role_wrong_secret(rgw, run_rgw):
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "s1"},
                  keys=(rgw.user.access_key, wrong_secret()))
    assert_rgw_failure(run, "AccessDenied", 403, "AssumeRole")


def test_assume_role_six_digit_mfa_code_is_refused_by_rgw(rgw, run_rgw):
    """RGW bug: its TokenCode length check is inverted (it refuses exactly six characters), and
    the module only sends six digits, so AssumeRole with MFA always fails on RGW."""
    run = run_rgw("sts_assume_role", {"role_arn": rgw.role_arn, "role_session_name": "mfa",
                                      "mfa_serial_number": "arn:aws:iam:::mfa/tester", "mfa_token": "405918"})
    assert_rgw_failure(run, "InvalidArgument", 400, "AssumeRole")


@pytest.mark.parametrize("external_id", ["ext-2026", "wrong-id"])
def test_assume_role_external_id_condition_refuses_everyone(rgw, run_rgw, external_id):
    """RGW Pacific does not know the sts:ExternalId condition key: a trust policy that
    requires one refuses the right ExternalId as well as a wrong one."""
    run = run_rgw("sts_assume_role", {"role_arn": rgw.external_id_role_arn, "role_session_name": "ext",
                                      "external_id": external_id})
    assert_rgw_failure(run, "AccessDenied", 403, "AssumeRole")


# --------------------------------------------------------------------------------------------
# sts_assume_role_with_web_identity


def test_web_identity_token_and_s3(rgw, oidc, run_rgw):
    """Unsigned: the run has no AWS credentials at all."""
    before = len(oidc.requests)
    run = run_rgw("sts_assume_role_with_web_identity", {
        "role_arn": oidc.role_arn, "role_session_name": "web-app", "web_identity_token": oidc.token()}, keys=None)
    assert run.rc == 0 and run.result["changed"] is True, run.result
    assert run.result["sts_user"]["arn"] == "arn:aws:sts:::assumed-role/WebRole/web-app"
    assert run.result["sts_user"]["assumed_role_id"].endswith(":web-app"), run.result["sts_user"]
    assert run.result["provider"] == oidc.url
    assert run.result["audience"] == OIDC_AUDIENCE
    assert run.result["subject_from_web_identity_token"] == "alice"
    assert_expires_in(run.result["sts_creds"], 3600)
    # RGW checked the signature against the keys our issuer serves.
    assert "/jwks" in oidc.paths()[before:], oidc.paths()
    assert_s3_works(rgw, run.result["sts_creds"])


def test_web_identity_token_file_session_policy_duration(rgw, oidc, run_rgw, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(oidc.token(subject="bob") + "\n")
    bucket = bucket_name("web")
    run = run_rgw("sts_assume_role_with_web_identity", {
        "role_arn": oidc.role_arn, "role_session_name": "web-file", "web_identity_token_file": str(token_file),
        "policy": SPACED_POLICY.replace("BUCKET", bucket), "duration_seconds": 900}, keys=None)
    assert run.rc == 0, run.result
    assert run.result["subject_from_web_identity_token"] == "bob"
    assert_expires_in(run.result["sts_creds"], 900)
    s3 = s3_with(rgw, run.result["sts_creds"])
    s3.create_bucket(Bucket=bucket)
    assert_s3_denied(s3.create_bucket, Bucket=bucket_name("outside"))


@pytest.mark.parametrize("case", ["wrong audience", "expired", "signed by another key", "not a JWT"])
def test_web_identity_tokens_rgw_refuses(oidc, run_rgw, case):
    """RGW answers 403 AccessDenied to every bad token (AWS: InvalidIdentityToken or
    ExpiredTokenException)."""

    token = {
        "wrong audience": lambda: oidc.token(audience="someone-else"),
        "expired": lambda: oidc.token(lifetime=-60),
        "signed by another key": lambda: oidc.token(key=private_key("rsa")),
        "not a JWT": lambda: f"not-a-jwt.{uuid.uuid4().hex}.sig",
    }[case]()
    run = run_rgw("sts_assume_role_with_web_identity", {
        "role_arn": oidc.role_arn, "role_session_name": "web-bad", "web_identity_token": token}, keys=None)
    assert_rgw_failure(run, "AccessDenied", 403, "AssumeRoleWithWebIdentity")


def test_web_identity_duration_beyond_the_role_maximum(oidc, run_rgw):
    run = run_rgw("sts_assume_role_with_web_identity", {
        "role_arn": oidc.role_arn, "role_session_name": "web-long", "web_identity_token": oidc.token(),
        "duration_seconds": 7200}, keys=None)
    assert_rgw_failure(run, "InvalidArgument", 400, "AssumeRoleWithWebIdentity")


# --------------------------------------------------------------------------------------------
# aws_caller_info and the IAM access-key modules: RGW has no such calls


def test_caller_info_is_not_implemented_by_rgw(run_rgw):
    run = run_rgw("aws_caller_info", {})
    msg = assert_rgw_failure(run, "MethodNotAllowed", 405, "GetCallerIdentity")
    assert msg.startswith("Failed to retrieve caller identity: "), msg


@pytest.mark.parametrize("module", ["iam_access_key_info", "iam_access_key"])
def test_iam_access_key_calls_are_not_implemented_by_rgw(run_rgw, module):
    run = run_rgw(module, {"user_name": "tester"})
    msg = assert_rgw_failure(run, "MethodNotAllowed", 405, "ListAccessKeys")
    assert msg.startswith("Failed to get access keys for user: "), msg


# --------------------------------------------------------------------------------------------
# A playbook


def test_playbook(rgw, oidc, env, tmp_path):
    """ansible-playbook with module_defaults pointing the group at the gateway: session token,
    then a role assumed with those credentials, web identity from a token file, and a value RGW
    refuses, as the user sees it."""
    token_file = tmp_path / "web-token"
    token_file.write_text(oidc.token(subject="carol"))
    playbook = PLAYBOOKS / "ceph_sts.yml"
    extra = {"rgw_endpoint": rgw.endpoint, "role_arn": rgw.role_arn, "web_role_arn": oidc.role_arn,
             "web_token_file": str(token_file), "bucket": bucket_name("pb")}
    full_env = {**env, "AWS_ACCESS_KEY_ID": rgw.user.access_key, "AWS_SECRET_ACCESS_KEY": rgw.user.secret_key}
    assert_network_safe(full_env, {"endpoint_url": rgw.endpoint})
    assert_urls_local(playbook.read_text())
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook), "-e", json.dumps(extra)],
        capture_output=True, text=True, timeout=300, env=full_env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"ansible-playbook exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"^localhost\s+: ok=\d+ .*failed=0 .*ignored=1", proc.stdout, re.M), proc.stdout
