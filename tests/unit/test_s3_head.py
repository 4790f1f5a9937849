"""The signed S3 HEAD a reader of an S3 lake opens the published marts with: signed as botocore signs it, answered by a
real S3 server (SeaweedFS checks the signature), and the only S3 request of a fresh `paperlake sql` while its local
copy is current."""

import subprocess
import sys
from datetime import datetime, timezone

import pytest

from paperlake.config import S3Options
from paperlake.s3_head import PROXY_VARIABLES, UNANSWERED, head_etag, signed_head_possible, signed_headers
from paperlake.storage import S3Store
from tests.support.seaweed import s3_options

KEYS = ["marts/paperlake.duckdb", "lake/a b+c/ü=1/x~y.duckdb", "odd/key (1)&$@!'*,;.bin"]


@pytest.mark.parametrize("key", KEYS)
def test_the_head_is_signed_as_botocore_signs_it(key):
    from urllib.parse import quote, urlsplit

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    options = S3Options("http://127.0.0.1:8333", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-3")
    url = f"{options.endpoint_url}/bucket-1/{quote(key, safe='/')}"
    reference = AWSRequest(method="HEAD", url=url)
    S3SigV4Auth(Credentials(options.access_key_id, options.secret_access_key), "s3", options.region).add_auth(
        reference
    )
    when = datetime.strptime(reference.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    parts = urlsplit(url)
    ours = signed_headers(options, parts.netloc, parts.path, when)
    assert ours["Authorization"] == reference.headers["Authorization"]
    assert ours["x-amz-content-sha256"] == reference.headers["X-Amz-Content-SHA256"]


def test_a_real_s3_server_answers_the_signed_head_with_the_object_s_etag(seaweed, s3_bucket):
    client = seaweed.client()
    for number, key in enumerate(KEYS):
        client.put_object(Bucket=s3_bucket, Key=key, Body=f"version {number}".encode())
        assert head_etag(s3_options(seaweed), s3_bucket, key) == client.head_object(Bucket=s3_bucket, Key=key)["ETag"]
    assert head_etag(s3_options(seaweed), s3_bucket, "marts/none.duckdb") is None


def test_a_refused_signature_is_left_to_boto3_which_fails_as_before(seaweed, s3_bucket, tmp_path):
    from botocore.exceptions import ClientError

    seaweed.client().put_object(Bucket=s3_bucket, Key=f"lake/{KEYS[0]}", Body=b"x")
    wrong = s3_options(seaweed, secret_access_key="not-the-secret")
    assert head_etag(wrong, s3_bucket, f"lake/{KEYS[0]}") is UNANSWERED
    with pytest.raises(ClientError) as refused:
        S3Store(s3_bucket, "lake", wrong).published_copy(KEYS[0], tmp_path / "cache")
    assert refused.value.response["Error"]["Code"] == "403"


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_boto3_does_the_head_without_explicit_keys_or_behind_a_proxy(monkeypatch, variable):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert signed_head_possible(S3Options(access_key_id="a", secret_access_key="b"))
    assert not signed_head_possible(S3Options())  # the credential chain (profiles, instance roles) is boto3's
    monkeypatch.setenv(variable, "http://proxy.example:3128")
    assert not signed_head_possible(S3Options(access_key_id="a", secret_access_key="b"))


@pytest.fixture
def answering_server(tmp_path):
    """start(status, headers, tls=False): an HTTP(S) server on 127.0.0.1 answering every HEAD so; its URL, and the
    self-signed certificate of a TLS one."""
    import http.server
    import ssl
    import threading

    servers = []

    def start(status: int, headers: dict[str, str], tls: bool = False):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cert = tmp_path / f"cert-{len(servers)}.pem"
        if tls:
            key = tmp_path / f"key-{len(servers)}.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True,
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", cert

    yield start
    for server in servers:
        server.shutdown()


def test_an_https_endpoint_s_certificate_is_checked_against_aws_ca_bundle(answering_server, monkeypatch):
    url, cert = answering_server(200, {"ETag": '"tls-etag"'}, tls=True)
    options = S3Options(endpoint_url=url, access_key_id="a", secret_access_key="b")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
    assert head_etag(options, "bucket", "marts/paperlake.duckdb") == '"tls-etag"'
    monkeypatch.delenv("AWS_CA_BUNDLE")  # certifi's certificates (botocore's default) do not vouch for it
    assert head_etag(options, "bucket", "marts/paperlake.duckdb") is UNANSWERED


@pytest.mark.parametrize(
    "status, headers",
    [
        (301, {"x-amz-bucket-region": "eu-west-3"}),  # the bucket is in another region: boto3 follows it there
        (503, {"Retry-After": "1"}),  # boto3 retries
        (429, {}),
        (200, {}),  # no ETag: not "absent"
    ],
)
def test_any_answer_but_an_etag_or_absent_is_left_to_boto3(answering_server, status, headers):
    url, _ = answering_server(status, headers)
    options = S3Options(endpoint_url=url, access_key_id="a", secret_access_key="b")
    assert head_etag(options, "bucket", "marts/paperlake.duckdb") is UNANSWERED


def test_no_answer_is_left_to_boto3():
    import socket

    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    assert head_etag(S3Options(url, "a", "b"), "bucket", "marts/paperlake.duckdb") is UNANSWERED


OPEN_AND_QUERY = (
    "import sys\n"
    "from paperlake.config import Settings\n"
    "from paperlake.readonly import open_marts_readonly\n"
    "print(open_marts_readonly(Settings.from_env()).execute('SELECT answer FROM facts').fetchone()[0])\n"
    "print('botocore' in sys.modules)\n"
)


def publish_answer(store, cache, answer: int) -> None:
    """Publish a marts file holding `answer` through `store`, keeping its local copy in `cache` (as a build does)."""
    import duckdb

    from paperlake.marts.published import MARTS_KEY
    from paperlake.storage import file_to_publish

    with file_to_publish(store, MARTS_KEY, cache) as path:
        with duckdb.connect(str(path)) as con:
            con.execute(f"CREATE TABLE facts AS SELECT {answer} AS answer")
        store.publish_file(MARTS_KEY, path, cache)


def test_a_fresh_reader_opens_the_current_local_copy_with_one_signed_head_and_no_boto3(seaweed, s3_bucket, tmp_path):
    env = {**seaweed.env, "PAPERLAKE_HOME": str(tmp_path / "home"), "PAPERLAKE_LAKE_URL": f"s3://{s3_bucket}/lake",
           "PAPERLAKE_S3_ENDPOINT_URL": seaweed.endpoint_url}

    def fresh_reader() -> list[str]:
        done = subprocess.run([sys.executable, "-c", OPEN_AND_QUERY], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    publish_answer(S3Store(s3_bucket, "lake", s3_options(seaweed)), tmp_path / "home" / "cache", 41)
    assert fresh_reader() == ["41", "False"]  # the copy the build kept is current: one HEAD, no boto3
    # another machine publishes a new version: the reader's HEAD sees it changed, and boto3 downloads it
    publish_answer(S3Store(s3_bucket, "lake", s3_options(seaweed)), tmp_path / "other cache", 42)
    assert fresh_reader() == ["42", "True"]
    assert fresh_reader() == ["42", "False"]
