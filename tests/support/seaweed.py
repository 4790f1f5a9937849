"""The tests' SeaweedFS S3 server: the same start/stop code the stack uses (deploy/seaweed.py)."""

from deploy.processes import free_ports
from deploy.seaweed import ACCESS_KEY, PORT_FLAGS, SECRET_KEY, SeaweedServer
from paperlake.config import S3Options

__all__ = ["ACCESS_KEY", "PORT_FLAGS", "SECRET_KEY", "SeaweedServer", "free_ports", "s3_options"]


def s3_options(server: SeaweedServer, secret_access_key: str | None = None) -> S3Options:
    """The lake's S3 options for `server`: its endpoint and keys (or another secret, to be refused)."""
    return S3Options(
        endpoint_url=server.endpoint_url,
        access_key_id=server.env["AWS_ACCESS_KEY_ID"],
        secret_access_key=secret_access_key or server.env["AWS_SECRET_ACCESS_KEY"],
    )
