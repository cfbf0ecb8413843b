"""descramble.torch on transformers: (batch, sequence, d) activations, every block's MLP in
one pass, low-precision models, and function-preserving permutations of MLP neurons.

The models are built here; nothing is downloaded. References are hooks-free forward
passes written out module by module.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import descramble as ds  # noqa: E402
import descramble.torch as dt  # noqa: E402

VOCAB, CONTEXT, D, HEADS, HIDDEN, BLOCKS = 11, 9, 16, 2, 40, 4


class _Attention(nn.Module):
    """Causal multi-head self-attention written out, as in GPT-2."""

    def __init__(self):
        super().__init__()
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (HEADS, D // HEADS)).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).flatten(-2))


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(D), _Attention(), nn.LayerNorm(D)
        self.fc1, self.act, self.fc2 = nn.Linear(D, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, D)

    def mlp_input(self, x):
        """The residual stream after attention (what the MLP's LayerNorm receives)."""
        return x + self.attn(self.ln1(x))

    def forward(self, x):
        x = self.mlp_input(x)
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class _GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, D), nn.Embedding(CONTEXT, D)
        self.blocks = nn.Sequential(*[_Block() for _ in range(BLOCKS)])
        self.ln, self.head = nn.LayerNorm(D), nn.Linear(D, VOCAB)

    def embed(self, idx):
        return self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))

    def forward(self, idx):
        return self.head(self.ln(self.blocks(self.embed(idx))))


def _gpt(seed=0):
    torch.manual_seed(seed)
    return _GPT().eval()


def _tokens(batches, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, VOCAB, (b, CONTEXT), generator=g) for b in batches]


def _gpt_hidden(model, idx, where):
    """Each block's MLP hidden layer for one batch, by a hooks-free forward pass."""
    out = []
    with torch.no_grad():
        x = model.embed(idx)
        for block in model.blocks:
            h = block.fc1(block.ln2(block.mlp_input(x)))
            out.append(block.act(h) if where == "post" else h)
            x = block(x)
    return out


def _rows(tensors):
    """(batch, sequence, n) tensors as float64 (samples, n) rows."""
    return np.concatenate([t.double().reshape(-1, t.shape[-1]).numpy() for t in tensors])


def _check_stats(m, rows, rtol):
    assert m.count == rows.shape[0]
    scale = float(np.abs(rows).max())
    np.testing.assert_allclose(m.mean, rows.mean(0), rtol=0, atol=rtol * scale)
    gram = rows.T @ rows
    np.testing.assert_allclose(m.gram(), gram, rtol=0, atol=rtol * float(np.abs(gram).max()))


# ---------------------------------------------------------------------------------------
# capture


@pytest.mark.parametrize("where", ["pre", "post"])
def test_capture_every_block_mlp_in_one_pass_matches_manual_forward(where):
    model = _gpt()
    batches = _tokens([3, 5, 1, 4], seed=1)
    layers = [f"blocks.{i}.fc1" for i in range(BLOCKS)]
    # A generator can be consumed once: every block must be captured in that one pass.
    stats = dt.capture(model, layers, (b for b in batches), where=where)
    manual = [_gpt_hidden(model, b, where) for b in batches]
    for i, name in enumerate(layers):
        assert isinstance(stats[name], ds.Moments)
        rows = _rows([per_batch[i] for per_batch in manual])
        assert rows.shape == (13 * CONTEXT, HIDDEN)  # batch x sequence samples
        _check_stats(stats[name], rows, rtol=1e-12)


def _encoder(seed=0):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(D, HEADS, HIDDEN, dropout=0.1, batch_first=True)
    return nn.TransformerEncoder(layer, BLOCKS, enable_nested_tensor=False).eval()


def _encoder_hidden(model, x, where):
    """Each encoder layer's linear1 output (post-norm layers), by a hooks-free pass."""
    out = []
    with torch.no_grad():
        for layer in model.layers:
            y = layer.norm1(x + layer.self_attn(x, x, x, need_weights=False)[0])
            h = layer.linear1(y)
            out.append(layer.activation(h) if where == "post" else h)
            x = layer.norm2(y + layer.linear2(layer.activation(h)))
    return out


@pytest.mark.parametrize("where", ["pre", "post"])
def test_capture_torch_transformer_encoder_matches_manual_forward(where):
    model = _encoder()
    g = torch.Generator().manual_seed(2)
    batches = [torch.randn(b, CONTEXT, D, generator=g) for b in (2, 6)]
    layers = [f"layers.{i}.linear1" for i in range(BLOCKS)]
    stats = dt.capture(model, layers, batches, where=where)
    manual = [_encoder_hidden(model, b, where) for b in batches]
    for i, name in enumerate(layers):
        _check_stats(stats[name], _rows([per_batch[i] for per_batch in manual]), rtol=1e-12)


class _Rows:
    """A statistics object that keeps what it is given (any ``update(X)`` will do)."""

    def __init__(self, n):
        self.n, self.seen = n, []

    def update(self, X):
        assert X.ndim == 2 and X.shape[1] == self.n
        self.seen.append(np.array(X))
        return self


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bfloat16", "float16"])
def test_capture_low_precision_transformer_against_float32_pass(dtype):
    low = _gpt(seed=3).to(dtype)
    high = _gpt(seed=3)
    high.load_state_dict({k: v.float() for k, v in low.state_dict().items()})  # same weights
    batches = _tokens([4, 4], seed=4)
    layers = [f"blocks.{i}.fc1" for i in range(BLOCKS)]

    raw = dt.capture(low, layers, batches, where="post", statistics=_Rows)
    for name in layers:
        # Widened to float32 on the way in: no float64 copy of a batch is made.
        assert {X.dtype for X in raw[name].seen} == {np.dtype(np.float32)}

    stats = dt.capture(low, layers, batches, where="post")
    manual = [_gpt_hidden(high, b, "post") for b in batches]
    # Each captured activation is a few roundings (unit roundoff u = eps / 2) away from
    # the float32 pass: the LayerNorm, fc1, GELU and residual of its block; LayerNorm
    # rescales what earlier blocks left, so the error does not grow with depth. Four
    # roundings, doubled in a product of two activations: 2 * 4 * u = 4 eps relative to
    # the largest entry.
    eps = float(torch.finfo(dtype).eps)
    rel = 4 * eps
    for i, name in enumerate(layers):
        rows = _rows([per_batch[i] for per_batch in manual])
        _check_stats(stats[name], rows, rtol=rel)
        # ... and well short of what a wrong answer gives (another block's statistics).
        other = _rows([per_batch[(i + 1) % BLOCKS] for per_batch in manual])
        miss = np.abs(stats[name].gram() - other.T @ other).max() / np.abs(rows.T @ rows).max()
        assert miss > 5 * rel


def test_capture_statistics_factory_sees_every_row():
    model = _gpt()
    batches = _tokens([2, 3], seed=5)
    got = dt.capture(model, "blocks.1.fc1", batches, statistics=_Rows)["blocks.1.fc1"]
    rows = _rows([_gpt_hidden(model, b, "pre")[1] for b in batches])
    np.testing.assert_array_equal(np.concatenate(got.seen), rows.astype(np.float32))


# ---------------------------------------------------------------------------------------
# permute


def _perm(n, seed):
    return np.random.default_rng(seed).permutation(n)


def test_permute_every_gpt_block_mlp_preserves_outputs():
    model = _gpt(seed=6)
    (idx,) = _tokens([5], seed=7)
    with torch.no_grad():
        before = model(idx)
    for i in range(BLOCKS):
        p = _perm(HIDDEN, i)
        w1 = model.blocks[i].fc1.weight.detach().clone()
        w2 = model.blocks[i].fc2.weight.detach().clone()
        dt.permute(model, f"blocks.{i}.fc1", p)
        torch.testing.assert_close(model.blocks[i].fc1.weight.detach(), w1[p], rtol=0, atol=0)
        torch.testing.assert_close(model.blocks[i].fc2.weight.detach(), w2[:, p], rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(idx), before, rtol=0, atol=1e-5)


def _only_rows_permuted(linear, p):
    """A wrong permutation: the layer's rows move, its consumer's columns do not."""
    with torch.no_grad():
        linear.weight.copy_(linear.weight[p])
        linear.bias.copy_(linear.bias[p])


def test_permuting_only_fc1_changes_the_gpt_output():
    # The control for the test above: a permutation applied to one side only must show.
    model = _gpt(seed=6)
    (idx,) = _tokens([5], seed=7)
    with torch.no_grad():
        before = model(idx)
    _only_rows_permuted(model.blocks[2].fc1, _perm(HIDDEN, 2))
    with torch.no_grad():
        assert (model(idx) - before).abs().max() > 1e-2


def test_permute_torch_transformer_encoder_layers_preserves_outputs():
    model = _encoder(seed=8)
    X = torch.randn(3, CONTEXT, D, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = model(X)  # torch's fused fast path (no hooks, eval, no grad)
    for i in range(BLOCKS):
        dt.permute(model, f"layers.{i}.linear1", _perm(HIDDEN, 10 + i))
    with torch.no_grad():
        torch.testing.assert_close(model(X), before, rtol=0, atol=1e-5)
    _only_rows_permuted(model.layers[0].linear1, _perm(HIDDEN, 20))
    with torch.no_grad():
        assert (model(X) - before).abs().max() > 1e-2


def test_encoder_layer_feedforward_refusals():
    model = _encoder()
    with pytest.raises(ValueError, match="does not commute with a rotation"):
        dt.apply_orthogonal(model, "layers.0.linear1", np.eye(HIDDEN))
    # linear2 feeds the residual addition; fx cannot trace torch's layer to say more.
    with pytest.raises(ValueError, match="cannot trace the model with torch.fx"):
        dt.permute(model, "layers.0.linear2", _perm(D, 0))
    odd = nn.TransformerEncoderLayer(D, HEADS, HIDDEN, activation=lambda x: x * x.sum(-1, True))
    with pytest.raises(ValueError, match="whose behaviour under a permutation is not known"):
        dt.permute(odd, "linear1", _perm(HIDDEN, 1))
    with pytest.raises(ValueError, match="not a known elementwise activation"):
        dt.capture(odd, "linear1", [torch.randn(2, 3, D)], where="post")


def test_descrambled_gpt_mlp_permutation_preserves_outputs():
    """End to end: capture every MLP, solve for permutation descramblers, apply them."""
    model = _gpt(seed=11)
    batches = _tokens([8, 8], seed=12)
    layers = [f"blocks.{i}.fc1" for i in range(BLOCKS)]
    results = dt.descramble_model(model, batches, layers, group="permutation", where="post")
    with torch.no_grad():
        before = model(batches[0])
    for name, r in results.items():
        P = np.asarray(r.P)
        assert P.shape == (HIDDEN, HIDDEN) and np.all(P.sum(0) == 1) and np.all(P.sum(1) == 1)
        dt.permute(model, name, P)
    with torch.no_grad():
        torch.testing.assert_close(model(batches[0]), before, rtol=0, atol=1e-5)


def test_capture_into_a_sketch():
    Sketch = getattr(ds, "Sketch", None)
    if Sketch is None:
        pytest.skip("ds.Sketch is not in this build")
    model = _gpt()
    batches = _tokens([3, 5], seed=13)
    got = dt.capture(model, "blocks.0.fc1", batches, statistics=lambda n: Sketch(n, 4))
    sketch = got["blocks.0.fc1"]
    # Fewer rows than the capture buffer holds: one update with the same float32 rows.
    rows = _rows([_gpt_hidden(model, b, "pre")[0] for b in batches]).astype(np.float32)
    ref = Sketch(HIDDEN, 4).update(rows)
    assert isinstance(sketch, Sketch)
    assert sketch.count == ref.count == rows.shape[0]
    np.testing.assert_array_equal(sketch.mean, ref.mean)
    np.testing.assert_array_equal(ds.descramble(sketch).P, ds.descramble(ref).P)
