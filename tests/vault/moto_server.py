"""moto's S3 server on loopback, with its signature check fixed for query strings.

Usage: moto_server.py PORT

moto (5.x) checks SigV4 signatures against the request URI after the web framework decoded
it, so a signed `delimiter=%2F` is re-signed as `delimiter=/` and every list with a delimiter
or a prefix holding `/` fails with SignatureDoesNotMatch even with the right key
(getmoto/moto#5948). Re-encoding the query the way SigV4 does before the check restores
real behaviour: right key -> 200, wrong secret -> SignatureDoesNotMatch, unknown key ->
InvalidAccessKeyId.
"""
import sys
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from moto.core import authorization
from moto.server import main

original = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def sigv4_query(uri):
    parts = urlsplit(uri)
    if not parts.query:
        return uri
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
    return urlunsplit(parts._replace(query=query))


def patched(self, iam_request_cls, resource="*"):
    uri = self.uri
    self.uri = sigv4_query(uri)
    try:
        return original(self, iam_request_cls, resource)
    finally:
        self.uri = uri


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = patched
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
