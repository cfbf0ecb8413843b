"""``descramble fit``: descramble a large layer from activation files, in bounded memory.

::

    descramble fit ACTIVATIONS --weights FILE [--key NAME] --out DIR [options]

Streams the activations (rows = samples, columns = neurons) in row blocks into a
:class:`descramble.Moments`, solves the descrambling problem once on the n x n
statistics, and writes ``DIR/descrambler.npy`` (P), ``DIR/weights_descrambled.npy``
(``P @ W`` for ``--side output``, ``W @ P.T`` for ``--side input``) and
``DIR/report.json``. Memory is O(n^2 + block) whatever the data size.

The job runs in four steps, one module each: :mod:`.inputs` opens the inputs
(headers only) and checks every option against them, so a bad option fails before
any data is read; :mod:`.checkpoint` saves and restores the partial statistics
(``--resume``); :mod:`.stream` reads the blocks into the statistics; :mod:`.solve`
solves and writes the results. :mod:`.files` writes every file atomically.

Outputs: the results of an earlier run in ``DIR`` are removed once the options
are checked, and the new ones are staged in a temporary folder inside ``DIR`` and
moved into place together at the end (``report.json`` last), so a failed run
leaves no result that could be taken for its own. A file-system failure (``DIR``
is a file, the disk is full, the file system is read-only) is a one-line error
with exit code 2 and leaves no temporary file behind.

Checksums: the SHA-256 of every input file is computed from the bytes the reader
reads anyway (each byte of a row-major ``.npy`` file is read once).
Column-major ``.npy`` files, ``.npz`` archives and ``.safetensors`` files are
hashed in one extra sequential pass, and ``--resume`` re-reads (without
recomputing anything) the prefix of the file that was being read when the job
stopped, to check it is the same data.

``--resume``: every ``--checkpoint-blocks`` blocks (at the end of the shard that
completes them, or inside a big shard) and after the last block, the partial
statistics and the position reached are written atomically to
``DIR/checkpoint.npz``; many small shards therefore do not pay for an n x n write
each. A rerun with ``--resume`` continues from there and gives the same answer as
an uninterrupted run. The checkpoint is kept after success, so ``--resume`` with
other solver options (``--smoothness``, ``--group``, ...) re-solves without
reading the data again (the files' sizes and modification times are checked). A
checkpoint that cannot be read (truncated, corrupted) is a clear error.

References: Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793; Amey et al., PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118.
"""

from __future__ import annotations

from .arguments import add_arguments
from .checkpoint import CHECKPOINT
from .job import run

__all__ = ["CHECKPOINT", "add_arguments", "run"]
