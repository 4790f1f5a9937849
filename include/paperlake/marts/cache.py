"""The marts published on S3, kept as a local copy that is downloaded again only when the published file changed.

The copy is paired with the ETag of the object it came from (`<file>.etag` beside it): opening the marts
costs one HEAD while the published file is unchanged. The ETag is always the one S3 returned with the
bytes (by the GET that fetched them, or the PUT that sent them), and it is removed before the copy is
replaced, so a copy is never taken for a version it is not.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from paperlake.storage import S3Store, is_missing


class S3MartsCache:
    """The published marts object `key` of an S3 lake, and its local copy in `folder`."""

    def __init__(self, store: S3Store, key: str, folder: Path):
        self.store = store
        self.key = key
        self.path = folder / Path(key).name
        self.etag_path = self.path.with_name(self.path.name + ".etag")

    def local_copy(self) -> Path | None:
        """The local copy of the published file, downloaded first if the published one changed; None when none is
        published."""
        published = self.published_etag()
        if published is None:
            return None
        if not (self.path.is_file() and self.cached_etag() == published):
            self.download()
        return self.path

    def publish(self, path: Path) -> None:
        """Upload a new marts file in one PUT (readers see the old object or the new one), then keep it as the local
        copy."""
        with open(path, "rb") as body:
            etag = self.store.client.put_object(Bucket=self.store.bucket, Key=self.object_key, Body=body)["ETag"]
        self.adopt(path, etag)

    @property
    def object_key(self) -> str:
        return self.store._key(self.key)

    def published_etag(self) -> str | None:
        """The ETag of the published object (one HEAD), None when there is none."""
        from botocore.exceptions import ClientError

        try:
            return self.store.client.head_object(Bucket=self.store.bucket, Key=self.object_key)["ETag"]
        except ClientError as err:
            if is_missing(err):
                return None
            raise

    def cached_etag(self) -> str | None:
        return self.etag_path.read_text() if self.etag_path.is_file() else None

    def download(self) -> None:
        """Fetch the published file into a temp file beside the copy, then make it the copy under the ETag it came
        with."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        response = self.store.client.get_object(Bucket=self.store.bucket, Key=self.object_key)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response["Body"].iter_chunks(1 << 20):
                    out.write(chunk)
            self.adopt(Path(tmp), response["ETag"])
        finally:
            Path(tmp).unlink(missing_ok=True)

    def adopt(self, path: Path, etag: str) -> None:
        """Make `path` (in the same folder's file system) the local copy of the object version `etag`."""
        self.etag_path.unlink(missing_ok=True)
        os.replace(path, self.path)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.etag_path.name}.", dir=self.path.parent)
        with os.fdopen(fd, "w") as out:
            out.write(etag)
        os.replace(tmp, self.etag_path)
