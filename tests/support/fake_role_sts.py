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
  one key of the user named.

Every request is recorded (method, path, headers, form fields, signing key).
"""

import base64
import http.server
import itertools
import json
import threading
import urllib.parse
from xml.sax.saxutils import escape

ACCOUNT = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/fake-caller"
EXPIRATION_WIRE = "2031-02-03T04:05:06.789Z"
EXPIRATION = "2031-02-03T04:05:06+00:00"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.example.test"
AUDIENCE = "sts.amazonaws.test"
SUBJECT = "system:serviceaccount:default:app"
ALIAS = "fake-alias"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def unsigned_jwt(claims):
    """An OpenID Connect-shaped token with no signature (moto accepts it)."""
    def part(d):
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.body = method, path, body
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.form = {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    @property
    def action(self):
        return self.form.get("Action")

    @property
    def signed(self):
        return "authorization" in self.headers

    @property
    def access_key(self):
        """The key of the SigV4 Authorization header, or None for an unsigned request."""
        auth = self.headers.get("authorization", "")
        if "Credential=" not in auth:
            return None
        return auth.split("Credential=", 1)[1].split("/", 1)[0]


def _xml(root, ns, result, request_id):
    return (f'<{root}Response xmlns="{ns}"><{root}Result>{result}</{root}Result>'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{root}Response>")


def _element(name, value):
    return f"<{name}>{escape(value)}</{name}>"


class RoleSTS:
    def __init__(self):
        self.requests = []
        self.issued = {}  # access key -> (assumed-role ARN, assumed role id)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                request = Request("POST", self.path, dict(self.headers), body)
                server.requests.append(request)
                status, payload = server.answer(request)
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", "fake-request-id-0001")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def clear(self):
        self.requests.clear()

    def actions(self):
        return [r.action for r in self.requests]

    # --- answers

    def _credentials(self, arn=None, role_id=None):
        n = next(self._counter)
        key = f"ASIAFAKEROLE{n:08d}"
        secret = f"fakeRoleSecret/{n:08d}+abcdefghijklmnopqrs"
        token = f"FwoGZXIvYXdzEFakeRoleSessionToken{n:08d}//////////abcdef"
        with self._lock:
            self.issued[key] = (arn, role_id)
        return key, (_element("AccessKeyId", key) + _element("SecretAccessKey", secret)
                     + _element("SessionToken", token) + _element("Expiration", EXPIRATION_WIRE))

    def _error(self, code, message, status=400, ns=STS_NS):
        return status, (f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type>{_element("Code", code)}'
                        f'{_element("Message", message)}</Error><RequestId>fake-request-id-0001</RequestId></ErrorResponse>')

    def answer(self, r):
        f = r.form
        action = r.action
        if action in ("AssumeRole", "AssumeRoleWithWebIdentity"):
            role_arn, session = f.get("RoleArn", ""), f.get("RoleSessionName", "")
            role_name = role_arn.rsplit("/", 1)[-1]
            if role_name.startswith("error-"):
                code = role_name[len("error-"):]
                echoed = f.get("WebIdentityToken") or f.get("Policy") or ""
                return self._error(code, f"The request was refused ({code}) for {echoed}")
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ACCOUNT
            arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"
            role_id = f"AROAFAKEROLE{len(role_name):08d}:{session}"
            _, creds = self._credentials(arn, role_id)
            user = (f"<AssumedRoleUser>{_element('AssumedRoleId', role_id)}{_element('Arn', arn)}</AssumedRoleUser>"
                    f"<Credentials>{creds}</Credentials><PackedPolicySize>6</PackedPolicySize>")
            if action == "AssumeRole":
                extra = _element("SourceIdentity", f["SourceIdentity"]) if "SourceIdentity" in f else ""
                return 200, _xml("AssumeRole", STS_NS, user + extra, "fake-request-id-0001")
            claims = (_element("SubjectFromWebIdentityToken", SUBJECT) + _element("Audience", AUDIENCE)
                      + _element("Provider", PROVIDER))
            return 200, _xml("AssumeRoleWithWebIdentity", STS_NS, user + claims, "fake-request-id-0001")
        if action == "GetCallerIdentity":
            arn, user_id = self.issued.get(r.access_key, (None, None))
            arn, user_id = arn or CALLER_ARN, user_id or "AIDAFAKECALLER000001"
            result = _element("Arn", arn) + _element("UserId", user_id) + _element("Account", ACCOUNT)
            return 200, _xml("GetCallerIdentity", STS_NS, result, "fake-request-id-0001")
        if action == "GetSessionToken":
            _, creds = self._credentials()
            return 200, _xml("GetSessionToken", STS_NS, f"<Credentials>{creds}</Credentials>", "fake-request-id-0001")
        if action == "ListAccountAliases":
            result = f"<AccountAliases><member>{ALIAS}</member></AccountAliases><IsTruncated>false</IsTruncated>"
            return 200, _xml("ListAccountAliases", IAM_NS, result, "fake-request-id-0001")
        if action == "ListAccessKeys":
            user = f.get("UserName", "fake-caller")
            member = (f"<member>{_element('UserName', user)}<AccessKeyId>AKIAFAKEKEY000000001</AccessKeyId>"
                      f"<Status>Active</Status><CreateDate>2026-01-02T03:04:05Z</CreateDate></member>")
            result = f"{_element('UserName', user)}<AccessKeyMetadata>{member}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            return 200, _xml("ListAccessKeys", IAM_NS, result, "fake-request-id-0001")
        return self._error("InvalidAction", f"Could not find operation {action}")
