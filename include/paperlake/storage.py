"""Object stores behind the lake: a local folder or an S3 bucket, each with atomic whole-object writes."""

from __future__ import annotations

import functools
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlparse

from paperlake.config import S3Options
from paperlake.errors import PaperlakeError
from paperlake.marts.published import sql_literal
from paperlake.s3_head import UNANSWERED, head_etag, signed_head_possible

TEMP_SUFFIX = ".tmp"
# A temp file older than this belongs to a writer that was killed: no single write takes an hour.
TEMP_FILE_MAX_AGE = timedelta(hours=1)


class Store(Protocol):
    """Keys are '/'-separated paths below the lake root."""

    url: str

    def put(self, key: str, data: bytes) -> None: ...
    def put_if_absent(self, key: str, data: bytes) -> None: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def writing(self, key: str) -> Iterator[Path]: ...
    def get(self, key: str) -> bytes: ...
    def open_read(self, key: str) -> Iterator[BinaryIO]: ...
    def get_file(self, key: str, path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def stat(self, key: str) -> tuple[int, float]: ...
    def list(self, prefix: str) -> list[str]: ...
    def list_modified(self, prefix: str) -> dict[str, float]: ...
    def sweep_temp(self, prefix: str, older_than: float) -> int: ...
    def delete(self, keys: list[str]) -> None: ...
    def uri(self, key: str) -> str: ...
    def published_copy(self, key: str, cache: Path) -> Path | None: ...
    def new_file_path(self, key: str, cache: Path) -> Path: ...
    def publish_file(self, key: str, path: Path, cache: Path) -> None: ...
    def drop_local_copy(self, key: str, cache: Path) -> None: ...
    def delta_options(self) -> dict[str, str] | None: ...
    def let_duckdb_read(self, con) -> None: ...


class LocalStore:
    """A folder; writes go to a temp file in the target folder, then `os.replace` (atomic on POSIX)."""

    def __init__(self, root: Path):
        self.root = root
        self.url = root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        self._replace_with(key, lambda f: f.write(data))

    def put_if_absent(self, key: str, data: bytes) -> None:
        """Create `key` with `data` unless it exists (FileExistsError): a hard link is atomic and exclusive."""
        self._replace_with(key, lambda f: f.write(data), publish=os.link)

    def put_file(self, key: str, path: Path) -> None:
        with open(path, "rb") as src:
            self._replace_with(key, lambda f: _copy_stream(src, f))

    def _replace_with(self, key: str, write, publish=os.replace) -> None:
        with self.writing(key, publish) as tmp, open(tmp, "wb") as f:
            write(f)

    @contextmanager
    def writing(self, key: str, publish=os.replace) -> Iterator[Path]:
        """A temp file beside `key` to write: published when the block ends, dropped if it raises.

        `sweep_temp` removes it if the writer is killed."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            _sync_and_place(tmp, target, publish)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        """The object as a seekable binary file, read on demand."""
        with open(self._path(key), "rb") as f:
            yield f

    def get_file(self, key: str, path: Path) -> None:
        LocalStore(path.parent).put_file(path.name, self._path(key))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stat(self, key: str) -> tuple[int, float]:
        """(size in bytes, last-modified epoch seconds) of an object; FileNotFoundError when absent."""
        info = self._path(key).stat()
        return info.st_size, info.st_mtime

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        # os.walk, not Path.rglob: a third of the time over the ~2,000 commit folders every marts build lists
        keys = []
        for folder, _, files in os.walk(base):
            folder_key = Path(folder).relative_to(self.root).as_posix()
            keys.extend(
                name if folder_key == "." else f"{folder_key}/{name}" for name in files if not name.startswith(".")
            )
        return sorted(keys)

    def list_modified(self, prefix: str) -> dict[str, float]:
        """key -> last-modified time (epoch seconds) of every object below `prefix`."""
        return {key: self._path(key).stat().st_mtime for key in self.list(prefix)}

    def sweep_temp(self, prefix: str, older_than: float) -> int:
        """Delete temp files a killed writer left below `prefix` before `older_than` (epoch); returns how many."""
        base = self._path(prefix)
        stale = (
            [p for p in base.rglob(f".*{TEMP_SUFFIX}") if p.is_file() and p.stat().st_mtime < older_than]
            if base.is_dir()
            else []
        )
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def published_copy(self, key: str, cache: Path) -> Path | None:
        """A local path to the published file `key`: the file itself; None when none is published."""
        path = self._path(key)
        return path if path.is_file() else None

    def new_file_path(self, key: str, cache: Path) -> Path:
        """Where to write the next version of `key` for `publish_file`: a hidden temp path beside it (publishing is
        then a rename, not a copy)."""
        return fresh_temp_path(self._path(key).parent, Path(key).name)

    def publish_file(self, key: str, path: Path, cache: Path) -> None:
        """Make the finished file `path` (on the lake's file system) the published `key`: synced, then one rename."""
        self._path(key).parent.mkdir(parents=True, exist_ok=True)
        _sync_and_place(path, self._path(key))

    def drop_local_copy(self, key: str, cache: Path) -> None:
        """Forget the local copy of a deleted `key`: a folder's files are read in place, so there is none."""

    def delta_options(self) -> dict[str, str] | None:
        """delta-rs object-store options: none for a local folder."""
        return None

    def let_duckdb_read(self, con) -> None:
        """Let the DuckDB connection `con` read the store's files: it reads local paths already."""


@contextmanager
def settling_copy(original: Path, copy: Path) -> Iterator[None]:
    """While the block updates `copy`, a fresh copy of `original` that is to replace it, a thread writes the copy's
    pages to disk and drops the original's from the page cache (the block's end waits for it, and raises its error).

    No fsync then waits for the whole copy, and the rename that replaces the original frees its blocks only, not its
    cached pages as well (publishing a 630 MB marts file: 0.2 s, 0.1 s after this). A reader still holding the
    original open reads it from disk instead; an original gone meanwhile has nothing to drop, and a system without
    `posix_fadvise` (macOS) keeps the pages cached."""
    from concurrent.futures import ThreadPoolExecutor

    def settle() -> None:
        with open(copy, "rb") as f:
            os.fsync(f.fileno())
        if not hasattr(os, "posix_fadvise"):
            return
        with suppress(FileNotFoundError), open(original, "rb") as f:
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    with ThreadPoolExecutor(1) as pool:
        settled = pool.submit(settle)
        yield
        settled.result()


def _sync_and_place(tmp: Path, target: Path, publish=os.replace) -> None:
    """Put the finished file `tmp` at `target` of a folder store: synced to disk, readable by all, then one rename
    (`publish`)."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    publish(tmp, target)


class S3Store:
    """An S3 bucket/prefix; every write is one PUT, so readers see the old object or the new one."""

    def __init__(self, bucket: str, prefix: str, options: S3Options, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.options = options
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        if client is not None:
            self.client = client

    @functools.cached_property
    def client(self):
        """The boto3 client, made when first used (a reader whose one request is a signed HEAD never pays for it)."""
        return make_s3_client(self.options)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def put_if_absent(self, key: str, data: bytes) -> None:
        """Create `key` unless it exists (FileExistsError): an S3 conditional write, `If-None-Match: *`."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "412",
                "409",
            ):
                raise FileExistsError(self.uri(key)) from None
            raise

    def put_file(self, key: str, path: Path) -> None:
        # upload_file switches to multipart above 8 MB: the object still appears only when complete.
        self.client.upload_file(str(path), self.bucket, self._key(key))

    @contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """A local temp file to write; uploaded in one `put_file` when the block ends, never if it raises."""
        fd, name = tempfile.mkstemp(prefix=f".{Path(key).name}.", suffix=TEMP_SUFFIX)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            self.put_file(key, tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(self.uri(key)) from None

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        """The object downloaded to a local temp file (not into memory), as a seekable binary file."""
        from botocore.exceptions import ClientError

        with tempfile.TemporaryFile(suffix=TEMP_SUFFIX) as f:
            try:
                self.client.download_fileobj(self.bucket, self._key(key), f)
            except ClientError as err:
                if is_missing(err):
                    raise FileNotFoundError(self.uri(key)) from None
                raise
            f.seek(0)
            yield f

    def get_file(self, key: str, path: Path) -> None:
        LocalStore(path.parent).put(path.name, self.get(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as err:
            if is_missing(err):
                return False
            raise

    def stat(self, key: str) -> tuple[int, float]:
        """(size in bytes, last-modified epoch seconds) of an object; FileNotFoundError when absent."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            if is_missing(err):
                raise FileNotFoundError(self.uri(key)) from None
            raise
        return head["ContentLength"], head["LastModified"].timestamp()

    def list(self, prefix: str) -> list[str]:
        return sorted(self.list_modified(prefix))

    def list_modified(self, prefix: str) -> dict[str, float]:
        """key -> last-modified time (epoch seconds) of every object below `prefix`."""
        full = self._key(prefix).rstrip("/") + "/"
        strip = len(self.prefix) + 1 if self.prefix else 0
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
            found.update({obj["Key"][strip:]: obj["LastModified"].timestamp() for obj in page.get("Contents", [])})
        return found

    def sweep_temp(self, prefix: str, older_than: float) -> int:
        """Every S3 write is one PUT or a multipart upload that appears whole: no temp objects to sweep."""
        return 0

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self._key(k)} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def published_copy(self, key: str, cache: Path) -> Path | None:
        """A local path to the published file `key`: its copy in `cache`, downloaded only when the object changed;
        None when none is published."""
        return S3LocalCopy(self, key, cache).local_copy()

    def new_file_path(self, key: str, cache: Path) -> Path:
        """Where to write the next version of `key` for `publish_file`: a hidden temp path in `cache`, which then
        becomes the local copy readers open."""
        return fresh_temp_path(cache, Path(key).name)

    def publish_file(self, key: str, path: Path, cache: Path) -> None:
        """Upload the finished file `path` as `key` in one PUT, then keep it in `cache` as the local copy."""
        S3LocalCopy(self, key, cache).publish(path)

    def drop_local_copy(self, key: str, cache: Path) -> None:
        """Delete the copy of a deleted `key` from `cache` (and its ETag)."""
        copy = S3LocalCopy(self, key, cache)
        for path in (copy.path, copy.etag_path):
            path.unlink(missing_ok=True)

    def delta_options(self) -> dict[str, str] | None:
        """delta-rs object-store options for the bucket (credentials, region, endpoint)."""
        key, secret = s3_credentials(self.options)
        options = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": self.options.region}
        if self.options.endpoint_url:
            options |= {
                "AWS_ENDPOINT_URL": self.options.endpoint_url,
                "AWS_ALLOW_HTTP": str(self.options.endpoint_url.startswith("http://")).lower(),
                "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
            }
        return options

    def let_duckdb_read(self, con) -> None:
        """Let the DuckDB connection `con` read the bucket: httpfs loaded from its PyPI package (no download) and the
        credentials registered as a temporary secret.

        The S3 credentials httpfs copies from the AWS_* variables into its settings when it loads, where
        `current_setting()` and `duckdb_settings()` would show them, are blanked: the secret is what reads.
        """
        from duckdb_extensions import import_extension

        import_extension("httpfs", con=con)
        con.execute("LOAD httpfs")
        key, secret = s3_credentials(self.options)
        params = {"KEY_ID": key, "SECRET": secret, "REGION": self.options.region}
        if self.options.endpoint_url:
            endpoint = urlparse(self.options.endpoint_url)
            params |= {"ENDPOINT": endpoint.netloc, "URL_STYLE": "path", "USE_SSL": endpoint.scheme == "https"}
        con.execute(
            "CREATE OR REPLACE TEMPORARY SECRET paperlake_s3 (TYPE s3, "
            + ", ".join(f"{k} {v}" if isinstance(v, bool) else f"{k} {sql_literal(str(v))}" for k, v in params.items())
            + ")"
        )
        for setting in ("s3_access_key_id", "s3_secret_access_key", "s3_session_token"):
            con.execute(f"SET {setting} = ''")


def is_missing(err) -> bool:
    """Whether a botocore ClientError says the object does not exist (GET and HEAD spell it differently)."""
    return err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def s3_credentials(options: S3Options) -> tuple[str, str]:
    """(access key id, secret) from the options, else from boto3's own chain (environment, profile, instance role)."""
    if options.access_key_id and options.secret_access_key:
        return options.access_key_id, options.secret_access_key
    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise PaperlakeError(
            "no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an Airflow aws connection"
        )
    frozen = credentials.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key


def make_s3_client(options: S3Options):
    """A boto3 S3 client; path-style addressing so SeaweedFS/MinIO endpoints work."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=options.endpoint_url,
        aws_access_key_id=options.access_key_id,
        aws_secret_access_key=options.secret_access_key,
        region_name=options.region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
    )


def open_store(url: str, s3: S3Options) -> Store:
    """The store for a lake URL: `file:///abs/path`, a plain path, or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"PAPERLAKE_LAKE_URL {url!r} names no bucket; use s3://bucket/prefix")
        return S3Store(parsed.netloc, parsed.path, s3)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(
                f"PAPERLAKE_LAKE_URL {url!r} names the host {parsed.netloc!r}: a file:// lake is a folder on this "
                "machine, file:///path"
            )
        return LocalStore(Path(unquote(parsed.path)).resolve())  # file:///a%20b is the folder "a b"
    if parsed.scheme == "":
        return LocalStore(Path(url).resolve())
    raise ValueError(f"PAPERLAKE_LAKE_URL {url!r}: unsupported scheme {parsed.scheme!r} (use file:// or s3://)")


def _copy_stream(src, dst, chunk: int = 1 << 20) -> None:
    while block := src.read(chunk):
        dst.write(block)


def fresh_temp_path(folder: Path, name: str) -> Path:
    """A new hidden temp path for a file `name` in `folder`, with no file there yet (DuckDB creates its own file).

    Temp files of `name` older than `TEMP_FILE_MAX_AGE` in `folder` (and their DuckDB WALs) were left by a killed
    writer: they are deleted first. Only this folder is looked at, not the files below it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - TEMP_FILE_MAX_AGE.total_seconds()
    for stale in folder.glob(f".{name}.*{TEMP_SUFFIX}*"):
        try:
            if stale.is_file() and stale.stat().st_mtime < cutoff:  # not DuckDB's spill folder `<file>.tmp`
                stale.unlink()
        except FileNotFoundError:  # another writer's sweep took it first
            pass
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


@contextmanager
def file_to_publish(store: Store, key: str, cache: Path) -> Iterator[Path]:
    """A local path (no file there yet) to write the next version of `key` at, then hand to `store.publish_file`.

    Whatever is still at the path when the block ends (a build that failed or was not published), and the DuckDB WAL
    beside it, is removed.
    """
    path = store.new_file_path(key, cache)
    try:
        yield path
    finally:
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)


class S3LocalCopy:
    """The published object `key` of an S3 lake (the marts file, a search segment) and its local copy in `folder`.

    The copy is paired with the ETag of the object it came from (`<file>.etag` beside it): opening it costs one HEAD
    while the published object is unchanged. The ETag is always the one S3 returned with the bytes (by the GET that
    fetched them, or the PUT that sent them), and it is removed before the copy is replaced, so a copy is never taken
    for a version it is not.
    """

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
        """Upload a new file in one PUT (readers see the old object or the new one), then keep it as the local
        copy."""
        with open(path, "rb") as body:
            etag = self.store.client.put_object(Bucket=self.store.bucket, Key=self.object_key, Body=body)["ETag"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.adopt(path, etag)

    @property
    def object_key(self) -> str:
        return self.store._key(self.key)

    def published_etag(self) -> str | None:
        """The ETag of the published object (one HEAD), None when there is none."""
        # a store whose boto3 client exists already (given, or made by an earlier request) sends the HEAD with it
        if signed_head_possible(self.store.options) and "client" not in vars(self.store):
            etag = head_etag(self.store.options, self.store.bucket, self.object_key)
            if etag is not UNANSWERED:
                return etag
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
