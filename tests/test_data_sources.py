"""Every data source of a spec (npz, npy pairs, image folders, Python functions, built-ins): what they read,
how they split and normalise, and the one-line error naming the file and the cause for each bad input."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from PIL import Image

from stitchc.data import DataError, load_data, load_dataset
from stitchc.grammar.checker import check
from stitchc.grammar.parser import parse
from stitchc.ir.samples import Samples


@pytest.fixture(scope="module")
def digits16():
    """sklearn's digits upsampled ×2 to 16×16, as uint8 pixels [N, 1, 16, 16] and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images / 16.0 * 255).astype(np.uint8)
    return np.kron(pixels, np.ones((2, 2), dtype=np.uint8))[:, None], bunch.target.astype(np.int64)


def dataset(folder, declaration: str):
    """Checks `data d = DECLARATION` as a spec in `folder` and loads it."""
    program = check(parse(f"stitch 1\ndata d = {declaration}\npipeline p = [dce]\n", str(folder / "spec.stitch")))
    return load_data(program.data["d"])


def write_pngs(folder, pixels: np.ndarray, labels: np.ndarray, per_class: int | None = None) -> None:
    for index, (image, label) in enumerate(zip(pixels, labels)):
        if per_class is not None and index // 10 >= per_class:
            break
        (folder / f"c{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[0]).save(folder / f"c{label}" / f"{index:05d}.png")


def everything(data) -> tuple[np.ndarray, np.ndarray]:
    parts = [data.train.arrays(), data.val.arrays(), data.test.arrays()]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_npz_with_named_arrays_splits_like_the_builtin(tmp_path, digits16):
    pixels, labels = digits16
    np.savez(tmp_path / "digits16.npz", images=pixels, labels=labels)
    spec = 'npz("digits16.npz", x = "images", y = "labels", split = [0.6, 0.2, 0.2], seed = 0, scale = 255)'
    data = dataset(tmp_path, spec)
    builtin = load_dataset("sklearn:digits", (0.6, 0.2, 0.2), seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (1078, 359, 360)
    np.testing.assert_array_equal(data.val.y, builtin.val.y)  # the same seeded permutation
    x, _ = data.val.arrays()
    assert x.dtype == np.float32 and x.shape == (359, 1, 16, 16)
    np.testing.assert_allclose(x[:, :, ::2, ::2], builtin.val.x, atol=0.5 / 255)


def test_npz_default_keys_and_scale(tmp_path, digits16):
    pixels, labels = digits16
    np.savez_compressed(tmp_path / "d.npz", x=pixels, y=labels)
    data = dataset(tmp_path, 'npz("d.npz", scale = 255, seed = 3)')
    x, y = everything(data)
    order = np.argsort(np.concatenate([data.train.positions, data.val.positions, data.test.positions]))
    np.testing.assert_allclose(x[order], pixels / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y[order], labels)


def test_npz_mean_and_std_normalise_per_channel(tmp_path):
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    np.savez(tmp_path / "rgb.npz", x=np.concatenate([x] * 5), y=np.arange(10))
    data = dataset(tmp_path, 'npz("rgb.npz", scale = 2, mean = [1, 2, 3], std = [0.5, 1, 2], split = [0.4, 0.3, 0.3])')
    got, y = data.train.read(np.array([0]))
    expected = (x[y[0] % 2] / 2 - np.array([1, 2, 3]).reshape(3, 1, 1)) / np.array([0.5, 1, 2]).reshape(3, 1, 1)
    np.testing.assert_allclose(got[0], expected, rtol=1e-6)


def test_npz_explicit_splits(tmp_path, digits16):
    pixels, labels = digits16
    for name, part in (("train", slice(0, 1000)), ("val", slice(1000, 1400)), ("test", slice(1400, None))):
        np.savez(tmp_path / f"{name}.npz", x=pixels[part], y=labels[part])
    data = dataset(tmp_path, 'npz("train.npz", val = "val.npz", test = "test.npz", scale = 255)')
    assert (len(data.train), len(data.val), len(data.test)) == (1000, 400, 397)
    np.testing.assert_array_equal(data.test.y, labels[1400:])
    np.testing.assert_allclose(data.val.x, pixels[1000:1400] / 255.0, rtol=1e-6)


def test_npy_pair_reads_memory_mapped_rows_in_split_order(tmp_path, digits16):
    pixels, labels = digits16
    np.save(tmp_path / "x.npy", pixels.astype(np.float32) / 255)
    np.save(tmp_path / "y.npy", labels)
    data = dataset(tmp_path, 'npy(x = "x.npy", y = "y.npy", split = [0.5, 0.25, 0.25], seed = 7)')
    batches = list(data.val.batches(100))
    assert [len(b[0]) for b in batches] == [100, 100, 100, 100, 49]
    x = np.concatenate([b[0] for b in batches])
    np.testing.assert_array_equal(x, pixels[data.val.positions].astype(np.float32) / 255)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels[data.val.positions])


def test_npy_explicit_splits(tmp_path, digits16):
    pixels, labels = digits16
    for name, part in (("a", slice(0, 900)), ("b", slice(900, 1300)), ("c", slice(1300, None))):
        np.save(tmp_path / f"{name}_x.npy", pixels[part])
        np.save(tmp_path / f"{name}_y.npy", labels[part])
    data = dataset(
        tmp_path,
        'npy(x = "a_x.npy", y = "a_y.npy", val = ["b_x.npy", "b_y.npy"], test = ["c_x.npy", "c_y.npy"], scale = 255)',
    )
    assert (len(data.train), len(data.val), len(data.test)) == (900, 400, 497)
    np.testing.assert_array_equal(data.val.y, labels[900:1300])


def test_image_folder_classes_sorted_and_pixels_scaled(tmp_path, digits16):
    pixels, labels = digits16
    write_pngs(tmp_path / "digits16", pixels[:200], labels[:200])
    data = dataset(tmp_path, 'images("digits16", size = [16, 16], channels = 1, split = [0.6, 0.2, 0.2], seed = 0)')
    reader = data.train.reader.reader
    assert reader.classes == [f"c{i}" for i in range(10)]
    x, y = everything(data)
    order = np.argsort(np.concatenate([data.train.positions, data.val.positions, data.test.positions]))
    files = [reader.files[i] for i in np.sort(np.concatenate([data.train.positions, data.val.positions]))]
    assert all(f"/c{reader.labels[reader.files.index(f)]}/" in f for f in files)
    index = np.array([int(f.rsplit("/", 1)[1][:5]) for f in reader.files])  # each file's row in digits16
    np.testing.assert_allclose(x[order], pixels[index] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y[order], labels[index])
    assert x.min() >= 0 and x.max() <= 1


def test_image_folder_rgb_mean_std_and_mixed_sizes_resized(tmp_path, digits16):
    pixels, labels = digits16
    write_pngs(tmp_path / "imgs", pixels[:40], labels[:40])
    big = Image.new("L", (37, 23), color=200)  # another size: resized, not an error
    big.save(tmp_path / "imgs" / f"c{labels[0]}" / "big.png")
    data = dataset(tmp_path, 'images("imgs", size = [16, 16], mean = [0.5], std = [0.25], split = [0.5, 0.25, 0.25])')
    assert data.train.shape == (3, 16, 16)
    x, _ = everything(data)
    assert x.shape == (41, 3, 16, 16)
    np.testing.assert_array_equal(x[:, 0], x[:, 2])  # grey images become equal RGB channels
    reader = data.train.reader.reader
    big_pixels = reader.decode(str(tmp_path / "imgs" / f"c{labels[0]}" / "big.png"))
    assert big_pixels.shape == (16, 16, 3)
    assert (big_pixels == 200).all()
    assert x.min() == pytest.approx((0 - 0.5) / 0.25) and x.max() == pytest.approx((1 - 0.5) / 0.25)


def test_image_folder_explicit_splits_share_the_training_classes(tmp_path, digits16):
    pixels, labels = digits16
    for name, part in (("train", slice(0, 100)), ("val", slice(100, 150)), ("test", slice(150, 200))):
        write_pngs(tmp_path / name, pixels[part], labels[part])
    data = dataset(tmp_path, 'images("train", val = "val", test = "test", channels = 1)')
    assert data.val.shape == (1, 16, 16) and len(data.test) == 50
    (tmp_path / "test" / "c9").rename(tmp_path / "test" / "nine")
    with pytest.raises(DataError, match=r"test: classes \[.*'nine'\] differ from the training folder's"):
        dataset(tmp_path, 'images("train", val = "val", test = "test", channels = 1)')


MAKE = """
import numpy as np

def arrays(n, size=4):
    x = np.arange(n * size, dtype=np.float64).reshape(n, size)
    return x, np.arange(n) % 3

class Squares:
    def __init__(self, n):
        self.n = n
    def __len__(self):
        return self.n
    def __getitem__(self, i):
        return np.full((1, 2, 2), i, dtype=np.float32), i % 2

def dataset(n):
    return Squares(n)

def broken():
    raise ValueError("no such table")

def wrong():
    return 42
"""


def test_python_function_arrays_with_spec_arguments(tmp_path):
    (tmp_path / "make.py").write_text(MAKE)
    data = dataset(tmp_path, 'python("make.py:arrays", n = 50, size = 6, split = [0.6, 0.2, 0.2], seed = 0)')
    assert data.train.shape == (6,) and len(data.train) + len(data.val) + len(data.test) == 50
    x, y = data.val.arrays()
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0] / 6, data.val.positions)
    np.testing.assert_array_equal(y, data.val.positions % 3)


def test_python_function_dataset_is_read_by_item_and_pickles(tmp_path):
    (tmp_path / "make.py").write_text(MAKE)
    data = dataset(tmp_path, 'python("make.py:dataset", n = 30, split = [0.6, 0.2, 0.2], seed = 1)')
    x, y = data.test.arrays()
    np.testing.assert_array_equal(x[:, 0, 0, 0], data.test.positions)
    np.testing.assert_array_equal(y, data.test.positions % 2)
    copy = pickle.loads(pickle.dumps(data.test))  # what a worker process receives: the function is called again
    np.testing.assert_array_equal(copy.arrays()[0], x)


def test_samples_fingerprint_follows_content_not_source(tmp_path, digits16):
    pixels, labels = digits16
    np.savez(tmp_path / "d.npz", x=pixels, y=labels)
    np.save(tmp_path / "x.npy", pixels)
    np.save(tmp_path / "y.npy", labels)
    from_npz = dataset(tmp_path, 'npz("d.npz")')
    from_npy = dataset(tmp_path, 'npy(x = "x.npy", y = "y.npy")')
    assert from_npz.val.fingerprint() == from_npy.val.fingerprint()
    assert from_npz.val.fingerprint() != from_npz.test.fingerprint()
    assert from_npz.val.take(10).fingerprint() != from_npz.val.fingerprint()


def test_take_and_subset_read_nothing_until_asked(digits):
    samples = digits.train
    assert isinstance(samples, Samples)
    np.testing.assert_array_equal(samples.take(5).x, samples.x[:5])
    np.testing.assert_array_equal(samples.subset(np.array([3, 1])).y, samples.y[[3, 1]])


# ----- errors: one line naming the file and the cause -----------------------------------------------------------
def _error(tmp_path, declaration: str) -> str:
    with pytest.raises(DataError) as caught:
        data = dataset(tmp_path, declaration)
        for split in (data.train, data.val, data.test):
            list(split.batches(64))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_npz_missing_key_lists_the_arrays(tmp_path, digits16):
    np.savez(tmp_path / "d.npz", images=digits16[0], targets=digits16[1])
    message = _error(tmp_path, 'npz("d.npz", x = "images", y = "labels")')
    assert message == f"{tmp_path}/d.npz: no array 'labels' (arrays: images, targets)"


def test_corrupt_npz(tmp_path, digits16):
    np.savez(tmp_path / "d.npz", x=digits16[0], y=digits16[1])
    (tmp_path / "bad.npz").write_bytes((tmp_path / "d.npz").read_bytes()[:3000])
    assert _error(tmp_path, 'npz("bad.npz")').startswith(f"{tmp_path}/bad.npz: not a readable .npz file (")
    (tmp_path / "text.npz").write_text("just text")
    assert _error(tmp_path, 'npz("text.npz")').startswith(f"{tmp_path}/text.npz: not a readable .npz file (")


def test_mismatched_lengths(tmp_path, digits16):
    np.savez(tmp_path / "d.npz", x=digits16[0], y=digits16[1][:-1])
    assert _error(tmp_path, 'npz("d.npz")') == f"{tmp_path}/d.npz: 'x' has 1797 samples but 'y' has 1796"
    np.save(tmp_path / "x.npy", digits16[0][:10])
    np.save(tmp_path / "y.npy", digits16[1][:12])
    assert _error(tmp_path, 'npy(x = "x.npy", y = "y.npy")') == f"{tmp_path}/x.npy: x has 10 samples but y.npy has 12"


def test_labels_must_be_one_number_per_sample(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 3)), y=np.zeros((4, 2)))
    assert _error(tmp_path, 'npz("d.npz")') == (
        f"{tmp_path}/d.npz: 'y' has shape (4, 2); labels are one number per sample"
    )


def test_empty_class_folder(tmp_path, digits16):
    write_pngs(tmp_path / "imgs", digits16[0][:30], digits16[1][:30])
    (tmp_path / "imgs" / "zz_empty").mkdir()
    (tmp_path / "imgs" / "zz_empty" / "notes.txt").write_text("not an image")
    message = _error(tmp_path, 'images("imgs", channels = 1)')
    assert message.startswith(f"{tmp_path}/imgs/zz_empty: empty class folder (no .png/.jpg/")


def test_folder_without_class_subfolders(tmp_path, digits16):
    (tmp_path / "flat").mkdir()
    Image.fromarray(digits16[0][0, 0]).save(tmp_path / "flat" / "a.png")
    assert _error(tmp_path, 'images("flat")') == (
        f"{tmp_path}/flat: no class subfolders (expected one folder per class, such as {tmp_path}/flat/0/*.png)"
    )


def test_unreadable_image(tmp_path, digits16):
    write_pngs(tmp_path / "imgs", digits16[0][:30], digits16[1][:30])
    broken = tmp_path / "imgs" / "c3" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert _error(tmp_path, 'images("imgs", size = [16, 16])').startswith(f"{broken}: unreadable image (")


def test_python_function_that_raises_or_returns_the_wrong_thing(tmp_path):
    (tmp_path / "make.py").write_text(MAKE)
    path = tmp_path / "make.py"
    assert (
        _error(tmp_path, 'python("make.py:broken")') == f"{path}: broken() raised ValueError: no such table (line 20)"
    )
    assert _error(tmp_path, 'python("make.py:wrong")') == (
        f"{path}: wrong() returned int; expected arrays (x, y) or a torch.utils.data.Dataset"
    )
    assert _error(tmp_path, 'python("make.py:missing")') == (
        f"{path}: no function 'missing' (defines: arrays, broken, dataset, wrong)"
    )
    assert _error(tmp_path, 'python("make.py:arrays", n = 1, split = [0.6, 0.2, 0.2])') == (
        "split 'val' of data 'd' is empty (train 1, val 0, test 0 samples)"
    )


def test_decoded_once_into_the_cache_reads_the_same(tmp_path, digits16):
    from stitchc.data.spill import slow_to_read, spill

    write_pngs(tmp_path / "imgs", digits16[0][:60], digits16[1][:60])
    data = dataset(tmp_path, 'images("imgs", channels = 1, split = [0.5, 0.25, 0.25], seed = 2)')
    assert slow_to_read(data.val) and not slow_to_read(load_dataset("sklearn:digits").val)
    spilled = spill(data.val, str(tmp_path / "cache"), "val")
    assert not slow_to_read(spilled)
    for (x1, y1), (x2, y2) in zip(data.val.batches(4), spilled.batches(4)):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    fresh = dataset(tmp_path, 'images("imgs", channels = 1, split = [0.5, 0.25, 0.25], seed = 2)').val
    assert spilled.fingerprint() == fresh.fingerprint()  # the same content, hashed while spilling


@pytest.mark.slow
def test_evaluating_a_parent_over_an_image_folder_is_bounded_by_the_batch(tmp_path):
    """Peak RSS while evaluating over 6,000 images grows no more than over 600 (bench/data_rss.py, 20,000)."""
    import subprocess
    import sys

    bench = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "data_rss.py")
    growth = []
    for count in (600, 6000):
        folder = str(tmp_path / f"mnist{count}")
        subprocess.run([sys.executable, bench, "--build", folder, "--count", str(count)], check=True)
        line = subprocess.run(
            [sys.executable, bench, "--measure", folder], check=True, capture_output=True, text=True
        ).stdout
        before, after = (float(part.split()[-1]) for part in line.split(" MiB")[:2])
        growth.append(after - before)
    assert growth[1] <= growth[0] + 8, growth  # MiB: 10× the images, not 10× the memory
