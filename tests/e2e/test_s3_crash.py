"""Crash safety of S3 uploads: kill -9 of mercatod in the middle of a 200 MiB streamed PUT
and of a multipart upload leaves no partial object, and every acknowledged object reads
back intact after a restart."""

import hashlib
import os
import socket
import unittest
from http import client as http_client

from boto3.s3.transfer import TransferConfig

import harness

MIB = 1024 * 1024
BUCKET = "crash-test"


class S3CrashTest(unittest.TestCase):
    def setUp(self):
        self.m = harness.Mercatod()
        self.addCleanup(self.m.close)
        self.creds = self.m.create_account("crasher")
        self.s3 = self.m.s3_client(self.creds)
        self.s3.create_bucket(Bucket=BUCKET)
        self.acked = {}  # key -> sha256 of what the server acknowledged

    def put_acked(self, key, data):
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        self.acked[key] = hashlib.sha256(data).hexdigest()

    def stream_put_then_kill(self, key, total, kill_after):
        """Streams a PUT of `total` bytes (UNSIGNED-PAYLOAD, from a generator) and kills
        mercatod with SIGKILL after `kill_after` bytes went out."""
        path = f"/{BUCKET}/{key}"
        headers = self.m.signed_headers(self.creds, "PUT", path, b"",
                                        {"Content-Type": "application/octet-stream"},
                                        unsigned_payload=True)
        conn = http_client.HTTPConnection("127.0.0.1", self.m.port, timeout=60)
        conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(total))
        conn.endheaders()

        def chunks():
            block = os.urandom(MIB)
            for _ in range(total // MIB):
                yield block

        sent = 0
        try:
            for chunk in chunks():
                if sent >= kill_after:
                    self.m.kill9()
                conn.send(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            pass
        finally:
            conn.close()
        self.m.kill9()
        self.assertLess(sent, total)

    def restart(self):
        self.m.start()  # same data dir
        self.s3 = self.m.s3_client(self.creds)

    def assert_acked_intact(self):
        listed = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            listed += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(sorted(listed), sorted(self.acked))
        for key, digest in self.acked.items():
            body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            self.assertEqual(hashlib.sha256(body).hexdigest(), digest, key)

    def test_kill9_during_streamed_put(self):
        self.put_acked("before/small", os.urandom(1000))
        self.put_acked("before/medium", os.urandom(3 * MIB + 17))
        self.put_acked("victim", b"the previous version must survive")
        self.stream_put_then_kill("victim", 200 * MIB, kill_after=64 * MIB)
        self.restart()
        self.assert_acked_intact()
        self.assertEqual(self.s3.get_object(Bucket=BUCKET, Key="victim")["Body"].read(),
                         b"the previous version must survive")
        # The server is fully usable after the crash.
        self.put_acked("after", os.urandom(2 * MIB))
        self.assert_acked_intact()

    def test_kill9_during_multipart_upload(self):
        src = os.path.join(self.m.tmp, "acked.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(12 * MIB))
        self.s3.upload_file(src, BUCKET, "acked-multipart", Config=TransferConfig(
            multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
        with open(src, "rb") as f:
            self.acked["acked-multipart"] = hashlib.sha256(f.read()).hexdigest()

        upload = self.s3.create_multipart_upload(Bucket=BUCKET, Key="partial")["UploadId"]
        for n in (1, 2):
            self.s3.upload_part(Bucket=BUCKET, Key="partial", UploadId=upload, PartNumber=n,
                                Body=os.urandom(5 * MIB))
        # Part 3 is cut off by the crash.
        path_query = f"partNumber=3&uploadId={upload}"
        headers = self.m.signed_headers(self.creds, "PUT", f"/{BUCKET}/partial", b"",
                                        query=path_query, unsigned_payload=True)
        conn = http_client.HTTPConnection("127.0.0.1", self.m.port, timeout=60)
        conn.putrequest("PUT", f"/{BUCKET}/partial?{path_query}", skip_host=True,
                        skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(200 * MIB))
        conn.endheaders()
        try:
            for _ in range(32):
                conn.send(os.urandom(MIB))
        except OSError:
            pass
        self.m.kill9()
        conn.close()

        self.restart()
        self.assert_acked_intact()
        self.assertS3Error404("partial")
        # The interrupted upload can still be aborted (or completed) after the restart.
        parts = self.s3.list_parts(Bucket=BUCKET, Key="partial", UploadId=upload)
        self.assertEqual([p["PartNumber"] for p in parts.get("Parts", [])], [1, 2])
        self.s3.abort_multipart_upload(Bucket=BUCKET, Key="partial", UploadId=upload)
        self.assert_acked_intact()

    def assertS3Error404(self, key):
        import botocore.exceptions
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=BUCKET, Key=key)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)


if __name__ == "__main__":
    unittest.main()
