"""Section 6 of the benchmark, sso: IAM Identity Center (SSO), one module run each, against
tests/support/fake_sso.py (SSO OIDC and the portal, which moto lacks) on 127.0.0.1 and moto for
STS. A temporary HOME holds `.aws/config` (an `[sso-session bench]` and a profile `bench-sso` that
uses it) and the session's token cache, as the AWS CLI v2 writes them.

1. rustaws.creds.sso_login with a valid cached token: no call.
2. rustaws.creds.sso_login refreshing a token near its expiry: before each run the cache is
   rewritten to expire within min_ttl, with the refresh token and registration the stand-in
   issued; one CreateToken (refresh grant) per run.
3. aws_caller_info with `profile: bench-sso`: the SDK (ours) or botocore's SSO provider (amazon.aws)
   reads the token cache, calls the portal's GetRoleCredentials, then STS at moto (and IAM for the
   account alias). amazon.aws resolves the profile once per client (a boto3 Session for STS and one
   for IAM), so it calls GetRoleCredentials twice; ours once, for both clients.

amazon.aws has no sign-in module, so rows 1 and 2 have no Python side. Every run's result is
checked, and so are the stand-in's recorded calls: none for 1, one refresh CreateToken for 2, one
GetRoleCredentials from ours for 3 (the same number from amazon.aws in every run), and no
CreateToken."""

import calendar
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

import boto3
import botocore
from botocore.config import Config
from common import MiB, Part, Run, fmt_mib, fmt_time, log, median
from fake_sso import DEFAULT_ACCOUNTS, DEVICE_GRANT, FakeSso
from servers import Endpoint

SESSION = "bench"
PROFILE = "bench-sso"
START_URL = "https://d-bench00001.awsapps.com/start"
SSO_REGION = "us-east-1"
SCOPES = ["sso:account:access"]
# The first of the stand-in's default accounts and its first role.
ACCOUNT = next(iter(DEFAULT_ACCOUNTS))
ROLE = DEFAULT_ACCOUNTS[ACCOUNT]["roles"][0]
MIN_TTL = 900  # sso_login's default
NEAR_EXPIRY = 300  # row 2: the cached token expires in 5 minutes, within MIN_TTL
SSO_LOGIN = "rustaws.creds.sso_login"
CALLER_INFO = ("rustaws.creds.aws_caller_info", "amazon.aws.aws_caller_info")


def cache_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def cache_seconds(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class StandIn(Endpoint):
    """The stand-in as capture() sees it: sso_login gets its endpoint from
    AWS_ENDPOINT_URL_SSO_OIDC (and has no `region` option), so no common arguments."""

    def common_args(self):
        return {}


class Sso(Part):
    """6. IAM Identity Center: sso_login reusing and refreshing a token, aws_caller_info on an
    SSO profile."""

    def run(self, endpoint):
        runs = self.opts.warmup + self.opts.runs
        log(f"IAM Identity Center (SSO) over {endpoint.label}: {self.opts.runs} runs of each")
        with FakeSso() as fake:
            self.fake, self.endpoint = fake, endpoint
            self.home = self.ws.work / "sso-home"
            self.cache = self.home / ".aws" / "sso" / "cache" / (hashlib.sha1(SESSION.encode()).hexdigest() + ".json")
            self.write_config()
            self.client, token = self.sign_in()
            client = self.client
            answers = self.answer_times(client, token)
            token = answers.pop("token")
            self.write_cache(client, token["accessToken"], token["refreshToken"], time.time() + 8 * 3600)
            env = self.env()
            stand_in = StandIn("SSO", fake.url)
            login = self.ws.capture(stand_in, "sso_login", SSO_LOGIN, args={"sso_session": SESSION}, env=env)
            login_argv = [str(login / "AnsiballZ_sso_login"), str(login / "args")]
            ours, theirs = (self.ws.capture(endpoint, "aws_caller_info:sso", fqcn, args={"profile": PROFILE},
                                            env=env) for fqcn in CALLER_INFO)
            caller_argv = dict(zip(CALLER_INFO, (
                [str(ours / "AnsiballZ_aws_caller_info"), str(ours / "args")],
                [str(self.ws.python), str(theirs / "AnsiballZ_aws_caller_info.py")])))
            account = self.moto_account()
            section = f"IAM Identity Center (SSO), one module run: the stand-in and moto over {endpoint.label}"
            self.row(section, "the stand-in's answer to one GetRoleCredentials (new connection, from a Python "
                     "client)", fmt_time(answers["GetRoleCredentials"]), "(same server)", None, None)
            self.row(section, "the stand-in's answer to one CreateToken, refresh grant (new connection, from a "
                     "Python client)", fmt_time(answers["CreateToken"]), "(same server)", None, None)
            self.row(section, "moto's answer to one STS request (new connection, from a Python client)",
                     fmt_time(endpoint.answer_time()), "(same server)", None, None)

            timed, rss = [], []
            for i in range(runs):
                t, m = (self.reuse(login_argv, env, rss=r) for r in (False, True))
                if i >= self.opts.warmup:
                    timed.append((t.wall, t.cpu))
                    rss.append(m.rss)
            self.add(section, "sso_login, a valid cached token (no call; no Python module)", timed, rss)

            timed, rss = [], []
            for i in range(runs):
                t, m = (self.refresh(login_argv, env, rss=r) for r in (False, True))
                if i >= self.opts.warmup:
                    timed.append((t.wall, t.cpu))
                    rss.append(m.rss)
            self.add(section, "sso_login, a token near expiry refreshed (one CreateToken; no Python module)",
                     timed, rss)

            # The refresh left an 8-hour token; make sure no side refreshes it again.
            left = cache_seconds(json.loads(self.cache.read_text())["expiresAt"]) - time.time()
            if left < 3600:
                sys.exit(f"sso: the token cache expires in {left:.0f} s after the refreshes; expected 8 hours")
            timed = {fqcn: [] for fqcn in CALLER_INFO}
            rss = {fqcn: [] for fqcn in CALLER_INFO}
            portal = {fqcn: set() for fqcn in CALLER_INFO}  # GetRoleCredentials calls per run
            for i in range(runs):
                for fqcn in CALLER_INFO:
                    t, m = (self.caller_info(fqcn, caller_argv[fqcn], env, account, portal[fqcn], rss=r)
                            for r in (False, True))
                    if i >= self.opts.warmup:
                        timed[fqcn].append((t.wall, t.cpu))
                        rss[fqcn].append(m.rss)
            label = f"aws_caller_info, profile {PROFILE} (GetRoleCredentials, then STS and IAM)"
            self.add(section, label, timed[CALLER_INFO[0]], rss[CALLER_INFO[0]], timed[CALLER_INFO[1]],
                     rss[CALLER_INFO[1]])
            self.row(section, f"{label}: GetRoleCredentials calls per run", *(str(*portal[f]) for f in CALLER_INFO),
                     None, None)

    # --- set-up

    def write_config(self):
        (self.home / ".aws" / "sso" / "cache").mkdir(parents=True, mode=0o700)
        (self.home / ".aws" / "config").write_text(
            f"[sso-session {SESSION}]\nsso_start_url = {START_URL}\nsso_region = {SSO_REGION}\n"
            f"sso_registration_scopes = {','.join(SCOPES)}\n\n"
            f"[profile {PROFILE}]\nsso_session = {SESSION}\nsso_account_id = {ACCOUNT}\nsso_role_name = {ROLE}\n"
            f"region = {SSO_REGION}\n")

    def env(self):
        """The workspace's environment with the temporary HOME and the stand-in's endpoints, and
        no keys: the profile's SSO session is the only source of credentials."""
        env = self.ws.env(HOME=str(self.home), AWS_CONFIG_FILE=str(self.home / ".aws" / "config"),
                          AWS_ENDPOINT_URL_SSO_OIDC=self.fake.url, AWS_ENDPOINT_URL_SSO=self.fake.url)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(k)
        return env

    def sign_in(self):
        """A client registration with scopes and an approved device authorization, as `aws sso login`
        makes them (boto3 against the stand-in): (registration, token)."""
        oidc = boto3.client("sso-oidc", region_name=SSO_REGION, endpoint_url=self.fake.url,
                            config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
        client = oidc.register_client(clientName="bench", clientType="public", scopes=SCOPES)
        device = oidc.start_device_authorization(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                                 startUrl=START_URL)
        self.fake.approve(device["userCode"])
        token = oidc.create_token(clientId=client["clientId"], clientSecret=client["clientSecret"],
                                  grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])
        return client, token

    def write_cache(self, client, access_token, refresh_token, expires_at):
        """The session's token cache as the AWS CLI v2 writes it (mode 0600)."""
        text = json.dumps({"startUrl": START_URL, "region": SSO_REGION, "accessToken": access_token,
                           "expiresAt": cache_time(expires_at), "clientId": client["clientId"],
                           "clientSecret": client["clientSecret"],
                           "registrationExpiresAt": cache_time(client["clientSecretExpiresAt"]),
                           "refreshToken": refresh_token})
        fd = os.open(self.cache, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")

    def answer_times(self, client, token, n=20):
        """Median times of the stand-in's answers, each request on a new connection from this
        process: GetRoleCredentials with the token, and a chain of refresh grants (each spends the
        refresh token before it). Returns them and the last token."""
        u = urllib.parse.urlsplit(self.fake.url)

        def request(method, path, body=None, headers=None):
            start = time.perf_counter()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if resp.status != 200:
                sys.exit(f"the SSO stand-in: {method} {path} answered {resp.status}: {data[:300]!r}")
            return time.perf_counter() - start, data

        times = {"GetRoleCredentials": [], "CreateToken": []}
        query = urllib.parse.urlencode({"account_id": ACCOUNT, "role_name": ROLE})
        for _ in range(n + 2):
            took, _ = request("GET", f"/federation/credentials?{query}",
                              headers={"x-amz-sso_bearer_token": token["accessToken"]})
            times["GetRoleCredentials"].append(took)
            body = json.dumps({"clientId": client["clientId"], "clientSecret": client["clientSecret"],
                               "grantType": "refresh_token", "refreshToken": token["refreshToken"]})
            took, data = request("POST", "/token", body, {"Content-Type": "application/json"})
            times["CreateToken"].append(took)
            token = json.loads(data)
        answers = {k: median(v[2:]) for k, v in times.items()}
        answers["token"] = token
        return answers

    def moto_account(self):
        """The account moto answers for role credentials the stand-in issued (keys moto did not
        issue: its default account), from a Python client: what both sides must report."""
        creds = self.fake.role_credentials[-1]
        sts = boto3.session.Session(
            aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
            aws_session_token=creds["sessionToken"], region_name="us-east-1",
        ).client("sts", endpoint_url=self.endpoint.url)
        return sts.get_caller_identity()["Account"]

    # --- the runs, each checked with the stand-in's recorded calls

    def run_checked(self, argv, env, rss, what):
        self.fake.clear()
        r = Run(argv, env, self.ws.work, rss=rss)
        what = f"{what}{' (under time)' if rss else ''}"
        return r, self.ws.check(r, what, None), what

    def calls(self):
        return [(c["operation"], c["status"], c.get("grantType")) for c in self.fake.calls]

    def reuse(self, argv, env, rss):
        before = self.cache.read_bytes()
        r, result, what = self.run_checked(argv, env, rss, "sso_login with a valid token")
        if (result.get("state"), result.get("changed")) != ("valid", False):
            sys.exit(f"{what}: state {result.get('state')!r}, changed {result.get('changed')!r}; "
                     "expected valid, not changed")
        if self.fake.calls:
            sys.exit(f"{what}: expected no call, the stand-in recorded {self.calls()}")
        if self.cache.read_bytes() != before:
            sys.exit(f"{what}: the token cache was rewritten")
        return r

    def refresh(self, argv, env, rss):
        """Rewrites the cache to expire within min_ttl (the refresh token and registration the
        last refresh left in it), then runs."""
        old = json.loads(self.cache.read_text())
        self.write_cache(self.client, old["accessToken"], old["refreshToken"], time.time() + NEAR_EXPIRY)
        spent = self.fake.token_info(old["refreshToken"])
        r, result, what = self.run_checked(argv, env, rss, "sso_login with a token near expiry")
        if (result.get("state"), result.get("changed")) != ("refreshed", True):
            sys.exit(f"{what}: state {result.get('state')!r}, changed {result.get('changed')!r}; "
                     "expected refreshed, changed")
        if self.calls() != [("CreateToken", 200, "refresh_token")]:
            sys.exit(f"{what}: expected one CreateToken (refresh grant), the stand-in recorded {self.calls()}")
        if spent is None or self.fake.calls[0].get("refreshSerial") != spent["serial"]:
            sys.exit(f"{what}: the refresh did not present the cached refresh token")
        new = json.loads(self.cache.read_text())
        info = self.fake.token_info(new["accessToken"])
        if info is None or info["grant"] != "refresh_token" or info["serial"] != self.fake.calls[0]["token"]:
            sys.exit(f"{what}: the token cache does not hold the access token of the refresh")
        if cache_seconds(new["expiresAt"]) - time.time() < MIN_TTL:
            sys.exit(f"{what}: the refreshed token expires at {new['expiresAt']}")
        return r

    def caller_info(self, fqcn, argv, env, account, counts, rss):
        """One run; `counts` collects the number of GetRoleCredentials calls of the runs of this
        side, which must be 1 for ours and the same in every run for amazon.aws."""
        before = len(self.fake.role_credentials)
        r, result, what = self.run_checked(argv, env, rss, f"{fqcn} with profile {PROFILE}")
        if result.get("account") != account or result.get("changed"):
            sys.exit(f"{what}: account {result.get('account')!r}, changed {result.get('changed')!r}; "
                     f"expected {account}, not changed")
        n = len(self.fake.calls)
        counts.add(n)
        if (not n or self.calls() != [("GetRoleCredentials", 200, None)] * n
                or any((c.get("account_id"), c.get("role_name")) != (ACCOUNT, ROLE) for c in self.fake.calls)
                or len(self.fake.role_credentials) != before + n
                or len(counts) != 1 or (fqcn.startswith("rustaws.") and n != 1)):
            sys.exit(f"{what}: expected {'one' if fqcn.startswith('rustaws.') else 'the same number of'} "
                     f"GetRoleCredentials for {ACCOUNT}/{ROLE} (and nothing else), the stand-in recorded "
                     f"{self.fake.calls}")
        return r

    def add(self, section, label, ours, ours_rss, theirs=None, theirs_rss=None):
        """Wall, CPU and peak RSS rows; without `theirs`, the Python column stays empty."""
        ow, oc = median([w for w, _ in ours]), median([c for _, c in ours])
        if theirs:
            tw, tc = median([w for w, _ in theirs]), median([c for _, c in theirs])
            self.row(section, f"{label}: wall", fmt_time(ow), fmt_time(tw), tw / ow, None)
            self.row(section, f"{label}: CPU (user + system)", fmt_time(oc), fmt_time(tc), tc / oc, None)
            their_rss = f"{fmt_mib(median(theirs_rss))}; {fmt_mib(max(theirs_rss))}"
        else:
            self.row(section, f"{label}: wall", fmt_time(ow), "", None, None)
            self.row(section, f"{label}: CPU (user + system)", fmt_time(oc), "", None, None)
            their_rss = ""
        # As the one-module-run rows: the target is checked against the largest run.
        self.row(section, f"{label}: peak RSS (median; max)",
                 f"{fmt_mib(median(ours_rss))}; {fmt_mib(max(ours_rss))}", their_rss, None, "rss_mib",
                 value=max(ours_rss) / MiB)
