"""A recording IAM stand-in on 127.0.0.1 for the access-key modules, for what moto cannot show:
which calls a run makes (check mode must make no write call), each attempt of a retried call
(the SDK's ``amz-sdk-request: attempt=<k>; max=<m>`` header), the key a request was signed
with, answers AWS gives only under load (Throttling, 503) or on a bad day (a create refused
after the rotation deleted the oldest key), paginated and unordered listings.

It keeps users and their access keys in memory and answers the calls the modules make
(ListAccessKeys, CreateAccessKey, UpdateAccessKey, DeleteAccessKey, ListUsers,
GetAccessKeyLastUsed) the way IAM does, errors included (NoSuchEntity 404, LimitExceeded 409 at
two keys). Anything else is a 400 InvalidAction. ListUsers pages by Marker/IsTruncated
(``users_page_size``, None: every user at once), users in the order they were added;
GetAccessKeyLastUsed answers "never used" (no date, ``N/A``) unless ``set_last_used`` said
otherwise. ``set_created`` moves a key's creation date (for ages).

Faults: ``inject(action, *faults, repeat=False)`` queues answers for the next requests of one
action, one per request (the request is then not carried out); with ``repeat=True`` the last
one answers every later request too. A fault is ``"throttle"`` (400 Throttling), ``"503"``
(503 ServiceUnavailable), a tuple ``(status, code, message)``, or a function of the request
returning such a tuple (it may change the state first, e.g. ``remove_key``).

Secrets it issues (``issued_secrets``) are distinctive: "fAkEiAmIsSuEd" and a serial number,
so the session's secret scan cannot confuse them with anything else.
"""

import datetime
import itertools
from xml.sax.saxutils import escape

from fake_aws import IAM_NS, STS_NS, FakeAWS, element

# Where the issued keys' creation dates start; a whole minute apart, with milliseconds (AWS
# sends none; the modules must cut any to whole seconds).
EPOCH = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
THROTTLE = (400, "Throttling", "Rate exceeded")
UNAVAILABLE = (503, "ServiceUnavailable", "Service is unavailable, injected by the fake IAM")
WRITE_ACTIONS = ("CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey")


class Key:
    def __init__(self, access_key_id, secret, created, user, status="Active"):
        self.access_key_id, self.secret, self.created, self.user, self.status = (
            access_key_id, secret, created, user, status)

    def metadata(self):
        return (f"<member><UserName>{escape(self.user)}</UserName>"
                f"<AccessKeyId>{self.access_key_id}</AccessKeyId><Status>{self.status}</Status>"
                f"<CreateDate>{_wire_date(self.created)}</CreateDate></member>")


def _wire_date(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _iso(d):
    """The date as the modules return it: whole seconds, +00:00."""
    return d.replace(microsecond=0).isoformat()


class FakeIAM(FakeAWS):
    namespace = IAM_NS
    request_id = "fake-iam-request"

    def __init__(self):
        super().__init__()
        self.serial = itertools.count(1)
        self.users = {}  # name -> [Key], in creation order
        self.faults = {}  # action -> [fault, ...]
        self.repeat = {}  # action -> bool
        self.issued_secrets = []
        self.page_size = None  # ListAccessKeys page size (None: everything at once)
        self.newest_first = False  # ListAccessKeys order
        self.users_page_size = None  # ListUsers page size (None: everything at once)
        self.last_used = {}  # access key id -> (date, service, region)

    # --- the test's side

    def reset(self):
        """No users, no requests, no faults, default listing."""
        with self.lock:
            self.users, self.faults, self.repeat = {}, {}, {}
            self.requests.clear()
            self.page_size, self.newest_first = None, False
            self.users_page_size, self.last_used = None, {}

    def add_user(self, name, keys=0, ids=(), statuses=()):
        """A user with `keys` new keys, or keys with the given ids. Returns the keys."""
        with self.lock:
            self.users.setdefault(name, [])
        made = [self._create(name, ids[i] if i < len(ids) else None) for i in range(max(keys, len(ids)))]
        for key, status in zip(made, statuses):
            key.status = status
        return made

    def keys(self, name):
        """The user's keys as the modules return them, oldest first (None: unknown user)."""
        with self.lock:
            if name not in self.users:
                return None
            return [{"access_key_id": k.access_key_id, "create_date": _iso(k.created), "status": k.status,
                     "user_name": k.user} for k in self.users[name]]

    def secret_of(self, access_key_id):
        with self.lock:
            for keys in self.users.values():
                for k in keys:
                    if k.access_key_id == access_key_id:
                        return k.secret
        return None

    def remove_key(self, name, access_key_id):
        with self.lock:
            self.users[name] = [k for k in self.users[name] if k.access_key_id != access_key_id]

    def set_created(self, access_key_id, created):
        """Gives a key another creation date (an aware datetime)."""
        with self.lock:
            self._key(access_key_id).created = created

    def set_last_used(self, access_key_id, date, service="iam", region="us-east-1"):
        """What GetAccessKeyLastUsed says of the key: used at `date` (an aware datetime) for
        `service` in `region`."""
        with self.lock:
            self.last_used[access_key_id] = (date, service, region)

    def _key(self, access_key_id):
        return next(k for keys in self.users.values() for k in keys if k.access_key_id == access_key_id)

    def inject(self, action, *faults, repeat=False):
        with self.lock:
            self.faults[action] = [UNAVAILABLE if f == "503" else THROTTLE if f == "throttle" else f
                                   for f in faults]
            self.repeat[action] = repeat

    def attempts(self, action):
        """The attempt numbers of the requests for `action`, in order."""
        with self.lock:
            return [r.attempt for r in self.requests if r.action == action]

    def clear_requests(self):
        self.clear()

    # --- IAM

    def _create(self, user, access_key_id=None):
        n = next(self.serial)
        access_key_id = access_key_id or f"AKIAFAKEIAM{n:09d}"
        secret = f"fAkEiAmIsSuEd{n:05d}/rustaws+keyQwErTyUiOpAsDfGh"[:40]
        key = Key(access_key_id, secret, EPOCH + datetime.timedelta(minutes=n), user)
        with self.lock:
            self.users[user].append(key)
            self.issued_secrets.append(secret)
        return key

    def _fault_for(self, action):
        with self.lock:
            queue = self.faults.get(action)
            if not queue:
                return None
            if len(queue) == 1 and self.repeat.get(action):
                return queue[0]
            return queue.pop(0)

    def headers(self, content_type="text/xml"):
        with self.lock:
            return {"Content-Type": content_type, "x-amzn-RequestId": f"fake-iam-{len(self.requests)}"}

    def _error(self, status, code, message):
        return self.xml_error(status, code, message, request_id="fake-iam-error")

    def answer(self, request):
        action = request.action
        fault = self._fault_for(action)
        if callable(fault):
            fault = fault(request)
        if fault:
            return self._error(*fault)
        form = request.form
        if action == "ListUsers":
            return self._list_users(form.get("Marker"))
        if action == "GetAccessKeyLastUsed":
            return self._last_used(form.get("AccessKeyId"))
        user = form.get("UserName")
        if action not in ("ListAccessKeys",) + WRITE_ACTIONS:
            return self._error(400, "InvalidAction", f"Could not find operation {action}")
        with self.lock:
            known = user in self.users
        if not known:
            return self._error(404, "NoSuchEntity", f"The user with name {user} cannot be found.")
        if action == "ListAccessKeys":
            return self._list(user, form.get("Marker"))
        if action == "CreateAccessKey":
            with self.lock:
                full = len(self.users[user]) >= 2
            if full:
                return self._error(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
            key = self._create(user)
            return self.xml_result("CreateAccessKey", (
                f"<AccessKey><UserName>{escape(user)}</UserName><AccessKeyId>{key.access_key_id}</AccessKeyId>"
                f"<Status>Active</Status><SecretAccessKey>{key.secret}</SecretAccessKey>"
                f"<CreateDate>{_wire_date(key.created)}</CreateDate></AccessKey>"))
        access_key_id = form.get("AccessKeyId")
        with self.lock:
            keys = self.users[user]
            key = next((k for k in keys if k.access_key_id == access_key_id), None)
            if key is None:
                return self._error(404, "NoSuchEntity", f"The Access Key with id {access_key_id} cannot be found")
            if action == "UpdateAccessKey":
                key.status = form.get("Status")
            else:
                keys.remove(key)
        return self.xml_result(action, None)

    def _list(self, user, marker):
        with self.lock:
            keys = list(self.users[user])
        if self.newest_first:
            keys.reverse()
        start = int(marker) if marker else 0
        end = len(keys) if self.page_size is None else min(len(keys), start + self.page_size)
        members = "".join(k.metadata() for k in keys[start:end])
        truncated = end < len(keys)
        more = "<IsTruncated>false</IsTruncated>"
        if truncated:
            more = f"<IsTruncated>true</IsTruncated><Marker>{end}</Marker>"
        return self.xml_result("ListAccessKeys", f"<UserName>{escape(user)}</UserName>"
                                                 f"<AccessKeyMetadata>{members}</AccessKeyMetadata>{more}")

    def _list_users(self, marker):
        with self.lock:
            names = list(self.users)
        start = int(marker) if marker else 0
        end = len(names) if self.users_page_size is None else min(len(names), start + self.users_page_size)
        members = "".join(
            f"<member><Path>/</Path><UserName>{escape(n)}</UserName><UserId>AIDAFAKEIAM{i:09d}</UserId>"
            f"<Arn>arn:aws:iam::123456789012:user/{escape(n)}</Arn><CreateDate>{_wire_date(EPOCH)}</CreateDate>"
            "</member>" for i, n in enumerate(names[start:end], start))
        more = "<IsTruncated>false</IsTruncated>"
        if end < len(names):
            more = f"<IsTruncated>true</IsTruncated><Marker>{end}</Marker>"
        return self.xml_result("ListUsers", f"<Users>{members}</Users>{more}")

    def _last_used(self, access_key_id):
        with self.lock:
            owner = next((k.user for keys in self.users.values() for k in keys if k.access_key_id == access_key_id),
                         None)
            used = self.last_used.get(access_key_id)
        if owner is None:
            return self._error(404, "NoSuchEntity", f"The Access Key with id {access_key_id} cannot be found")
        date, service, region = used or (None, "N/A", "N/A")
        date = f"<LastUsedDate>{_wire_date(date)}</LastUsedDate>" if date else ""
        return self.xml_result("GetAccessKeyLastUsed", (
            f"<UserName>{escape(owner)}</UserName><AccessKeyLastUsed>{date}"
            f"<ServiceName>{escape(service)}</ServiceName><Region>{escape(region)}</Region></AccessKeyLastUsed>"))


# The account GetCallerIdentity names.
STS_ACCOUNT = "123456789012"


class RotationIAM(FakeIAM):
    """FakeIAM whose new keys are created now, and which answers GetCallerIdentity for the keys
    it issued, refusing each new key's first `refusals` calls with InvalidClientTokenId."""

    refusals = 0

    def reset(self):
        super().reset()
        self.refused = {}

    def _create(self, user, access_key_id=None):
        key = super()._create(user, access_key_id)
        key.created = datetime.datetime.now(datetime.timezone.utc)
        return key

    def age(self, user, access_key_id, days):
        with self.lock:
            for k in self.users[user]:
                if k.access_key_id == access_key_id:
                    k.created = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)

    def answer(self, request):
        if request.action != "GetCallerIdentity":
            return super().answer(request)
        with self.lock:
            owner = next((u for u, keys in self.users.items() for k in keys
                          if k.access_key_id == request.access_key and k.status == "Active"), None)
            refused = self.refused.get(request.access_key, 0)
            if owner is not None and refused < self.refusals:
                self.refused[request.access_key] = refused + 1
                owner = None
        if owner is None:
            return self.xml_error(403, "InvalidClientTokenId", "The security token included in the request is "
                                  "invalid.", namespace=STS_NS)
        result = (element("Arn", f"arn:aws:iam::{STS_ACCOUNT}:user/{owner}") + element("UserId", "AIDAFAKE")
                  + element("Account", STS_ACCOUNT))
        return self.xml_result("GetCallerIdentity", result, namespace=STS_NS)
