#!/usr/bin/env python3
"""Packs native binaries and exactly the shared libraries they load into an OCI image archive.

    pack_image.py --binary build/bin/mercato-xgboost --install-path /usr/bin/mercato-xgboost \
        --out build/images/mercato-xgboost.tar --name mercato-xgboost:latest \
        --entrypoint /usr/bin/mercato-xgboost --env PATH=/usr/bin:/bin

The archive is an OCI image layout in a tar (oci-layout, index.json, blobs/sha256/...)
with one gzip layer. The libraries come from `ldd` on each binary and are stored as
regular files at the paths the loader resolved (the dynamic loader at its canonical path,
e.g. /lib64/ld-linux-x86-64.so.2). Output is byte-for-byte deterministic: sorted entries,
mtime 0, uid/gid 0, no user names, gzip without a timestamp.

Generic on purpose: other test images reuse it (repeat --binary, add plain files with
--file SRC:DEST). Standard library only.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import posixpath
import re
import subprocess
import sys
import tarfile

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}


def shared_libraries(binary):
    """Returns absolute paths of the libraries `binary` loads, the interpreter included."""
    proc = subprocess.run(["ldd", binary], capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    if "not a dynamic executable" in text or "statically linked" in text:
        return []
    if proc.returncode != 0:
        raise SystemExit(f"ldd {binary} failed: {text.strip()}")
    libs = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            raise SystemExit(f"{binary}: missing library: {line}")
        m = re.match(r"^\S+\s+=>\s+(/\S+)\s+\(0x[0-9a-f]+\)$", line)
        if m:
            libs.append(m.group(1))
            continue
        m = re.match(r"^(/\S+)\s+\(0x[0-9a-f]+\)$", line)  # the dynamic loader
        if m:
            libs.append(m.group(1))
    return libs


def normalize(path):
    path = posixpath.normpath("/" + path.lstrip("/"))
    if path == "/" or ".." in path.split("/"):
        raise SystemExit(f"bad path in image: {path}")
    return path


def build_layer(files):
    """files: {image path: (source path, mode)} -> uncompressed tar bytes."""
    dirs = set()
    for path in files:
        parent = posixpath.dirname(path)
        while parent not in ("/", ""):
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(dirs | set(files)):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path in dirs:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                continue
            source, mode = files[path]
            with open(source, "rb") as f:  # follows symlinks: store the real bytes
                data = f.read()
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def write_archive(out, entries):
    """entries: {name: bytes or None for a directory}, written sorted and deterministic."""
    tmp = out + ".tmp"
    with tarfile.open(tmp, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(entries):
            data = entries[name]
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", action="append", required=True,
                   help="SRC[:DEST] executable to include with its libraries (repeatable)")
    p.add_argument("--install-path", help="image path of the first --binary "
                   "(default /usr/bin/<name>)")
    p.add_argument("--file", action="append", default=[], help="SRC:DEST plain file")
    p.add_argument("--out", required=True, help="output .tar")
    p.add_argument("--name", default="", help="reference, e.g. mercato-xgboost:latest")
    p.add_argument("--entrypoint", action="append", default=[],
                   help="entrypoint word (repeat for more), or a JSON array")
    p.add_argument("--cmd", action="append", default=[], help="cmd word (repeatable)")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE (repeatable)")
    p.add_argument("--workdir", default="/")
    args = p.parse_args(argv)

    files = {}
    for i, spec in enumerate(args.binary):
        src, _, dest = spec.partition(":")
        if not dest:
            dest = args.install_path if i == 0 and args.install_path else \
                "/usr/bin/" + os.path.basename(src)
        files[normalize(dest)] = (src, 0o755)
        for lib in shared_libraries(src):
            files.setdefault(normalize(lib), (lib, 0o755))
    for spec in args.file:
        src, sep, dest = spec.partition(":")
        if not sep:
            raise SystemExit(f"--file needs SRC:DEST, got {spec}")
        files[normalize(dest)] = (src, 0o755 if os.access(src, os.X_OK) else 0o644)
    for env in args.env:
        if "=" not in env:
            raise SystemExit(f"--env needs KEY=VALUE, got {env}")

    entrypoint = args.entrypoint
    if len(entrypoint) == 1 and entrypoint[0].startswith("["):
        entrypoint = json.loads(entrypoint[0])

    layer_tar = build_layer(files)
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    layer_digest, layer = blob(gzip.compress(layer_tar, compresslevel=6, mtime=0))

    container_config = {"Env": args.env, "WorkingDir": args.workdir}
    if entrypoint:
        container_config["Entrypoint"] = entrypoint
    if args.cmd:
        container_config["Cmd"] = args.cmd
    config_digest, config = blob(canonical_json({
        "architecture": ARCHES.get(os.uname().machine, os.uname().machine),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z",
                     "created_by": "pack_image.py " + " ".join(sorted(files))}],
    }))
    manifest_digest, manifest = blob(canonical_json({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": layer_digest, "size": len(layer)}],
    }))
    descriptor = {"mediaType": MEDIA_MANIFEST, "digest": manifest_digest,
                  "size": len(manifest)}
    if args.name:
        descriptor["annotations"] = {"org.opencontainers.image.ref.name": args.name}
    index = canonical_json({"schemaVersion": 2, "mediaType": MEDIA_INDEX,
                            "manifests": [descriptor]})

    entries = {"oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}),
               "index.json": index, "blobs": None, "blobs/sha256": None}
    for digest, data in ((layer_digest, layer), (config_digest, config),
                         (manifest_digest, manifest)):
        entries["blobs/sha256/" + digest.split(":", 1)[1]] = data
    write_archive(args.out, entries)
    print(f"{args.out}: {len(files)} files, layer {len(layer)} bytes, {manifest_digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
