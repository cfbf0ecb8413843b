"""PyTorch integration: capture hidden statistics, descramble, permute neurons in place.

Needs the ``torch`` extra (``pip install "descramble[torch]"``); ``import torch``
happens only when a function here is called.

* :func:`capture` streams a layer's activations into :class:`descramble.Moments`
  through forward hooks: nothing but the n x n statistics is kept.
* :func:`descramble_model` captures several layers in one pass and descrambles each.
* :func:`permute` applies a neuron permutation to a layer and to every module that
  consumes its output (found by tracing the model with :mod:`torch.fx`), so the
  network computes the same function.
* :func:`apply_orthogonal` does the same for an orthogonal matrix between two
  linear layers with no nonlinearity in between.

The modules behind them: ``_tables`` (what torch's modules and functions do to a
neuron axis), ``_graph`` (fx tracing and feature-axis inference), ``_activation``
(the activation after a layer, for ``where="post"``), ``_rows`` and ``_capture``
(hooks and buffered statistics), ``_propagate`` (one handler per kind of graph
node) and ``_permute`` (the in-place edits).

References: Amey, Keeley, Choudhury, Kuprov, PNAS 118(5) e2016917118 (2021),
doi:10.1073/pnas.2016917118 (descrambler groups; permutations commute with
elementwise activations); Sule, Spencer, Czaja, ACHA 79 (2025) 101793,
doi:10.1016/j.acha.2025.101793 (the exact solution computed from the statistics).
"""

from __future__ import annotations

from ._capture import capture, descramble_model
from ._permute import apply_orthogonal, permute

__all__ = ["apply_orthogonal", "capture", "descramble_model", "permute"]
