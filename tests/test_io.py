"""descramble._io: bounded-memory activation readers and weight loaders."""

from __future__ import annotations

import hashlib
import struct
import sys

import numpy as np
import pytest

from descramble import _io


def _read_all(path, key=None, batch_rows=7):
    shards = _io.open_activations(path, key)
    hashers = {}
    blocks = []
    for s in shards:
        h = hashers.setdefault(str(s.path), _io.FileHasher(s.path))
        for _, b in _io.iter_blocks(s, batch_rows, hasher=h):
            blocks.append(b.copy())
    digests = {p: h.finish() for p, h in hashers.items()}
    return shards, (np.concatenate(blocks) if blocks else None), digests


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "F": lambda a: np.asfortranarray(a),
}


@pytest.mark.parametrize("layout", list(LAYOUTS), ids=["C-order", "Fortran-order"])
@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, ">f4"], ids=["f16", "f32", "f64", "big-endian"]
)
@pytest.mark.parametrize("shape", [(1, 1), (23, 5), (3, 40), (0, 4)], ids=str)
def test_npy_blocks_equal_file_and_hash_is_sha256(tmp_path, layout, dtype, shape):
    a = LAYOUTS[layout](np.random.default_rng(0).standard_normal(shape).astype(dtype))
    path = tmp_path / "a.npy"
    np.save(path, a)
    shards, got, digests = _read_all(path)
    assert (shards[0].rows, shards[0].n) == shape
    if shape[0]:
        want_dtype = np.float64 if np.dtype(dtype).itemsize == 8 else np.float32
        assert got.dtype == want_dtype
        np.testing.assert_array_equal(got, a.astype(want_dtype))
    assert digests[str(path)] == _sha(path)


def test_start_row_resumes_mid_file(tmp_path):
    a = np.random.default_rng(1).standard_normal((50, 3))
    np.save(tmp_path / "a.npy", a)
    (s,) = _io.open_activations(tmp_path / "a.npy")
    got = np.concatenate([b.copy() for _, b in _io.iter_blocks(s, 8, start_row=13)])
    np.testing.assert_array_equal(got, a[13:])


def test_folder_of_shards_sorted_by_name(tmp_path):
    rng = np.random.default_rng(2)
    parts = [rng.standard_normal((r, 4)).astype(np.float32) for r in (5, 0, 9, 3)]
    for name, p in zip(["b", "a", "d", "c"], parts, strict=True):
        np.save(tmp_path / f"{name}.npy", p)
    (tmp_path / "notes.txt").write_text("ignored")
    shards, got, digests = _read_all(tmp_path)
    assert [s.path.stem for s in shards] == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(got, np.concatenate([parts[1], parts[0], parts[3], parts[2]]))
    assert all(digests[str(tmp_path / f"{k}.npy")] == _sha(tmp_path / f"{k}.npy") for k in "abcd")


@pytest.mark.parametrize("compressed", [False, True], ids=["savez", "savez_compressed"])
def test_npz_each_array_is_a_shard_or_key_picks_one(tmp_path, compressed):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((11, 3)), rng.standard_normal((4, 3))
    z = np.asfortranarray(rng.standard_normal((6, 3)))
    path = tmp_path / "acts.npz"
    (np.savez_compressed if compressed else np.savez)(path, first=x, second=y, third=z)
    shards, got, digests = _read_all(path, batch_rows=4)
    assert [s.key for s in shards] == ["first", "second", "third"]
    np.testing.assert_array_equal(got, np.concatenate([x, y, z]))
    assert digests[str(path)] == _sha(path)
    _, got, _ = _read_all(path, key="second")
    np.testing.assert_array_equal(got, y)
    with pytest.raises(_io.InputError, match="no array named 'fourth'; available: first, second"):
        _io.open_activations(path, "fourth")


def test_safetensors_written_by_the_reference_library(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((9, 5)).astype(np.float32), rng.standard_normal((3, 5))
    path = tmp_path / "acts.safetensors"
    st.save_file({"b": b.astype(np.float32), "a": a}, path)
    shards, got, digests = _read_all(path, batch_rows=2)
    order = sorted(["a", "b"], key=lambda k: shards[[s.key for s in shards].index(k)].offset)
    ref = {"a": a, "b": b.astype(np.float32)}
    np.testing.assert_array_equal(got, np.concatenate([ref[k] for k in order]))
    assert digests[str(path)] == _sha(path)
    _, got, _ = _read_all(path, key="a")
    np.testing.assert_array_equal(got, a)


def test_safetensors_bfloat16_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    t = torch.randn(6, 4, generator=torch.Generator().manual_seed(5)).to(torch.bfloat16)
    path = tmp_path / "bf.safetensors"
    st.save_file({"x": t}, path)
    _, got, _ = _read_all(path)
    np.testing.assert_array_equal(got, t.float().numpy())


# ---------------------------------------------------------------------------------------
# Errors name the file


def test_truncated_npy_names_file(tmp_path):
    path = tmp_path / "cut.npy"
    np.save(path, np.ones((100, 8)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(_io.InputError, match=r"cut\.npy: truncated \.npy file"):
        _io.open_activations(path)


def test_corrupt_npy_header_names_file(tmp_path):
    path = tmp_path / "junk.npy"
    path.write_bytes(b"this is not numpy" * 10)
    with pytest.raises(_io.InputError, match=r"junk\.npy: not a readable \.npy array"):
        _io.open_activations(path)


def test_file_shrinking_while_read_names_file(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.ones((40, 4)))
    (s,) = _io.open_activations(path)
    path.write_bytes(path.read_bytes()[:-64])
    with pytest.raises(_io.InputError, match=r"a\.npy: truncated: expected 40 rows"):
        list(_io.iter_blocks(s, 16))


def test_corrupt_npz_names_file(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(_io.InputError, match=r"bad\.npz: not a readable \.npz archive"):
        _io.open_activations(path)


def test_corrupt_safetensors_names_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 10) + b"{not json}")
    with pytest.raises(_io.InputError, match=r"bad\.safetensors: corrupt safetensors header"):
        _io.open_activations(path)
    path.write_bytes(struct.pack("<Q", 10**9) + b"{}")
    with pytest.raises(_io.InputError, match="header length .* exceeds the file size"):
        _io.open_activations(path)


def test_truncated_safetensors_names_file(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "t.safetensors"
    st.save_file({"x": np.ones((10, 4), np.float32)}, path)
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(_io.InputError, match=r"t\.safetensors: truncated or padded safetensors"):
        _io.open_activations(path)


def test_mismatched_n_and_dtype_across_shards(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((3, 4), np.float32))
    np.save(tmp_path / "b.npy", np.ones((3, 5), np.float32))
    with pytest.raises(_io.InputError, match=r"b\.npy: has 5 neurons .*a\.npy has 4"):
        _io.open_activations(tmp_path)
    np.save(tmp_path / "b.npy", np.ones((3, 4), np.float64))
    with pytest.raises(
        _io.InputError, match=r"b\.npy: has dtype float64, but .*a\.npy has float32"
    ):
        _io.open_activations(tmp_path)


def test_non_finite_names_file_and_row(tmp_path):
    a = np.ones((30, 3))
    a[17, 2] = np.nan
    np.save(tmp_path / "n.npy", a)
    (s,) = _io.open_activations(tmp_path / "n.npy")
    with pytest.raises(_io.InputError, match=r"n\.npy: NaN or infinity in row 17 \(column 2\)"):
        list(_io.iter_blocks(s, 8))


@pytest.mark.parametrize(
    "array, message",
    [
        (np.ones(5), "expected a 2-D array"),
        (np.ones((2, 2, 2)), "expected a 2-D array"),
        (np.ones((3, 3), np.int32), "expected float16/float32/float64"),
        (np.ones((3, 3), np.complex128), "expected float16/float32/float64"),
    ],
    ids=["1-D", "3-D", "int32", "complex"],
)
def test_bad_activation_arrays(tmp_path, array, message):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(_io.InputError, match=message):
        _io.open_activations(tmp_path / "x.npy")


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(_io.InputError, match="no such file or folder"):
        _io.open_activations(tmp_path / "nope.npy")
    with pytest.raises(_io.InputError, match="folder holds no"):
        _io.open_activations(tmp_path)
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(_io.InputError, match="unsupported activation file type '.csv'"):
        _io.open_activations(tmp_path / "x.csv")


# ---------------------------------------------------------------------------------------
# Weights


def test_weights_npy_npz_safetensors(tmp_path):
    rng = np.random.default_rng(6)
    W, b = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4)
    np.save(tmp_path / "w.npy", W)
    np.testing.assert_array_equal(_io.load_weights(tmp_path / "w.npy")[0], W.astype(np.float64))
    np.savez(tmp_path / "w.npz", weight=W, bias=b)
    got, name = _io.load_weights(tmp_path / "w.npz", "bias")
    assert name == "bias"
    np.testing.assert_array_equal(got, b)
    with pytest.raises(_io.InputError, match=r"choose one with --key: weight \(4, 3\), bias"):
        _io.load_weights(tmp_path / "w.npz")
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"fc.weight": W, "fc.bias": b.astype(np.float32)}, tmp_path / "w.safetensors")
    got, _ = _io.load_weights(tmp_path / "w.safetensors", "fc.weight")
    np.testing.assert_array_equal(got, W.astype(np.float64))
    with pytest.raises(_io.InputError, match=r"no array named 'fc\.w'; available: fc\.bias \(4,\)"):
        _io.load_weights(tmp_path / "w.safetensors", "fc.w")


def test_weights_torch_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2))
    torch.save({"state_dict": model.state_dict()}, tmp_path / "ckpt.pt")
    got, name = _io.load_weights(tmp_path / "ckpt.pt", "state_dict.0.weight")
    np.testing.assert_array_equal(got, model[0].weight.detach().double().numpy())
    with pytest.raises(
        _io.InputError,
        match=r"no array named '0.weight'; available: "
        r"state_dict\.0\.weight \(5, 3\)",
    ):
        _io.load_weights(tmp_path / "ckpt.pt", "0.weight")
    torch.save(model[1].weight.detach().to(torch.bfloat16), tmp_path / "single.pth")
    got, _ = _io.load_weights(tmp_path / "single.pth")
    np.testing.assert_array_equal(got, model[1].weight.detach().to(torch.bfloat16).double().numpy())


def test_weights_errors(tmp_path):
    with pytest.raises(_io.InputError, match="no such weights file"):
        _io.load_weights(tmp_path / "none.npy")
    (tmp_path / "w.txt").write_text("1")
    with pytest.raises(_io.InputError, match="unsupported weights file type '.txt'"):
        _io.load_weights(tmp_path / "w.txt")
    (tmp_path / "w.npy").write_bytes(b"garbage")
    with pytest.raises(_io.InputError, match=r"w\.npy: cannot read weights"):
        _io.load_weights(tmp_path / "w.npy")


def test_safetensors_needs_the_io_extra(tmp_path, monkeypatch):
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"x": np.ones((3, 2), np.float32)}, tmp_path / "a.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"needs the safetensors package: .*descramble\[io\]"):
        _io.open_activations(tmp_path / "a.safetensors")
    with pytest.raises(ImportError, match=r"descramble\[io\]"):
        _io.load_weights(tmp_path / "a.safetensors")


def test_safetensors_bfloat16_weights_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    w = torch.randn(5, 3, generator=torch.Generator().manual_seed(7)).to(torch.bfloat16)
    b = torch.randn(5, generator=torch.Generator().manual_seed(8))
    st.save_file({"fc.weight": w, "fc.bias": b}, tmp_path / "w.safetensors")
    got, name = _io.load_weights(tmp_path / "w.safetensors", "fc.weight")
    assert name == "fc.weight"
    np.testing.assert_array_equal(got, w.double().numpy())
    got, _ = _io.load_weights(tmp_path / "w.safetensors", "fc.bias")
    np.testing.assert_array_equal(got, b.double().numpy())


def test_safetensors_tensor_of_other_dtype_is_refused_as_activations(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"i": np.ones((4, 2), np.int32)}, tmp_path / "i.safetensors")
    with pytest.raises(_io.InputError, match=r"i\.safetensors\[i\]: expected F16/BF16/F32/F64"):
        _io.open_activations(tmp_path / "i.safetensors")
