"""A recording STS (and IAM) stand-in on 127.0.0.1 for the role modules, for what moto cannot
show: the form fields a request carries, whether it was signed and with which key, the keys
AssumeRoleWithWebIdentity returns only on AWS (Provider, Audience, SubjectFromWebIdentityToken),
and the service's own errors (MalformedPolicyDocument, InvalidIdentityToken).

Answers, chosen by the request (never by server state, so one playbook can use several):
- AssumeRole, AssumeRoleWithWebIdentity: fresh credentials for the role; when the role's name is
  `error-<Code>`, a 400 error with that code instead, whose message repeats the token and the
  policy it was sent (the way a careless server might: the module must mask the token);
- GetCallerIdentity: the assumed-role ARN of the credentials the request was signed with when
  this server issued them, else `user/fake-caller`;
- GetSessionToken: fresh credentials; IAM ListAccountAliases: `fake-alias`; IAM ListAccessKeys:
  one key of the user named; IAM GetAccessKeyLastUsed: never used.

Every request is recorded (method, path, headers, form fields, signing key).
"""

import base64
import itertools
import json

from fake_aws import IAM_NS, FakeAWS, element

ACCOUNT = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/fake-caller"
EXPIRATION_WIRE = "2031-02-03T04:05:06.789Z"
EXPIRATION = "2031-02-03T04:05:06+00:00"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.example.test"
AUDIENCE = "sts.amazonaws.test"
SUBJECT = "system:serviceaccount:default:app"
ALIAS = "fake-alias"


def unsigned_jwt(claims):
    """An OpenID Connect-shaped token with no signature (moto accepts it)."""
    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class RoleSTS(FakeAWS):
    def __init__(self):
        super().__init__()
        self.issued = {}  # access key -> (assumed-role ARN, assumed role id)
        self._counter = itertools.count(1)

    # --- answers

    def _credentials(self, arn=None, role_id=None):
        n = next(self._counter)
        key = f"ASIAFAKEROLE{n:08d}"
        secret = f"fakeRoleSecret/{n:08d}+abcdefghijklmnopqrs"
        token = f"FwoGZXIvYXdzEFakeRoleSessionToken{n:08d}//////////abcdef"
        with self.lock:
            self.issued[key] = (arn, role_id)
        return key, (element("AccessKeyId", key) + element("SecretAccessKey", secret)
                     + element("SessionToken", token) + element("Expiration", EXPIRATION_WIRE))

    def answer(self, r):
        f = r.form
        action = r.action
        if action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
            role_arn, session = f.get("RoleArn", ""), f.get("RoleSessionName", "")
            role_name = role_arn.rsplit("/", 1)[-1]
            if role_name.startswith("error-"):
                code = role_name[len("error-"):]
                echoed = f.get("WebIdentityToken") or f.get("Policy") or ""
                return self.xml_error(400, code, f"The request was refused ({code}) for {echoed}")
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ACCOUNT
            arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"
            role_id = f"AROAFAKEROLE{len(role_name):08d}:{session}"
            _, creds = self._credentials(arn, role_id)
            user = (f"<AssumedRoleUser>{element('AssumedRoleId', role_id)}{element('Arn', arn)}</AssumedRoleUser>"
                    f"<Credentials>{creds}</Credentials><PackedPolicySize>6</PackedPolicySize>")
            if action == "AssumeRole":
                extra = element("SourceIdentity", f["SourceIdentity"]) if "SourceIdentity" in f else ""
                return self.xml_result("AssumeRole", user + extra)
            claims = (element("SubjectFromWebIdentityToken", SUBJECT) + element("Audience", AUDIENCE)
                      + element("Provider", PROVIDER))
            return self.xml_result("AssumeRoleWithWebIdentity", user + claims)
        if action == "GetCallerIdentity":
            arn, user_id = self.issued.get(r.access_key, (None, None))
            arn, user_id = arn or CALLER_ARN, user_id or "AIDAFAKECALLER000001"
            result = element("Arn", arn) + element("UserId", user_id) + element("Account", ACCOUNT)
            return self.xml_result("GetCallerIdentity", result)
        if action == "GetSessionToken":
            _, creds = self._credentials()
            return self.xml_result("GetSessionToken", f"<Credentials>{creds}</Credentials>")
        if action == "ListAccountAliases":
            result = f"<AccountAliases><member>{ALIAS}</member></AccountAliases><IsTruncated>false</IsTruncated>"
            return self.xml_result("ListAccountAliases", result, namespace=IAM_NS)
        if action == "ListAccessKeys":
            user = f.get("UserName", "fake-caller")
            member = (f"<member>{element('UserName', user)}<AccessKeyId>AKIAFAKEKEY000000001</AccessKeyId>"
                      f"<Status>Active</Status><CreateDate>2026-01-02T03:04:05Z</CreateDate></member>")
            result = f"{element('UserName', user)}<AccessKeyMetadata>{member}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            return self.xml_result("ListAccessKeys", result, namespace=IAM_NS)
        if action == "GetAccessKeyLastUsed":
            result = ("<UserName>fake-caller</UserName><AccessKeyLastUsed><ServiceName>N/A</ServiceName>"
                      "<Region>N/A</Region></AccessKeyLastUsed>")
            return self.xml_result("GetAccessKeyLastUsed", result, namespace=IAM_NS)
        return self.xml_error(400, "InvalidAction", f"Could not find operation {action}")
