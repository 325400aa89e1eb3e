"""S3 API end to end: boto3, s3transfer and the AWS CLI against a real mercatod."""

import concurrent.futures
import hashlib
import os
import tempfile
import unittest

import botocore.exceptions
from boto3.s3.transfer import TransferConfig

import harness

MIB = 1024 * 1024


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


class S3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = harness.Mercatod()
        cls.alice = cls.m.create_account("alice")
        cls.bob = cls.m.create_account("bob")
        cls.s3 = cls.m.s3_client(cls.alice)
        cls.tmp = tempfile.mkdtemp(prefix="mercato-s3-test-", dir=cls.m.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def assertS3Error(self, code, status, fn, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(*args, **kwargs)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)

    def bucket(self, name):
        self.s3.create_bucket(Bucket=name)
        return name

    def keys(self, bucket):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def test_create_bucket_and_list(self):
        self.bucket("created-bucket")
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertIn("created-bucket", names)
        self.s3.head_bucket(Bucket="created-bucket")
        self.assertS3Error("BucketAlreadyOwnedByYou", 409, self.s3.create_bucket,
                           Bucket="created-bucket")
        self.assertNotIn("created-bucket",
                         [b["Name"] for b in self.m.s3_client(self.bob).list_buckets()["Buckets"]])

    def test_multipart_upload_file_24mib(self):
        bucket = self.bucket("multipart")
        src = os.path.join(self.tmp, "big.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(24 * MIB))
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
        self.s3.upload_file(src, bucket, "data/big.bin", Config=config)
        head = self.s3.head_object(Bucket=bucket, Key="data/big.bin")
        self.assertEqual(head["ContentLength"], 24 * MIB)
        self.assertTrue(head["ETag"].endswith('-5"'), head["ETag"])
        dst = os.path.join(self.tmp, "big.out")
        self.s3.download_file(bucket, "data/big.bin", dst, Config=config)
        self.assertEqual(sha256_file(dst), sha256_file(src))
        # No upload is left in progress.
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])

    def test_ranged_get(self):
        bucket = self.bucket("ranges")
        data = bytes(range(256)) * 40
        self.s3.put_object(Bucket=bucket, Key="r", Body=data)
        r = self.s3.get_object(Bucket=bucket, Key="r", Range="bytes=100-199")
        self.assertEqual(r["Body"].read(), data[100:200])
        self.assertEqual(r["ContentRange"], f"bytes 100-199/{len(data)}")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="r", Range="bytes=-10")["Body"]
                         .read(), data[-10:])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="r", Range="bytes=10200-")["Body"]
                         .read(), data[10200:])
        self.assertS3Error("InvalidRange", 416, self.s3.get_object, Bucket=bucket, Key="r",
                           Range=f"bytes={len(data)}-")

    def test_list_objects_v2_prefix_delimiter_pagination(self):
        bucket = self.bucket("listing")
        keys = [f"logs/{i:04d}.txt" for i in range(1200)] + ["top.txt", "other/a", "other/b"]

        def put(key):
            self.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(put, keys))

        first = self.s3.list_objects_v2(Bucket=bucket, Prefix="logs/", MaxKeys=1000)
        self.assertEqual(first["KeyCount"], 1000)
        self.assertTrue(first["IsTruncated"])
        second = self.s3.list_objects_v2(Bucket=bucket, Prefix="logs/", MaxKeys=1000,
                                         ContinuationToken=first["NextContinuationToken"])
        self.assertEqual(second["KeyCount"], 200)
        self.assertFalse(second["IsTruncated"])
        listed = [o["Key"] for o in first["Contents"] + second["Contents"]]
        self.assertEqual(listed, sorted(k for k in keys if k.startswith("logs/")))

        top = self.s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in top["CommonPrefixes"]], ["logs/", "other/"])
        self.assertEqual([o["Key"] for o in top["Contents"]], ["top.txt"])
        self.assertEqual(sorted(self.keys(bucket)), sorted(keys))
        # MaxKeys above 1000 is capped.
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)["KeyCount"], 1000)
        # ListObjects (V1) with a marker.
        v1 = self.s3.list_objects(Bucket=bucket, Prefix="logs/", Marker="logs/1195.txt")
        self.assertEqual([o["Key"] for o in v1["Contents"]],
                         [f"logs/{i:04d}.txt" for i in range(1196, 1200)])

    def test_copy_object(self):
        bucket = self.bucket("copies")
        other = self.bucket("copies-target")
        self.s3.put_object(Bucket=bucket, Key="dir/src file.txt", Body=b"copy me",
                           ContentType="text/plain", Metadata={"color": "red"})
        self.s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket,
                                                                 "Key": "dir/src file.txt"})
        got = self.s3.get_object(Bucket=other, Key="dst")
        self.assertEqual(got["Body"].read(), b"copy me")
        self.assertEqual(got["Metadata"], {"color": "red"})
        self.assertEqual(got["ContentType"], "text/plain")
        self.s3.copy_object(Bucket=other, Key="dst", CopySource=f"{other}/dst",
                            MetadataDirective="REPLACE", ContentType="text/csv")
        self.assertEqual(self.s3.head_object(Bucket=other, Key="dst")["ContentType"], "text/csv")
        self.assertS3Error("NoSuchKey", 404, self.s3.copy_object, Bucket=other, Key="x",
                           CopySource={"Bucket": bucket, "Key": "missing"})

    def test_delete_objects(self):
        bucket = self.bucket("deletions")
        for i in range(5):
            self.s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
        r = self.s3.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": "k0"}, {"Key": "k1"}, {"Key": "absent"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["absent", "k0", "k1"])
        r = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}],
                                                          "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.assertEqual(self.keys(bucket), ["k3", "k4"])
        self.s3.delete_object(Bucket=bucket, Key="k3")
        self.s3.delete_object(Bucket=bucket, Key="k3")  # idempotent
        self.assertS3Error("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=bucket)
        self.s3.delete_object(Bucket=bucket, Key="k4")
        self.s3.delete_bucket(Bucket=bucket)
        self.assertS3Error("404", 404, self.s3.head_bucket, Bucket=bucket)

    def test_aws_cli_cp_ls_rm(self):
        self.m.aws_cli(["s3", "mb", "s3://cli-bucket"], self.alice)
        src = os.path.join(self.tmp, "cli.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(9 * MIB + 123))  # multipart in the CLI (8 MiB threshold)
        self.m.aws_cli(["s3", "cp", src, "s3://cli-bucket/dir/cli.bin"], self.alice)
        self.m.aws_cli(["s3", "cp", src, "s3://cli-bucket/dir/sub/two.bin"], self.alice)
        ls = self.m.aws_cli(["s3", "ls", "s3://cli-bucket/dir/"], self.alice).stdout
        self.assertIn("cli.bin", ls)
        self.assertIn("PRE sub/", ls)
        self.assertIn("cli-bucket", self.m.aws_cli(["s3", "ls"], self.alice).stdout)
        dst = os.path.join(self.tmp, "cli.out")
        self.m.aws_cli(["s3", "cp", "s3://cli-bucket/dir/cli.bin", dst], self.alice)
        self.assertEqual(sha256_file(dst), sha256_file(src))
        self.m.aws_cli(["s3", "rm", "--recursive", "s3://cli-bucket/dir/"], self.alice)
        self.assertEqual(self.keys("cli-bucket"), [])
        self.m.aws_cli(["s3", "rb", "s3://cli-bucket"], self.alice)

    def test_wrong_secret_and_unknown_key(self):
        self.bucket("auth-checks")
        wrong = dict(self.alice, secret_access_key="x" * 40)
        self.assertS3Error("SignatureDoesNotMatch", 403,
                           self.m.s3_client(wrong).list_objects_v2, Bucket="auth-checks")
        unknown = dict(self.alice, access_key_id="AKIAAAAAAAAAAAAAAAAA")
        self.assertS3Error("InvalidAccessKeyId", 403,
                           self.m.s3_client(unknown).list_objects_v2, Bucket="auth-checks")

    def test_other_account_is_denied(self):
        bucket = self.bucket("alice-private")
        self.s3.put_object(Bucket=bucket, Key="secret", Body=b"mine")
        bob = self.m.s3_client(self.bob)
        self.assertS3Error("AccessDenied", 403, bob.get_object, Bucket=bucket, Key="secret")
        self.assertS3Error("AccessDenied", 403, bob.put_object, Bucket=bucket, Key="secret",
                           Body=b"theirs")
        self.assertS3Error("AccessDenied", 403, bob.list_objects_v2, Bucket=bucket)
        self.assertS3Error("BucketAlreadyExists", 409, bob.create_bucket, Bucket=bucket)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="secret")["Body"].read(), b"mine")

    def test_malformed_xml_bad_names_missing_bodies(self):
        bucket = self.bucket("bad-input")
        self.s3.put_object(Bucket=bucket, Key="keep", Body=b"still here")
        body = b"<Delete><Object><Key>keep</Key></Object>"  # unterminated
        status, _, resp = self.m.raw_request(self.alice, "POST", f"/{bucket}", body,
                                             query="delete=")
        self.assertEqual((status, harness.error_code(resp)), (400, "MalformedXML"))
        status, _, resp = self.m.raw_request(self.alice, "POST", f"/{bucket}", b"",
                                             query="delete=")
        self.assertEqual((status, harness.error_code(resp)), (400, "MalformedXML"))
        status, _, resp = self.m.raw_request(
            self.alice, "PUT", "/bad-config", b"<CreateBucketConfiguration><LocationConstraint>")
        self.assertEqual((status, harness.error_code(resp)), (400, "MalformedXML"))
        for name in ["UpperCase", "ab", "a..b", "192.168.0.1", "-dash", "x" * 64]:
            status, _, resp = self.m.raw_request(self.alice, "PUT", f"/{name}")
            self.assertEqual((status, harness.error_code(resp)), (400, "InvalidBucketName"), name)
        # A streamed PUT without Content-Length.
        status, _, resp = self.m.raw_request(self.alice, "PUT", f"/{bucket}/nolength",
                                             b"some bytes", content_length=False)
        self.assertEqual((status, harness.error_code(resp)), (411, "MissingContentLength"))
        # CompleteMultipartUpload without a part list.
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        status, _, resp = self.m.raw_request(self.alice, "POST", f"/{bucket}/mp", b"",
                                             query=f"uploadId={upload}")
        self.assertEqual((status, harness.error_code(resp)), (400, "MalformedXML"))
        self.s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
        # Nothing changed.
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertNotIn("bad-config", names)
        self.assertFalse(any(n.lower() == "uppercase" for n in names))
        self.assertEqual(self.keys(bucket), ["keep"])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="keep")["Body"].read(),
                         b"still here")

    def test_no_plaintext_at_rest(self):
        bucket = self.bucket("at-rest")
        marker = b"MERCATO-PLAINTEXT-MARKER-" + os.urandom(12).hex().encode()
        self.s3.put_object(Bucket=bucket, Key="small", Body=marker * 10)
        src = os.path.join(self.tmp, "marker.bin")
        with open(src, "wb") as f:
            f.write((marker + b"\n") * (7 * MIB // len(marker)))
        self.s3.upload_file(src, bucket, "large", Config=TransferConfig(
            multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="small")["Body"].read(),
                         marker * 10)
        for root, _, files in os.walk(self.m.data_dir):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    self.assertNotIn(marker, f.read(), path)


if __name__ == "__main__":
    unittest.main()
