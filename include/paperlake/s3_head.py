"""One S3 HEAD request, signed (AWS Signature Version 4) with the standard library alone.

Opening the published marts or search index of an S3 lake costs one HEAD (is the local copy still the published
object?). Through boto3 that HEAD paid ~0.3 s of imports and client set-up in every fresh `paperlake sql` process, two
thirds of the whole command; signed here it costs the request. Only the plain case is handled here: explicit keys, no
proxy (see `signed_head_possible`); otherwise boto3 does the HEAD.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from paperlake.errors import PaperlakeError

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"
# Set, they send boto3's requests through a proxy: the HEAD is then boto3's.
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
ATTEMPTS = 3  # on a connection error or a 5xx answer (boto3 also retries those)
RETRY_SECONDS = 0.2
TIMEOUT_SECONDS = 30


class S3HeadError(PaperlakeError):
    """The HEAD got an answer other than 200 or 404 (refused credentials, a server error after the retries), or no
    answer; `code` names it as boto3 would (the HTTP status of a HEAD, or EndpointConnectionError)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def signed_head_possible(options) -> bool:
    """Whether `head_etag` can do the HEAD for these S3Options: keys given explicitly (else boto3's credential chain,
    with its profiles and instance roles, finds them) and no proxy configured (boto3 honours PROXY_VARIABLES)."""
    return bool(options.access_key_id and options.secret_access_key) and not any(
        os.environ.get(name) for name in PROXY_VARIABLES
    )


def head_etag(options, bucket: str, key: str) -> str | None:
    """The ETag of s3://bucket/key (path-style addressing, as the lake's boto3 client uses), None when it does not
    exist; S3HeadError on any other answer."""
    import http.client

    url = f"{object_base_url(options)}/{quote(bucket, safe='')}/{quote(key, safe='/')}"
    parts = urlsplit(url)
    attempt = 1
    while True:
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.netloc, timeout=TIMEOUT_SECONDS, context=tls_context())
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_SECONDS)
        try:
            # the Host header given, so that it is sent exactly as signed (http.client drops a default port)
            connection.request("HEAD", parts.path, headers=signed_headers(options, parts.netloc, parts.path))
            response = connection.getresponse()
            status, etag = response.status, response.getheader("ETag")
        except OSError as err:
            status, etag, failure = None, None, err
        finally:
            connection.close()
        if status == 200:
            return etag
        if status == 404:
            return None
        if (status is not None and status < 500) or attempt == ATTEMPTS:
            if status is None:
                raise S3HeadError(f"HEAD {url}: {failure}", "EndpointConnectionError") from failure
            raise S3HeadError(f"HEAD {url}: HTTP {status}", str(status))
        time.sleep(RETRY_SECONDS * attempt)
        attempt += 1


def tls_context():
    """Certificates checked as boto3 checks them: against AWS_CA_BUNDLE when set, else the system's."""
    import ssl

    return ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)


def object_base_url(options) -> str:
    """The endpoint the requests go to: the configured one, else AWS's regional endpoint."""
    return (options.endpoint_url or f"https://s3.{options.region}.amazonaws.com").rstrip("/")


def signed_headers(options, host: str, path: str, now: datetime | None = None) -> dict[str, str]:
    """The headers of a HEAD of `path` on `host`, signed with the options' keys for their region (SigV4, the payload
    empty, no query string)."""
    now = now or datetime.now(timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    canonical = "\n".join(
        [
            "HEAD",
            path,
            "",
            f"host:{host}",
            f"x-amz-content-sha256:{EMPTY_PAYLOAD_SHA256}",
            f"x-amz-date:{stamp}",
            "",
            SIGNED_HEADERS,
            EMPTY_PAYLOAD_SHA256,
        ]
    )
    scope = f"{day}/{options.region}/s3/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing_key = f"AWS4{options.secret_access_key}".encode()
    for part in (day, options.region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Host": host,
        "x-amz-date": stamp,
        "x-amz-content-sha256": EMPTY_PAYLOAD_SHA256,
        "Authorization": (
            f"{ALGORITHM} Credential={options.access_key_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, "
            f"Signature={signature}"
        ),
    }
