"""A recording STS stand-in on 127.0.0.1, for what moto cannot show: what the module actually
sends (headers, form fields, the signing scope) and whether it sends anything at all.

It answers every POST with a fixed GetSessionToken response whose expiration has fractional
seconds, and remembers each request.
"""

from fake_aws import FakeAWS

ACCESS_KEY = "ASIAFAKESTSEXAMPLE01"
SECRET_KEY = "fakeSTSsecret/Returned+Key0000000000000"
SESSION_TOKEN = "FwoGZXIvYXdzEFakeSessionTokenFromTheRecordingServer//////////"
EXPIRATION_WIRE = "2031-02-03T04:05:06.789Z"
EXPIRATION = "2031-02-03T04:05:06+00:00"
REQUEST_ID = "58c5dbae-abef-11e0-8cfe-09039844ac7d"

RESPONSE = f"""<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetSessionTokenResult>
    <Credentials>
      <SessionToken>{SESSION_TOKEN}</SessionToken>
      <SecretAccessKey>{SECRET_KEY}</SecretAccessKey>
      <Expiration>{EXPIRATION_WIRE}</Expiration>
      <AccessKeyId>{ACCESS_KEY}</AccessKeyId>
    </Credentials>
  </GetSessionTokenResult>
  <ResponseMetadata>
    <RequestId>{REQUEST_ID}</RequestId>
  </ResponseMetadata>
</GetSessionTokenResponse>
"""


class FakeSTS(FakeAWS):
    request_id = REQUEST_ID

    def answer(self, request):
        return self.xml(200, RESPONSE)
