"""An S3-compatible store through boto3: AWS, Backblaze B2, Wasabi, R2, MinIO, Garage, SeaweedFS, Ceph.

Credentials come the usual boto3 ways (AWS_* environment, ~/.aws, an instance role), never from
our settings. Signatures are V4 and addressing path-style, which every S3-compatible store takes.
Every upload carries a SHA-256 the store verifies (per part for a multipart upload); `stat` reads
back the store's own checksum, which `put`'s answer is compared with before a local copy goes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .base import Object, ObjectMissing, StoreError

log = logging.getLogger(__name__)

PART_SIZE = 64 << 20  # bytes per part of a multipart upload (S3 takes 5 MiB to 5 GiB)
_AUTH = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken",
         "ExpiredToken", "403"}
_THROTTLED = {"SlowDown", "503", "ServiceUnavailable", "RequestLimitExceeded", "Throttling"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


def parse_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://BUCKET/PREFIX`; StoreError when it is not one."""
    found = urlparse(url)
    if found.scheme != "s3" or not found.netloc:
        raise StoreError(f"archive {url!r}: give s3://BUCKET/PREFIX")
    return found.netloc, found.path.strip("/")


def reason(code: str, where: str) -> str:
    """Pure: one line on what an S3 error code means for us, and what to do."""
    if code == "NoSuchBucket":
        return f"{where}: the bucket does not exist (create it, or correct the archive setting)"
    if code in _AUTH:
        return (f"{where}: the store refused our credentials ({code}): check AWS_ACCESS_KEY_ID"
                " and AWS_SECRET_ACCESS_KEY (or ~/.aws) and the bucket's policy")
    if code in _THROTTLED:
        return f"{where}: the store is busy or throttling ({code}); it is tried again later"
    if code in ("EntityTooLarge", "QuotaExceeded", "InsufficientStorage", "507"):
        return f"{where}: the store is full or over quota ({code})"
    if code in ("InternalError", "500"):
        return (f"{where}: the store failed ({code}): it may be full or broken; its own log"
                " says which; tried again later")
    if code == "BadDigest":
        return f"{where}: the store received other bytes than were sent (BadDigest); tried again later"
    return f"{where}: the store answered {code}"


class S3Store:
    """One bucket and prefix on one endpoint."""

    def __init__(self, url: str, endpoint: str | None = None, part_size: int = PART_SIZE):
        self.bucket, self.prefix = parse_url(url)
        self.url = url.rstrip("/")
        self.endpoint = endpoint
        self.part_size = part_size
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint, config=Config(
            signature_version="s3v4", s3={"addressing_style": "path"},
            retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=60,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required"))

    @property
    def where(self) -> str:
        return f"store {self.url}" + (f" at {self.endpoint}" if self.endpoint else "")

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _call(self, what: str, fn, **kwargs):
        try:
            return fn(**kwargs)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code") or str(
                err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
            if code in _MISSING and what != "check":
                raise ObjectMissing(f"{kwargs.get('Key', '')} is missing from the {self.where}") from None
            if code in _MISSING:
                code = "NoSuchBucket"
            raise StoreError(f"{what}: " + reason(code, self.where)) from None
        except NoCredentialsError:
            raise StoreError(f"{what}: {self.where}: no credentials: set AWS_ACCESS_KEY_ID and"
                             " AWS_SECRET_ACCESS_KEY, or ~/.aws, or an instance role") from None
        except BotoCoreError as err:
            raise StoreError(f"{what}: {self.where} cannot be reached: {err}") from None

    def put(self, key: str, path: Path) -> Object:
        """Upload with a SHA-256 the store checks; the checksum the store should report back."""
        size = path.stat().st_size
        self._abort_stale(key)
        if size <= self.part_size:
            data = path.read_bytes()
            checksum = _b64(hashlib.sha256(data).digest())
            self._call("upload", self.client.put_object, Bucket=self.bucket, Key=key, Body=data,
                       ChecksumSHA256=checksum)
            return Object(size, checksum)
        return Object(size, self._multipart(key, path))

    def _multipart(self, key: str, path: Path) -> str:
        upload = self._call("upload", self.client.create_multipart_upload, Bucket=self.bucket,
                            Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
        parts, digests = [], []
        try:
            with open(path, "rb") as f:
                while data := f.read(self.part_size):
                    digest = hashlib.sha256(data).digest()
                    number = len(parts) + 1
                    answer = self._call("upload", self.client.upload_part, Bucket=self.bucket,
                                        Key=key, UploadId=upload, PartNumber=number, Body=data,
                                        ChecksumSHA256=_b64(digest))
                    parts.append({"PartNumber": number, "ETag": answer["ETag"],
                                  "ChecksumSHA256": _b64(digest)})
                    digests.append(digest)
            self._call("upload", self.client.complete_multipart_upload, Bucket=self.bucket,
                       Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
        except BaseException:
            self._quietly_abort(key, upload)
            raise
        return f"{_b64(hashlib.sha256(b''.join(digests)).digest())}-{len(digests)}"

    def _abort_stale(self, key: str) -> None:
        """Multipart uploads a killed move left for this key: their parts cost space."""
        try:
            found = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
        except (ClientError, BotoCoreError):
            return
        for upload in found.get("Uploads", []):
            if upload.get("Key") == key:
                self._quietly_abort(key, upload["UploadId"])

    def _quietly_abort(self, key: str, upload: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
        except (ClientError, BotoCoreError) as err:
            log.warning("%s: multipart upload of %s not aborted: %s", self.where, key, err)

    def stat(self, key: str) -> Object | None:
        try:
            found = self._call("read back", self.client.head_object, Bucket=self.bucket, Key=key,
                               ChecksumMode="ENABLED")
        except ObjectMissing:
            return None
        return Object(found["ContentLength"], found.get("ChecksumSHA256") or "")

    def read(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        found = self._call("read", self.client.get_object, Bucket=self.bucket, Key=key,
                           Range=f"bytes={offset}-{offset + length - 1}")
        try:
            return found["Body"].read()
        except BotoCoreError as err:
            raise StoreError(f"read: {self.where}: {err}") from None

    def stream(self, key: str, offset: int, length: int, block: int = 1 << 20):
        """The bytes of a range in blocks, for a proxied response: asked for now (an error is
        raised here, before any response begins), read as the iterator is."""
        found = self._call("read", self.client.get_object, Bucket=self.bucket, Key=key,
                           Range=f"bytes={offset}-{offset + length - 1}")
        return found["Body"].iter_chunks(block)

    def url_for(self, key: str, seconds: int) -> str:
        return self._call("sign", self.client.generate_presigned_url, ClientMethod="get_object",
                          Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds)

    def delete(self, key: str) -> None:
        self._call("delete", self.client.delete_object, Bucket=self.bucket, Key=key)

    def check(self) -> None:
        """StoreError saying why the bucket cannot be used now; None when it can."""
        self._call("check", self.client.head_bucket, Bucket=self.bucket)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
