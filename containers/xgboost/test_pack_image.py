"""Checks build/images/mercato-xgboost.tar (made by pack_image.py at build time).

Run by ctest with MERCATO_BUILD_DIR set; stdlib only (unittest).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pack_image  # noqa: E402

BUILD_DIR = os.environ.get("MERCATO_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
IMAGE = os.path.join(BUILD_DIR, "images", "mercato-xgboost.tar")
BINARY = os.path.join(BUILD_DIR, "bin", "mercato-xgboost")
IRIS = os.path.join(HERE, "..", "..", "tests", "data", "iris")


def read_archive(path):
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    return members, files


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(IMAGE):
            raise AssertionError(f"{IMAGE} not built (ninja mercato_xgboost_image)")
        cls.members, cls.files = read_archive(IMAGE)

    def blob(self, digest):
        return self.files["blobs/sha256/" + digest.split(":", 1)[1]]

    def manifest(self):
        index = json.loads(self.files["index.json"])
        self.assertEqual(index["schemaVersion"], 2)
        self.assertEqual(len(index["manifests"]), 1)
        desc = index["manifests"][0]
        self.assertEqual(desc["mediaType"], pack_image.MEDIA_MANIFEST)
        self.assertEqual(desc["annotations"]["org.opencontainers.image.ref.name"],
                         "mercato-xgboost:latest")
        data = self.blob(desc["digest"])
        self.assertEqual(sha(data), desc["digest"])
        self.assertEqual(len(data), desc["size"])
        return json.loads(data)

    def layer(self):
        manifest = self.manifest()
        (layer_desc,) = manifest["layers"]
        data = self.blob(layer_desc["digest"])
        self.assertEqual(sha(data), layer_desc["digest"])
        self.assertEqual(len(data), layer_desc["size"])
        return gzip.decompress(data)

    def test_layout_and_digests(self):
        self.assertEqual(json.loads(self.files["oci-layout"]), {"imageLayoutVersion": "1.0.0"})
        for name, data in self.files.items():
            if name.startswith("blobs/sha256/"):
                self.assertEqual(sha(data).split(":")[1], name.rsplit("/", 1)[1])
        manifest = self.manifest()
        self.assertEqual(manifest["schemaVersion"], 2)
        self.assertEqual(manifest["layers"][0]["mediaType"], pack_image.MEDIA_LAYER)
        config_desc = manifest["config"]
        config = json.loads(self.blob(config_desc["digest"]))
        self.assertEqual(config["os"], "linux")
        self.assertEqual(config["config"]["Entrypoint"], ["/usr/bin/mercato-xgboost"])
        self.assertTrue(any(e.startswith("PATH=") for e in config["config"]["Env"]))
        self.assertIn("OMP_WAIT_POLICY=passive", config["config"]["Env"])
        self.assertEqual(config["rootfs"]["diff_ids"], [sha(self.layer())])

    def test_rootfs_is_binary_plus_its_libraries(self):
        with tarfile.open(fileobj=io.BytesIO(self.layer())) as tar:
            members = tar.getmembers()
        files = {"/" + m.name for m in members if m.isfile()}
        for m in members:
            self.assertEqual((m.uid, m.gid, m.mtime), (0, 0, 0), m.name)
            self.assertTrue(m.isfile() or m.isdir(), m.name)
            self.assertFalse(m.mode & 0o7000, m.name)
        self.assertEqual([m.name for m in members], sorted(m.name for m in members))
        self.assertIn("/usr/bin/mercato-xgboost", files)
        self.assertIn("/lib64/ld-linux-x86-64.so.2", files)
        self.assertTrue(any("libxgboost.so" in f for f in files), files)
        self.assertTrue(any("libgomp.so" in f for f in files), files)
        if os.path.exists(BINARY):
            expected = {"/usr/bin/mercato-xgboost"} | set(pack_image.shared_libraries(BINARY))
            self.assertEqual(files, expected)

    def test_packing_is_deterministic_and_generic(self):
        if not os.path.exists(BINARY):
            self.skipTest("binary not built")
        with tempfile.TemporaryDirectory() as tmp:
            outs = []
            for i in range(2):
                out = os.path.join(tmp, f"img{i}.tar")
                pack_image.main(["--binary", BINARY, "--install-path", "/usr/bin/mercato-xgboost",
                                 "--out", out, "--name", "mercato-xgboost:latest",
                                 "--entrypoint", "/usr/bin/mercato-xgboost", "--env",
                                 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                 "--env", "OMP_WAIT_POLICY=passive"])
                with open(out, "rb") as f:
                    outs.append(f.read())
            self.assertEqual(outs[0], outs[1])
            with open(IMAGE, "rb") as f:
                self.assertEqual(outs[0], f.read())
            # Another image: a different binary plus a plain file, entrypoint as JSON.
            out = os.path.join(tmp, "other.tar")
            note = os.path.join(tmp, "note.txt")
            with open(note, "w") as f:
                f.write("hello\n")
            pack_image.main(["--binary", "/bin/true:/bin/true", "--file", note + ":/etc/note.txt",
                             "--out", out, "--entrypoint", '["/bin/true", "x"]'])
            _, files = read_archive(out)
            index = json.loads(files["index.json"])
            digest = index["manifests"][0]["digest"].split(":")[1]
            manifest = json.loads(files["blobs/sha256/" + digest])
            config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"][7:]])
            self.assertEqual(config["config"]["Entrypoint"], ["/bin/true", "x"])
            layer = files["blobs/sha256/" + manifest["layers"][0]["digest"][7:]]
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
                names = {m.name for m in tar.getmembers() if m.isfile()}
            self.assertIn("bin/true", names)
            self.assertIn("etc/note.txt", names)
            self.assertNotIn("usr/bin/mercato-xgboost", names)

    def test_trains_inside_the_image_rootfs(self):
        """The rootfs alone (no host /usr) is enough to run training, under bubblewrap."""
        bwrap = shutil.which("bwrap")
        if not bwrap:
            self.skipTest("bwrap not installed")
        with tempfile.TemporaryDirectory() as tmp:
            rootfs = os.path.join(tmp, "rootfs")
            with tarfile.open(fileobj=io.BytesIO(self.layer())) as tar:
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(rootfs, **kwargs)
            ml = os.path.join(rootfs, "ml")
            os.makedirs(os.path.join(ml, "input", "config"))
            os.makedirs(os.path.join(ml, "input", "data", "train"))
            with open(os.path.join(ml, "input", "config", "hyperparameters.json"), "w") as f:
                json.dump({"num_round": "3", "objective": "multi:softmax", "num_class": "3"}, f)
            shutil.copy(os.path.join(IRIS, "train.csv"), os.path.join(ml, "input", "data", "train"))
            probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "true"], capture_output=True)
            if probe.returncode != 0:
                self.skipTest("bwrap cannot create namespaces here: " + probe.stderr.decode())
            proc = subprocess.run(
                [bwrap, "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev",
                 "--unshare-all", "--clearenv", "--setenv", "MERCATO_ML_PREFIX", "/ml",
                 "/usr/bin/mercato-xgboost", "train"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("[2]\ttrain-mlogloss:", proc.stdout)
            self.assertTrue(os.path.exists(os.path.join(ml, "model", "xgboost-model")))


if __name__ == "__main__":
    unittest.main()
