#!/usr/bin/env python3
"""Writes botocore_signed.json: requests signed by botocore, for sigv4_test.cc.

Each request is produced the way boto3 really sends it (a client with endpoint_url, the
prepared request captured in a before-send hook, no network) or, for services boto3 has no
model for, by botocore's SigV4Auth directly. The clock is frozen by patching
botocore.auth.get_current_datetime, as botocore's own tests do.

Regenerate (botocore 1.43):  python3 src/http/testdata/make_botocore_fixtures.py
"""

import base64
import datetime
import hashlib
import json
import os
import unittest.mock
import uuid
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

ACCESS_KEY = "AKIDMERCATOEXAMPLE01"
SECRET = "mercato/Secret+Key/EXAMPLE0123456789abcdEF"
REGION = "us-west-2"
FROZEN = datetime.datetime(2026, 3, 14, 15, 9, 26)
AMZ_DATE = FROZEN.strftime("%Y%m%dT%H%M%SZ")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Captured(Exception):
    """Raised from the before-send hook so nothing goes on the wire."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def _capture(**kwargs):
    raise Captured(kwargs["request"])


def _client(service, endpoint):
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, region_name=REGION
    )
    config = botocore.config.Config(
        signature_version="s3v4" if service == "s3" else None,
        s3={"addressing_style": "path"},
        retries={"max_attempts": 0},
    )
    client = session.client(service, endpoint_url=endpoint, config=config)
    client.meta.events.register("before-send", _capture)
    return client


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return body.read()


def _fixture(name, service, method, url, headers, body, creqs, note, **extra):
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    hdrs = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in headers.items()]
    # User-Agent is never signed; it names the host OS and lists features in hash order, so it
    # is normalized to keep the file stable across machines and runs.
    hdrs = [[k, f"Boto3/{boto3.__version__} Botocore/{botocore.__version__}"]
            if k.lower() == "user-agent" else [k, v] for k, v in hdrs]
    host = parts.netloc
    if not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.append(["Host", host])  # added by the HTTP client on the wire
    fixture = {
        "name": name,
        "note": note,
        "service": service,
        "region": REGION,
        "access_key": ACCESS_KEY,
        "secret": SECRET,
        "amz_date": AMZ_DATE,
        "method": method,
        "target": target,
        "headers": hdrs,
        "body_b64": base64.b64encode(body).decode(),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "canonical_request": creqs[-1] if creqs else "",
    }
    fixture.update(extra)
    return fixture


def _recording_canonical_request(creqs):
    original = botocore.auth.SigV4Auth.canonical_request

    def wrapper(self, request):
        result = original(self, request)
        creqs.append(result)
        return result

    return wrapper


def _send(client, operation, **params):
    creqs = []
    with unittest.mock.patch.object(
        botocore.auth.SigV4Auth, "canonical_request", _recording_canonical_request(creqs)
    ):
        try:
            getattr(client, operation)(**params)
        except Captured as c:
            req = c.request
            return req, _body_bytes(req.body), creqs
    raise RuntimeError("request was not captured")


def _raw_sigv4(service, method, url, headers, body):
    """Signs with botocore's SigV4Auth directly, like a custom client would."""
    creds = botocore.credentials.Credentials(ACCESS_KEY, SECRET)
    request = botocore.awsrequest.AWSRequest(method=method, url=url, headers=headers, data=body)
    creqs = []
    signer_cls = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    with unittest.mock.patch.object(
        botocore.auth.SigV4Auth, "canonical_request", _recording_canonical_request(creqs)
    ):
        signer_cls(creds, service, REGION).add_auth(request)
    prepared = request.prepare()
    return prepared, _body_bytes(prepared.body), creqs


def make_fixtures():
    out = []
    http = "http://127.0.0.1:8600"
    https = "https://mercato.test:8600"

    s3 = _client("s3", http)
    req, body, creqs = _send(
        s3, "put_object", Bucket="models", Key="xgboost/model.tar.gz",
        Body=b"model bytes \x00\x01\x02 end", ContentType="application/gzip",
    )
    out.append(_fixture("s3-put-object", "s3", req.method, req.url, req.headers, body, creqs,
                        "PutObject over http: payload signed, header checksum"))

    req, body, creqs = _send(s3, "list_objects_v2", Bucket="models", Prefix="a b/ü", MaxKeys=2,
                             Delimiter="/")
    out.append(_fixture("s3-list-objects-v2", "s3", req.method, req.url, req.headers, body,
                        creqs, "ListObjectsV2: query with space, unicode and '/'"))

    req, body, creqs = _send(s3, "get_object", Bucket="models", Key="dir/hello world ü+$.txt",
                             Range="bytes=0-9")
    out.append(_fixture("s3-get-object-unicode-key", "s3", req.method, req.url, req.headers,
                        body, creqs, "GetObject, key with space, unicode, '+' and '$'"))

    creqs = []
    with unittest.mock.patch.object(
        botocore.auth.SigV4Auth, "canonical_request", _recording_canonical_request(creqs)
    ):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "models", "Key": "data/train set.csv"}, ExpiresIn=900
        )
    out.append(_fixture("s3-presigned-get", "s3", "GET", url, {}, b"", creqs,
                        "generate_presigned_url, 900 s", presigned=True, expires=900))

    s3_tls = _client("s3", https)
    payload = b"0123456789abcdef" * 256 + b"tail"
    req, body, creqs = _send(s3_tls, "put_object", Bucket="models", Key="big.bin",
                             Body=payload)
    out.append(_fixture("s3-put-object-aws-chunked-trailer", "s3", req.method, req.url,
                        req.headers, body, creqs,
                        "PutObject over https: STREAMING-UNSIGNED-PAYLOAD-TRAILER, crc32 trailer",
                        decoded_b64=base64.b64encode(payload).decode()))

    sm = _client("sagemaker", http)
    req, body, creqs = _send(sm, "describe_endpoint", EndpointName="my-endpoint")
    out.append(_fixture("sagemaker-describe-endpoint", "sagemaker", req.method, req.url,
                        req.headers, body, creqs,
                        "JSON POST with X-Amz-Target, no x-amz-content-sha256"))

    rt = _client("sagemaker-runtime", http)
    req, body, creqs = _send(rt, "invoke_endpoint", EndpointName="my-endpoint",
                             Body=b"1.0,2.0,3.0\n", ContentType="text/csv")
    out.append(_fixture("sagemaker-runtime-invoke", "sagemaker", req.method, req.url,
                        req.headers, body, creqs, "InvokeEndpoint, signed as service sagemaker"))

    prepared, body, creqs = _raw_sigv4(
        "mercato", "PUT", http + "/api/v1/files/a%20b/%C3%BC%2Bc/./x/../y",
        {"Content-Type": "application/json", "X-Custom": "  spaced   value  "},
        b'{"k": "v"}',
    )
    out.append(_fixture("mercato-path-spaces-unicode", "mercato", prepared.method, prepared.url,
                        prepared.headers, body, creqs,
                        "SigV4Auth, non-S3: path normalized and encoded twice"))
    return out


def main():
    fixed_uuid = uuid.UUID("00000000-0000-4000-8000-000000000000")
    with unittest.mock.patch.object(
        botocore.auth, "get_current_datetime", lambda *a, **k: FROZEN
    ), unittest.mock.patch.object(uuid, "uuid4", lambda: fixed_uuid):
        # Fixed invocation ids keep the file stable across regenerations.
        fixtures = make_fixtures()
    doc = {"generator": "make_botocore_fixtures.py", "botocore": botocore.__version__,
           "fixtures": fixtures}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore_signed.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(fixtures)} fixtures to {path}")


if __name__ == "__main__":
    main()
