"""Helpers for e2e tests that drive the `mercato` CLI and build small test images.

    cli = Cli(m, creds)               # m: harness.Mercatod, creds: a create_account() result
    cli.ok("image", "list")           # CompletedProcess; fails the test on non-zero exit
    cli.json("image", "describe", "repo:tag")

Image archives are written with the standard library only: docker_save_archive() writes
what `docker save` writes, oci_archive() an OCI image layout in a tar.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

CLI_TIMEOUT = 300


def build_dir():
    d = os.environ.get("MERCATO_BUILD_DIR")
    if not d:
        here = os.path.dirname(os.path.abspath(__file__))
        d = os.path.join(here, "..", "..", "build")
    return os.path.abspath(d)


def cli_path():
    path = os.path.join(os.environ.get("MERCATO_BIN_DIR", os.path.join(build_dir(), "bin")),
                        "mercato")
    if not os.path.exists(path):
        raise AssertionError(f"mercato CLI not found at {path}")
    return path


def xgboost_image_path():
    path = os.path.join(build_dir(), "images", "mercato-xgboost.tar")
    if not os.path.exists(path):
        raise AssertionError(f"{path} not found: build the mercato_xgboost_image target")
    return path


def probe_path():
    """The static sandbox_probe binary (runs in a rootfs holding nothing else)."""
    path = os.path.join(build_dir(), "bin", "sandbox_probe")
    if not os.path.exists(path):
        raise AssertionError(f"{path} not found: build the sandbox_probe target")
    return path


class Cli:
    def __init__(self, mercatod, creds):
        self.m = mercatod
        self.token = creds["token"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
        self.env["HOME"] = mercatod.tmp  # no profile file from the real home

    def args(self, *args):
        return [cli_path(), "--endpoint", self.m.endpoint, "--token", self.token, *args]

    def run(self, *args, timeout=CLI_TIMEOUT):
        return subprocess.run(self.args(*args), env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, *args, timeout=CLI_TIMEOUT):
        proc = self.run(*args, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"mercato {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}\n--- mercatod log ---\n"
                                 f"{self.m.log_tail()}")
        return proc

    def json(self, *args, timeout=CLI_TIMEOUT):
        return json.loads(self.ok("--json", *args, timeout=timeout).stdout)

    def popen(self, *args, **kwargs):
        return subprocess.Popen(self.args(*args), env=self.env, **kwargs)


# ---- image archives ----

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files):
    """An uncompressed tar from [(path, bytes or None for a directory, mode)]."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data, mode in files:
            info = tarfile.TarInfo(path)
            info.mode = mode
            info.mtime = 0
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def image_config(diff_ids, entrypoint, env=("PATH=/bin",)):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": list(entrypoint), "Env": list(env)},
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }, sort_keys=True).encode()


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def docker_save_archive(path, layers, entrypoint, repo_tag):
    """Writes a `docker save` archive: manifest.json, <config>.json, <n>/layer.tar."""
    config = image_config([sha256(l) for l in layers], entrypoint)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_names = [f"{hashlib.sha256(l).hexdigest()}/layer.tar" for l in layers]
    manifest = json.dumps([{"Config": config_name, "RepoTags": [repo_tag],
                            "Layers": layer_names}]).encode()
    with tarfile.open(path, "w") as tar:
        _add(tar, config_name, config)
        for name, data in zip(layer_names, layers):
            _add(tar, name, data)
        _add(tar, "manifest.json", manifest)


def oci_archive(path, layers, entrypoint, ref_name):
    """Writes an OCI image layout tar with gzip layers."""
    gz = [gzip.compress(l, mtime=0) for l in layers]
    config = image_config([sha256(l) for l in layers], entrypoint)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": sha256(g), "size": len(g)} for g in gz],
    }).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": sha256(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": ref_name}}],
    }).encode()
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(tar, "index.json", index)
        for blob in [manifest, config, *gz]:
            _add(tar, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)
