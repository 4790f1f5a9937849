"""One S3 HEAD request, signed (AWS Signature Version 4) with the standard library alone.

Opening the published marts or search index of an S3 lake costs one HEAD (is the local copy still the published
object?). Through boto3 that HEAD paid ~0.3 s of imports and client set-up in every fresh `paperlake sql` process, two
thirds of the whole command; signed here it costs the request. It is a fast path only: for explicit keys without a
proxy (see `signed_head_possible`), and answering only "this ETag" (200) or "absent" (404). Any other outcome (a
refusal, a redirect to the bucket's region, throttling, a server or connection error) is left to boto3, which then
answers, retries or fails as it always did.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"
# Set, they send boto3's requests through a proxy: the HEAD is then boto3's.
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
TIMEOUT_SECONDS = 30
# What head_etag returns when boto3 must do the HEAD.
UNANSWERED = object()


def signed_head_possible(options) -> bool:
    """Whether `head_etag` can do the HEAD for these S3Options: keys given explicitly (else boto3's credential chain,
    with its profiles and instance roles, finds them) and no proxy configured (boto3 honours PROXY_VARIABLES)."""
    return bool(options.access_key_id and options.secret_access_key) and not any(
        os.environ.get(name) for name in PROXY_VARIABLES
    )


def head_etag(options, bucket: str, key: str):
    """The ETag of s3://bucket/key (path-style addressing, as the lake's boto3 client uses), None when it does not
    exist, UNANSWERED on any other outcome of one signed HEAD."""
    import http.client

    url = f"{object_base_url(options)}/{quote(bucket, safe='')}/{quote(key, safe='/')}"
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=TIMEOUT_SECONDS, context=tls_context())
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_SECONDS)
    try:
        # the Host header given, so that it is sent exactly as signed (http.client drops a default port)
        connection.request("HEAD", parts.path, headers=signed_headers(options, parts.netloc, parts.path))
        response = connection.getresponse()
        status, etag = response.status, response.getheader("ETag")
    except (OSError, http.client.HTTPException):
        return UNANSWERED
    finally:
        connection.close()
    if status == 200 and etag:
        return etag
    return None if status == 404 else UNANSWERED


def tls_context():
    """Certificates checked as botocore checks them: against AWS_CA_BUNDLE when set, else certifi's bundle."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or certifi.where())


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
