"""Helpers for the marketplace end-to-end tests: the native API as JSON, the seller's side of
listing the built-in XGBoost algorithm and a trained Iris model, and waits.

Every wait is bounded (WAIT seconds) and fails with the server's log tail.
"""

import json
import os
import time
import urllib.error
import urllib.request

import test_sagemaker_endpoints as endpoints
from cli_helpers import Cli

DATA, IMAGE_TAR = endpoints.DATA, endpoints.IMAGE_TAR
client, error_of, iris_test_rows = endpoints.client, endpoints.error_of, endpoints.test_rows
numbers = endpoints.numbers

WAIT = 300
ROLE = "arn:aws:iam::123456789012:role/MercatoSeller"
IMAGE = "mercato-xgboost:latest"

# Every hyperparameter the built-in XGBoost container accepts that the listing declares.
HYPERPARAMETERS = [
    {"Name": "num_round", "Type": "Integer", "IsTunable": True, "IsRequired": True,
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "200"}}},
    {"Name": "max_depth", "Type": "Integer", "IsTunable": True, "IsRequired": False,
     "DefaultValue": "3",
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "1", "MaxValue": "10"}}},
    {"Name": "eta", "Type": "Continuous", "IsTunable": True, "IsRequired": False,
     "DefaultValue": "0.3",
     "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0", "MaxValue": "1"}}},
    {"Name": "objective", "Type": "Categorical", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "multi:softmax",
     "Range": {"CategoricalParameterRangeSpecification": {"Values": ["multi:softmax"]}}},
    {"Name": "eval_metric", "Type": "FreeText", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "merror"},
    {"Name": "num_class", "Type": "Integer", "IsTunable": False, "IsRequired": False,
     "DefaultValue": "3",
     "Range": {"IntegerParameterRangeSpecification": {"MinValue": "2", "MaxValue": "100"}}},
]

INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge"]


def api(m, creds, method, path, body=None):
    """A native API call; returns (status, JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(m.endpoint + path, method=method, data=data,
                                 headers={"Authorization": "Bearer " + creds["token"],
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else {}
        except ValueError:
            return e.code, {"raw": raw.decode("utf-8", "replace")}


def api_ok(m, creds, method, path, body=None):
    status, out = api(m, creds, method, path, body)
    if status >= 300:
        raise AssertionError(f"{method} {path}: HTTP {status}: {out}\n{m.log_tail(30)}")
    return out


def err(out):
    """(code, message) of a native API error body."""
    e = out.get("error", {})
    return e.get("code", ""), e.get("message", "")


def account_id(creds):
    return creds.get("account_id") or creds["account"]["id"]


def push_xgboost(m, creds, name=IMAGE):
    with open(IMAGE_TAR, "rb") as f:
        data = f.read()
    req = urllib.request.Request(m.endpoint + "/api/v1/images?name=" + name, method="POST",
                                 data=data, headers={"Authorization": "Bearer " + creds["token"],
                                                     "Content-Type": "application/x-tar"})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())


def image_uri(m, creds, name=IMAGE):
    out = api_ok(m, creds, "GET", "/api/v1/images")
    repo, tag = name.split(":")
    for img in out.get("images", out.get("Images", [])):
        if img.get("repository") == repo and tag in img.get("tags", []):
            return img["image_uri"]
    raise AssertionError(f"image {name} not listed: {out}")


def wait_for(what, fn, done, failed=(), m=None, timeout=WAIT, detail=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last in done:
            return last
        if last in failed:
            raise AssertionError(f"{what} ended {last}: {detail() if detail else ''}\n"
                                 f"{m.log_tail(40) if m else ''}")
        time.sleep(0.3)
    raise AssertionError(f"{what} still {last} after {timeout}s\n{m.log_tail(40) if m else ''}")


def wait_endpoint(m, sm, name, done=("InService",), failed=("Failed",)):
    return wait_for(f"endpoint {name}",
                    lambda: sm.describe_endpoint(EndpointName=name)["EndpointStatus"],
                    done, failed, m)


def wait_training(m, sm, name):
    wait_for(f"training job {name}",
             lambda: sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"],
             ("Completed",), ("Failed", "Stopped"), m, detail=lambda: sm.describe_training_job(
                 TrainingJobName=name).get("FailureReason"))
    return sm.describe_training_job(TrainingJobName=name)


def wait_package(m, sm, name, done=("Completed",), failed=("Failed",)):
    return wait_for(f"model package {name}",
                    lambda: sm.describe_model_package(ModelPackageName=name)["ModelPackageStatus"],
                    done, failed, m, detail=lambda: sm.describe_model_package(
                        ModelPackageName=name).get("ModelPackageStatusDetails"))


def wait_algorithm(m, sm, name):
    return wait_for(f"algorithm {name}",
                    lambda: sm.describe_algorithm(AlgorithmName=name)["AlgorithmStatus"],
                    ("Completed",), ("Failed",), m, detail=lambda: sm.describe_algorithm(
                        AlgorithmName=name).get("AlgorithmStatusDetails"))


def channels(bucket, prefix):
    return [{"ChannelName": ch, "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                             "S3Uri": f"s3://{bucket}/{prefix}/{ch}/",
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for ch in ("train", "validation")]


def upload_iris(s3, bucket, prefix="iris"):
    s3.create_bucket(Bucket=bucket)
    for name in ("train", "validation"):
        s3.upload_file(os.path.join(DATA, name + ".csv"), bucket, f"{prefix}/{name}/{name}.csv")
    _, rows = iris_test_rows()
    s3.put_object(Bucket=bucket, Key=f"{prefix}/batch/test.csv", Body=rows.encode())


def training_job_request(name, image_or_algorithm, bucket, hyper=None, algorithm=False,
                         instance_type="ml.m5.large"):
    spec = {"TrainingInputMode": "File"}
    spec["AlgorithmName" if algorithm else "TrainingImage"] = image_or_algorithm
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": spec,
        "RoleArn": ROLE,
        "HyperParameters": hyper if hyper is not None else
        {"num_round": "20", "objective": "multi:softmax", "num_class": "3"},
        "InputDataConfig": channels(bucket, "iris"),
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1,
                           "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def inference_spec(image, model_data=None):
    container = {"Image": image}
    if model_data:
        container["ModelDataUrl"] = model_data
    return {"Containers": [container],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
            "SupportedRealtimeInferenceInstanceTypes": INSTANCE_TYPES,
            "SupportedTransformInstanceTypes": INSTANCE_TYPES}


def transform_definition(bucket):
    return {"MaxConcurrentTransforms": 1, "MaxPayloadInMB": 6, "BatchStrategy": "MultiRecord",
            "TransformInput": {"DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/iris/batch/"}},
                "ContentType": "text/csv", "SplitType": "Line"},
            "TransformOutput": {"S3OutputPath": f"s3://{bucket}/validation-out"},
            "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1}}


def algorithm_request(name, image, bucket, certify=True):
    return {
        "AlgorithmName": name,
        "AlgorithmDescription": "Gradient-boosted trees for tabular classification",
        "TrainingSpecification": {
            "TrainingImage": image,
            "SupportedHyperParameters": HYPERPARAMETERS,
            "SupportedTrainingInstanceTypes": INSTANCE_TYPES,
            "SupportsDistributedTraining": False,
            "MetricDefinitions": [{"Name": "validation:merror",
                                   "Regex": r"validation-merror:([0-9\.]+)"}],
            "TrainingChannels": [
                {"Name": "train", "IsRequired": True, "SupportedContentTypes": ["text/csv"],
                 "SupportedInputModes": ["File"]},
                {"Name": "validation", "IsRequired": False,
                 "SupportedContentTypes": ["text/csv"], "SupportedInputModes": ["File"]}],
        },
        "InferenceSpecification": inference_spec(image),
        "ValidationSpecification": {
            "ValidationRole": ROLE,
            "ValidationProfiles": [{
                "ProfileName": "iris",
                "TrainingJobDefinition": {
                    "TrainingInputMode": "File",
                    "HyperParameters": {"num_round": "10", "num_class": "3"},
                    "InputDataConfig": channels(bucket, "iris"),
                    "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/validation"},
                    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                       "VolumeSizeInGB": 1},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 600}},
                "TransformJobDefinition": transform_definition(bucket)}]},
        "CertifyForMarketplace": certify,
    }


def model_package_request(name, image, model_data, bucket, certify=True, validation=True):
    req = {"ModelPackageName": name,
           "ModelPackageDescription": "XGBoost classifier of iris flowers",
           "InferenceSpecification": inference_spec(image, model_data),
           "CertifyForMarketplace": certify}
    if validation:
        req["ValidationSpecification"] = {
            "ValidationRole": ROLE,
            "ValidationProfiles": [{"ProfileName": "iris",
                                    "TransformJobDefinition": transform_definition(bucket)}]}
    return req


def accuracy(body, labels):
    preds = numbers(json.loads(body))
    right = sum(1 for p, l in zip(preds, labels) if int(round(p)) == l)
    return right / len(labels), preds


def cli(m, creds):
    return Cli(m, creds)
