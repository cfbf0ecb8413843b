"""Bounded-memory readers for activation files and loaders for weight files.

Activations (rows = samples, columns = neurons) are read in row blocks with plain
``readinto`` calls into one reused buffer rather than through a memory map: the
pages of a memory-mapped file count towards the process's resident set
(``ru_maxrss``) once touched, so streaming a 2 GB ``.npy`` through ``np.load(...,
mmap_mode="r")`` makes the process look 2 GB large. Explicit reads keep the
resident memory at one block whatever the file size, and hand the very bytes that
were read to the SHA-256 of the file, so each file is read once.

Supported activation inputs: a ``.npy`` file, a ``.npz`` archive (each array one
shard), a ``.safetensors`` file (each tensor one shard; the header is read and
checked by the ``safetensors`` package of the ``io`` extra, the data by the
block reader), or a folder of such files (sorted by name). Weights: ``.npy``, ``.npz``,
``.safetensors`` and torch state dicts (``.pt``/``.pth``, loaded with
``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

ACTIVATION_SUFFIXES = (".npy", ".npz", ".safetensors")
WEIGHT_SUFFIXES = (".npy", ".npz", ".safetensors", ".pt", ".pth")

# safetensors dtype tags we accept for activations (BF16 has no numpy dtype: it is
# read as uint16 and widened to float32 by a 16-bit shift).
_SAFETENSORS_FLOATS: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_SAFETENSORS_ALL: dict[str, np.dtype] = {
    **_SAFETENSORS_FLOATS,
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}
_HASH_CHUNK = 1 << 22


class InputError(ValueError):
    """A problem with an input file: the message always names the file."""


@dataclass
class Shard:
    """One 2-D array of activations inside a file.

    ``offset`` is the byte offset of the array data in the file for ``.npy`` and
    ``.safetensors``; ``.npz`` members are read through :mod:`zipfile`.
    """

    path: Path
    key: str | None
    kind: str  # "npy" | "npz" | "safetensors"
    rows: int
    n: int
    dtype: np.dtype  # as stored (byte order included); "bf16" is marked by ``bf16``
    fortran: bool
    offset: int
    bf16: bool = False

    @property
    def label(self) -> str:
        return str(self.path) if self.key is None else f"{self.path}[{self.key}]"

    @property
    def row_bytes(self) -> int:
        return self.n * self.dtype.itemsize

    @property
    def out_dtype(self) -> np.dtype:
        """The dtype blocks are handed out in: float64 stays, everything else float32."""
        return (
            np.dtype(np.float64)
            if self.dtype.kind == "f" and self.dtype.itemsize == 8
            else (np.dtype(np.float32))
        )


class FileHasher:
    """SHA-256 of a file, fed by the reader with the bytes it reads anyway.

    Bytes arrive as ``(offset, data)``; a gap before ``offset`` (a header, a tensor
    that is not read, the prefix skipped on ``--resume``) is read here once, and
    :meth:`finish` reads whatever the reader never touched. A reader that goes
    strictly forward therefore reads every byte exactly once.
    """

    def __init__(self, path: Path):
        self.path = path
        self._h = hashlib.sha256()
        self.pos = 0

    def catch_up(self, upto: int) -> None:
        if upto <= self.pos:
            return
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            while self.pos < upto:
                chunk = f.read(min(_HASH_CHUNK, upto - self.pos))
                if not chunk:
                    raise InputError(f"{self.path}: file shrank while it was being read")
                self._h.update(chunk)
                self.pos += len(chunk)

    def feed(self, offset: int, data: Any) -> None:
        view = memoryview(data).cast("B")
        end = offset + len(view)
        if end <= self.pos:
            return
        if offset > self.pos:
            self.catch_up(offset)
        self._h.update(view[self.pos - offset :])
        self.pos = end

    def digest_so_far(self) -> str:
        return self._h.copy().hexdigest()

    def finish(self) -> str:
        self.catch_up(self.path.stat().st_size)
        return self._h.hexdigest()


def sha256_file(path: Path) -> str:
    return FileHasher(Path(path)).finish()


# ---------------------------------------------------------------------------------------
# Headers


def _read_npy_header(fp: IO[bytes], label: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as exc:  # numpy raises ValueError/OSError/SyntaxError on bad headers
        raise InputError(f"{label}: not a readable .npy array ({exc})") from exc
    return tuple(int(s) for s in shape), bool(fortran), np.dtype(dtype)


def _check_activation_shape(label: str, shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise InputError(
            f"{label}: expected a 2-D array of activations (samples, neurons), got shape {shape}"
        )


def _check_activation_array(label: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    _check_activation_shape(label, shape)
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8):
        raise InputError(
            f"{label}: expected float16/float32/float64 activations, got dtype {dtype}"
        )


def _npy_shards(path: Path) -> list[Shard]:
    with open(path, "rb") as f:
        shape, fortran, dtype = _read_npy_header(f, str(path))
        offset = f.tell()
    _check_activation_array(str(path), shape, dtype)
    shard = Shard(path, None, "npy", shape[0], shape[1], dtype, fortran, offset)
    need = offset + shard.rows * shard.row_bytes
    size = path.stat().st_size
    if size < need:
        raise InputError(
            f"{path}: truncated .npy file: header says {shape} {dtype} ({need} bytes), "
            f"file has {size} bytes"
        )
    return [shard]


def _npz_shards(path: Path, key: str | None) -> list[Shard]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable .npz archive ({exc})") from exc
    with zf:
        members = [m for m in zf.namelist() if m.endswith(".npy")]
        names = [m[: -len(".npy")] for m in members]
        if key is not None:
            if key not in names:
                raise InputError(f"{path}: no array named {key!r}; available: {', '.join(names)}")
            members, names = [key + ".npy"], [key]
        shards = []
        for member, name in zip(members, names, strict=True):
            label = f"{path}[{name}]"
            try:
                with zf.open(member) as fp:
                    shape, fortran, dtype = _read_npy_header(fp, label)
            except zipfile.BadZipFile as exc:
                raise InputError(f"{label}: corrupt archive member ({exc})") from exc
            _check_activation_array(label, shape, dtype)
            shards.append(Shard(path, name, "npz", shape[0], shape[1], dtype, fortran, -1))
    return shards


def _safe_open(path: Path) -> Any:
    """``safetensors.safe_open`` on ``path`` (numpy framework), with errors that name it."""
    try:
        from safetensors import SafetensorError, safe_open
    except ImportError as exc:
        raise ImportError(
            f'reading {path} needs the safetensors package: pip install "descramble[io]"'
        ) from exc
    try:
        return safe_open(str(path), framework="numpy")
    except SafetensorError as exc:
        reason = str(exc).removeprefix("Error while deserializing header: ")
        if "header too large" in reason:
            with open(path, "rb") as f:
                declared = int.from_bytes(f.read(8), "little")
            raise InputError(
                f"{path}: not a safetensors file (header length {declared} exceeds the file "
                f"size {path.stat().st_size})"
            ) from None
        if "not fully covered" in reason:
            raise InputError(
                f"{path}: truncated or padded safetensors file: its tensors do not cover the "
                f"file's {path.stat().st_size} bytes ({reason})"
            ) from None
        raise InputError(f"{path}: corrupt safetensors header ({reason})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc


@dataclass
class _Tensor:
    tag: str  # the safetensors dtype name, e.g. "F32", "BF16"
    shape: tuple[int, ...]
    offset: int  # byte offset of the data in the file


def _safetensors_layout(path: Path) -> dict[str, _Tensor]:
    """Every tensor of the file, in file order, with the byte offset of its data.

    The safetensors package validates the header and that the tensors tile the
    data buffer with no hole and nothing after it (the format requires both), so
    the data starts ``sum(sizes)`` bytes before the end of the file and each
    tensor right after the one before it. Reading the bytes ourselves keeps the
    memory at one block and lets the reader hash the bytes it reads.
    """
    with _safe_open(path) as f:
        described = [
            (name, f.get_slice(name).get_dtype(), tuple(f.get_slice(name).get_shape()))
            for name in f.offset_keys()
        ]
    sizes = []
    for name, tag, shape in described:
        if tag not in _SAFETENSORS_ALL:
            raise InputError(f"{path}[{name}]: unsupported safetensors dtype {tag}")
        sizes.append(int(np.prod(shape, dtype=np.int64)) * _SAFETENSORS_ALL[tag].itemsize)
    offset = path.stat().st_size - sum(sizes)
    layout = {}
    for (name, tag, shape), size in zip(described, sizes, strict=True):
        layout[name] = _Tensor(tag, shape, offset)
        offset += size
    return layout


def _safetensors_shards(path: Path, key: str | None) -> list[Shard]:
    layout = _safetensors_layout(path)
    names = list(layout)
    if key is not None:
        if key not in layout:
            raise InputError(f"{path}: no tensor named {key!r}; available: {', '.join(names)}")
        names = [key]
    shards = []
    for name in names:
        t = layout[name]
        label = f"{path}[{name}]"
        if t.tag not in _SAFETENSORS_FLOATS:
            raise InputError(f"{label}: expected F16/BF16/F32/F64 activations, got dtype {t.tag}")
        _check_activation_shape(label, t.shape)
        dtype = _SAFETENSORS_FLOATS[t.tag]
        rows, n = t.shape
        shards.append(
            Shard(path, name, "safetensors", rows, n, dtype, False, t.offset, t.tag == "BF16")
        )
    return shards


def open_activations(source: os.PathLike | str, key: str | None = None) -> list[Shard]:
    """Describe every shard of an activation input (headers only, no data read).

    Checks that all shards agree on the number of neurons and the dtype, so a
    mismatch fails before hours of streaming rather than after.
    """
    root = Path(source)
    if root.is_dir():
        files = sorted(p for p in root.iterdir() if p.suffix in ACTIVATION_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"{root}: folder holds no {'/'.join(ACTIVATION_SUFFIXES)} files")
    elif root.is_file():
        files = [root]
    else:
        raise InputError(f"{root}: no such file or folder")
    shards: list[Shard] = []
    for path in files:
        if path.suffix == ".npy":
            shards += _npy_shards(path)
        elif path.suffix == ".npz":
            shards += _npz_shards(path, key)
        elif path.suffix == ".safetensors":
            shards += _safetensors_shards(path, key)
        else:
            raise InputError(
                f"{path}: unsupported activation file type {path.suffix!r} "
                f"(expected {', '.join(ACTIVATION_SUFFIXES)} or a folder of them)"
            )
    first = shards[0]
    for s in shards[1:]:
        if s.n != first.n:
            raise InputError(
                f"{s.label}: has {s.n} neurons (columns), but {first.label} has {first.n}"
            )
        if (s.dtype.kind, s.dtype.itemsize, s.bf16) != (
            first.dtype.kind,
            first.dtype.itemsize,
            first.bf16,
        ):
            raise InputError(
                f"{s.label}: has dtype {dtype_name(s)}, but {first.label} has {dtype_name(first)}"
            )
    return shards


def dtype_name(s: Shard) -> str:
    return "bfloat16" if s.bf16 else str(s.dtype)


# ---------------------------------------------------------------------------------------
# Streaming


def _widen_bf16(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) as float32: bfloat16 is float32's top 16 bits."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def _to_output(raw: np.ndarray, shard: Shard) -> np.ndarray:
    """Native float32/float64 rows from the raw bytes of a block (no copy if already so)."""
    if shard.bf16:
        return _widen_bf16(raw)
    out = shard.out_dtype
    if raw.dtype == out:
        return raw
    return raw.astype(out)


def iter_blocks(
    shard: Shard,
    batch_rows: int,
    *,
    start_row: int = 0,
    hasher: FileHasher | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_row, block)`` for rows ``start_row..`` of ``shard``, ``batch_rows`` at a time.

    Blocks are float32 (float16/bfloat16/float32 input) or float64, C-contiguous, and
    valid only until the next block is requested (the buffer is reused). Raises
    :class:`InputError` naming the file on short reads and on NaN/inf (with the row).
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
    if shard.kind == "npz":
        yield from _iter_npz(shard, batch_rows, start_row)
        return
    if shard.fortran:
        yield from _iter_fortran(shard, batch_rows, start_row)
        return
    buf = np.empty((min(batch_rows, max(shard.rows - start_row, 0)), shard.n), shard.dtype)
    with open(shard.path, "rb", buffering=0) as f:
        f.seek(shard.offset + start_row * shard.row_bytes)
        for r0 in range(start_row, shard.rows, batch_rows):
            raw = buf[: min(batch_rows, shard.rows - r0)]
            flat = raw.reshape(-1).view(np.uint8)
            got = 0
            while got < flat.size:  # readinto may return short counts on some filesystems
                k = f.readinto(flat[got:].data)
                if not k:
                    break
                got += k
            if got < flat.size:
                raise InputError(
                    f"{shard.label}: truncated: expected {shard.rows} rows, data ends in row "
                    f"{r0 + got // shard.row_bytes}"
                )
            if hasher is not None:
                hasher.feed(shard.offset + r0 * shard.row_bytes, flat)
            block = _to_output(raw, shard)
            _check_block_finite(block, shard, r0)
            yield r0, block


def _iter_fortran(
    shard: Shard, batch_rows: int, start_row: int
) -> Iterator[tuple[int, np.ndarray]]:
    # A column-major file stores each neuron's samples contiguously: a row block is n
    # separate runs, read with one seek each. Memory stays one block.
    item = shard.dtype.itemsize
    with open(shard.path, "rb") as f:
        for r0 in range(start_row, shard.rows, batch_rows):
            rows = min(batch_rows, shard.rows - r0)
            raw = np.empty((rows, shard.n), shard.dtype, order="F")
            for j in range(shard.n):
                f.seek(shard.offset + (j * shard.rows + r0) * item)
                col = raw[:, j].view(np.uint8)
                if f.readinto(col.data) != col.size:
                    raise InputError(f"{shard.label}: truncated in column {j}")
            block = np.ascontiguousarray(_to_output(raw, shard))
            _check_block_finite(block, shard, r0)
            yield r0, block


def _iter_npz(shard: Shard, batch_rows: int, start_row: int) -> Iterator[tuple[int, np.ndarray]]:
    label = shard.label
    try:
        with zipfile.ZipFile(shard.path) as zf, zf.open(f"{shard.key}.npy") as fp:
            _read_npy_header(fp, label)
            if shard.fortran:
                # A compressed column-major member cannot be read by rows without
                # decompressing it whole: this one shard is loaded (documented).
                data = fp.read(shard.rows * shard.row_bytes)
                if len(data) < shard.rows * shard.row_bytes:
                    raise InputError(f"{label}: truncated: expected {shard.rows} rows")
                arr = np.ascontiguousarray(
                    np.frombuffer(data, shard.dtype).reshape((shard.rows, shard.n), order="F")
                )
                for r0 in range(start_row, shard.rows, batch_rows):
                    block = _to_output(arr[r0 : r0 + batch_rows], shard)
                    _check_block_finite(block, shard, r0)
                    yield r0, block
                return
            skip = start_row * shard.row_bytes
            while skip:
                skip -= len(fp.read(min(skip, _HASH_CHUNK)))
            buf = np.empty((min(batch_rows, max(shard.rows - start_row, 0)), shard.n), shard.dtype)
            for r0 in range(start_row, shard.rows, batch_rows):
                raw = buf[: min(batch_rows, shard.rows - r0)]
                flat = raw.reshape(-1).view(np.uint8)
                got = 0
                while got < flat.size:
                    k = fp.readinto(flat[got:].data)  # type: ignore[attr-defined]
                    if not k:
                        break
                    got += k
                if got < flat.size:
                    raise InputError(
                        f"{label}: truncated: expected {shard.rows} rows, data ends in row "
                        f"{r0 + got // shard.row_bytes}"
                    )
                block = _to_output(raw, shard)
                _check_block_finite(block, shard, r0)
                yield r0, block
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"{label}: corrupt archive member ({exc})") from exc


def _check_block_finite(block: np.ndarray, shard: Shard, first_row: int) -> None:
    if not np.isfinite(block).all():
        row, col = (int(i) for i in np.argwhere(~np.isfinite(block))[0])
        raise InputError(f"{shard.label}: NaN or infinity in row {first_row + row} (column {col})")


# ---------------------------------------------------------------------------------------
# Weights


def _flatten_state(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts of tensors (``{"state_dict": {...}}``) as dotted names."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten_state(v, name + "."))
        else:
            out[name] = v
    return out


def _pick(path: Path, arrays: dict[str, Any], key: str | None, shape_of: Any) -> tuple[str, Any]:
    listing = ", ".join(f"{k} {tuple(shape_of(v))}" for k, v in arrays.items())
    if key is None:
        if len(arrays) == 1:
            return next(iter(arrays.items()))
        raise InputError(f"{path}: holds {len(arrays)} arrays, choose one with --key: {listing}")
    if key not in arrays:
        raise InputError(f"{path}: no array named {key!r}; available: {listing}")
    return key, arrays[key]


def load_weights(path: os.PathLike | str, key: str | None = None) -> tuple[np.ndarray, str]:
    """Load one weight array as float64: ``(array, name)``.

    ``key`` picks an array from ``.npz``/``.safetensors``/torch state dicts (required
    when the file holds more than one; the error lists what is available).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such weights file")
    suffix = path.suffix
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
            name = path.stem
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                name, arr = _pick(path, {k: z[k] for k in z.files}, key, np.shape)
        elif suffix == ".safetensors":
            name, arr = _load_safetensors_tensor(path, key)
        elif suffix in (".pt", ".pth"):
            name, arr = _load_torch_tensor(path, key)
        else:
            raise InputError(
                f"{path}: unsupported weights file type {suffix!r} "
                f"(expected {', '.join(WEIGHT_SUFFIXES)})"
            )
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        raise InputError(f"{path}: cannot read weights ({exc})") from exc
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{path}[{name}]: expected a real numeric array, got dtype {arr.dtype}")
    return arr.astype(np.float64), name


def _load_safetensors_tensor(path: Path, key: str | None) -> tuple[str, np.ndarray]:
    layout = _safetensors_layout(path)
    name, t = _pick(path, layout, key, lambda v: v.shape)
    if t.tag != "BF16":
        with _safe_open(path) as f:
            return name, f.get_tensor(name)
    # numpy has no bfloat16: the raw 16-bit words, widened to float32 by a shift.
    count = int(np.prod(t.shape, dtype=np.int64))
    raw = np.fromfile(path, dtype="<u2", count=count, offset=t.offset)
    return name, _widen_bf16(raw).reshape(t.shape)


def _load_torch_tensor(path: Path, key: str | None) -> tuple[str, np.ndarray]:
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f'reading {path} needs PyTorch: pip install "descramble[torch]"') from exc
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, torch.Tensor):
        obj = {path.stem: obj}
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a tensor or a state dict, got {type(obj).__name__}")
    tensors = {k: v for k, v in _flatten_state(obj).items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise InputError(f"{path}: holds no tensors")
    name, t = _pick(path, tensors, key, lambda v: v.shape)
    t = t.detach()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    return name, t.numpy()
