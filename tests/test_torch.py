"""descramble.torch: capture against a manual forward pass, function-preserving permutations."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import descramble as ds  # noqa: E402
import descramble.torch as dt  # noqa: E402
from descramble.torch import _rows  # noqa: E402


def _ref_rows(t):
    return t.detach().double().numpy()


def _check_stats(m, rows):
    rows = np.asarray(rows, dtype=np.float64)
    assert m.count == rows.shape[0]
    np.testing.assert_allclose(m.mean, rows.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.gram(), rows.T @ rows, rtol=1e-9, atol=1e-9)


def _all_hooks_gone(model):
    for mod in model.modules():
        assert not mod._forward_hooks
        assert not mod._forward_pre_hooks


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 10),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(10, 7),
        nn.Tanh(),
        nn.Linear(7, 3),
    ).eval()


def _batches(X, sizes):
    out, i = [], 0
    for s in sizes:
        out.append(X[i : i + s])
        i += s
    return out


# ---------------------------------------------------------------------------------------
# capture


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_capture_pre_linear_matches_forward_pass(mlp, dtype):
    mlp = mlp.to(dtype)
    X = torch.randn(53, 6, dtype=dtype, generator=torch.Generator().manual_seed(1))
    batches = _batches(X, [20, 1, 32])
    stats = dt.capture(mlp, ["0", "3"], batches)
    with torch.no_grad():  # per batch: float32 matmuls round differently for other sizes
        h0 = torch.cat([mlp[0](b) for b in batches])
        h3 = torch.cat([mlp[3](torch.relu(mlp[0](b))) for b in batches])
    _check_stats(stats["0"], _ref_rows(h0))
    _check_stats(stats["3"], _ref_rows(h3))
    _all_hooks_gone(mlp)


def test_capture_post_follows_inplace_relu_and_leaves_model_output_alone(mlp):
    X = torch.randn(40, 6, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected_out = mlp(X)
        post0 = torch.relu(mlp[0](X))
        post3 = torch.tanh(mlp[3](post0))
    outputs = []
    handle = mlp.register_forward_hook(lambda m, i, o: outputs.append(o.clone()))
    stats = dt.capture(mlp, ["0", "3"], [X], where="post")
    handle.remove()
    _check_stats(stats["0"], _ref_rows(post0))
    _check_stats(stats["3"], _ref_rows(post3))
    torch.testing.assert_close(outputs[0], expected_out)


def test_capture_linear_with_extra_leading_dims(mlp):
    X = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(3))
    stats = dt.capture(mlp, "0", [X])
    with torch.no_grad():
        rows = mlp[0](X).reshape(-1, 10)
    _check_stats(stats["0"], _ref_rows(rows))


class _Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(F.leaky_relu(self.fc1(x), 0.3))


def test_capture_post_finds_functional_activation_with_arguments():
    torch.manual_seed(4)
    model = _Functional()
    X = torch.randn(30, 5)
    stats = dt.capture(model, "fc1", [X], where="post")
    with torch.no_grad():
        ref = F.leaky_relu(model.fc1(X), 0.3)
    _check_stats(stats["fc1"], _ref_rows(ref))


def test_capture_post_named_activation_module(mlp):
    X = torch.randn(25, 6, generator=torch.Generator().manual_seed(5))
    stats = dt.capture(mlp, "4", [X], where="post")
    with torch.no_grad():
        ref = mlp[4](mlp[3](torch.relu(mlp[0](X))))
    _check_stats(stats["4"], _ref_rows(ref))


class _SharedActivation(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 2)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


def test_capture_post_shared_activation_refused_but_layer_name_works():
    torch.manual_seed(6)
    model = _SharedActivation()
    X = torch.randn(12, 4)
    with pytest.raises(ValueError, match="called more than once per forward pass"):
        dt.capture(model, "act", [X], where="post")
    _all_hooks_gone(model)
    stats = dt.capture(model, "fc2", [X], where="post")
    with torch.no_grad():
        ref = torch.tanh(model.fc2(torch.tanh(model.fc1(X))))
    _check_stats(stats["fc2"], _ref_rows(ref))


class _BNBetween(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.bn, self.out = nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 1)

    def forward(self, x):
        return self.out(torch.relu(self.bn(self.fc(x))))


def test_capture_post_refuses_normalisation_between_layer_and_activation():
    model = _BNBetween().eval()
    with pytest.raises(ValueError, match="BatchNorm1d"):
        dt.capture(model, "fc", [torch.randn(3, 4)], where="post")


class _Untraceable(nn.Module):
    def forward(self, x):
        if float(x.sum()) > 0:  # data-dependent control flow: torch.fx cannot trace it
            return x
        return -x


def test_capture_post_in_sequential_needs_no_tracing():
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), _Untraceable()).eval()
    X = torch.randn(9, 3)
    stats = dt.capture(model, "0", [X], where="post")
    with torch.no_grad():
        ref = torch.sigmoid(model[0](X))
    _check_stats(stats["0"], _ref_rows(ref))


class _UntraceableCustom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.gate = nn.Linear(3, 4), _Untraceable()

    def forward(self, x):
        return self.gate(torch.relu(self.fc(x)))


def test_capture_post_untraceable_custom_model_is_refused():
    with pytest.raises(ValueError, match="cannot trace the model with torch.fx"):
        dt.capture(_UntraceableCustom(), "fc", [torch.randn(2, 3)], where="post")
    model = _UntraceableCustom()
    X = torch.randn(5, 3)
    m = dt.capture(model, "fc", [X])["fc"]  # where="pre" needs no graph
    with torch.no_grad():
        _check_stats(m, _ref_rows(model.fc(X)))


def _cnn(dim):
    Conv, BN = (nn.Conv1d, nn.BatchNorm1d) if dim == 1 else (nn.Conv2d, nn.BatchNorm2d)
    torch.manual_seed(8)
    return nn.Sequential(Conv(3, 5, 3), BN(5), nn.ReLU(), Conv(5, 4, 3), nn.ReLU()).eval()


@pytest.mark.parametrize("dim", [1, 2], ids=["conv1d", "conv2d"])
@pytest.mark.parametrize("where", ["pre", "post"])
def test_capture_conv_channels_and_flatten(dim, where):
    model = _cnn(dim)
    shape = (6, 3, 9) if dim == 1 else (6, 3, 7, 8)
    X = torch.randn(*shape, generator=torch.Generator().manual_seed(9))
    batches = [X[:2], X[2:]]
    with torch.no_grad():
        out = torch.cat([model[3](torch.relu(model[1](model[0](b)))) for b in batches])
        if where == "post":
            out = torch.relu(out)
    ch = dt.capture(model, "3", batches, where=where, conv="channels")["3"]
    fl = dt.capture(model, "3", batches, where=where, conv="flatten")["3"]
    C = out.shape[1]
    _check_stats(ch, _ref_rows(out.movedim(1, -1).reshape(-1, C)))
    _check_stats(fl, _ref_rows(out.reshape(out.shape[0], -1)))


def test_capture_post_of_conv_followed_by_batchnorm_is_refused():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        dt.capture(_cnn(2), "0", [torch.randn(1, 3, 5, 5)], where="post")


def test_capture_batchnorm_output_uses_channels():
    model = _cnn(2)
    X = torch.randn(3, 3, 6, 6, generator=torch.Generator().manual_seed(10))
    stats = dt.capture(model, ["1", "2"], [X])
    with torch.no_grad():
        bn = model[1](model[0](X))
    _check_stats(stats["1"], _ref_rows(bn.movedim(1, -1).reshape(-1, 5)))
    _check_stats(stats["2"], _ref_rows(torch.relu(bn).movedim(1, -1).reshape(-1, 5)))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_capture_low_precision_model_is_upcast(dtype):
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 2)).to(dtype).eval()
    X = torch.randn(64, 8).to(dtype)
    stats = dt.capture(model, "0", [X[:30], X[30:]])
    with torch.no_grad():
        ref = model[0](X).float()
    m = stats["0"]
    rows = ref.double().numpy()
    assert m.count == 64
    np.testing.assert_allclose(m.gram(), rows.T @ rows, rtol=1e-6, atol=1e-5)


def test_capture_batch_forms(mlp):
    X = torch.randn(12, 6, generator=torch.Generator().manual_seed(12))
    y = torch.zeros(12)
    ref = dt.capture(mlp, "0", [X])["0"]
    # torch's float32 Linear may sum the 6 products and the bias in another order for a
    # batch of 5 or 7 than for one of 12 (another kernel blocking). Each ordering is
    # within gamma_7 ~ 7 u of the exact sum (u = eps / 2; Higham's bound for 7 terms),
    # so two of them differ by |dh| <= 7 eps s, s = |x| |W|^T + |b|, and a Gram entry
    # sum_r h_ri h_rj by at most 7 eps (|h|^T s + s^T |h|)_ij to first order (the
    # float64 accumulation adds nothing visible at this size).
    eps = float(torch.finfo(torch.float32).eps)
    with torch.no_grad():
        s = (X.abs() @ mlp[0].weight.abs().T + mlp[0].bias.abs()).double().numpy()
        h = mlp[0](X).abs().double().numpy()
    tol = 7 * eps * (h.T @ s + s.T @ h)
    variants = {
        "tuple": [(X[:5], y[:5]), (X[5:], y[5:])],
        "list": [[X[:5], y[:5]], [X[5:], y[5:]]],
        "dict": [{"x": X[:5], "y": y[:5]}, {"x": X[5:], "y": y[5:]}],
    }
    for name, batches in variants.items():
        m = dt.capture(mlp, "0", batches, input_key="x" if name == "dict" else None)["0"]
        assert m.count == 12, name
        err = np.abs(m.gram() - ref.gram())
        assert np.all(err <= tol), (name, float(np.max(err / tol)))


class _Keyword(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, inputs, scale=1.0):
        return self.fc(inputs) * scale


def test_capture_dict_batch_without_key_calls_model_with_keywords():
    model = _Keyword()
    X = torch.randn(7, 3)
    m = dt.capture(model, "fc", [{"inputs": X, "scale": 2.0}])["fc"]
    with torch.no_grad():
        _check_stats(m, _ref_rows(model.fc(X)))


def test_capture_unknown_layer_lists_names(mlp):
    with pytest.raises(ValueError, match=r"unknown layer 'fc9'.*0, 1, 2, 3, 4, 5"):
        dt.capture(mlp, "fc9", [torch.randn(2, 6)])


def test_capture_removes_hooks_when_the_loop_fails(mlp):
    def batches():
        yield torch.randn(4, 6)
        raise RuntimeError("data loader broke")

    with pytest.raises(RuntimeError, match="data loader broke"):
        dt.capture(mlp, ["0", "3"], batches(), where="post")
    _all_hooks_gone(mlp)


def test_capture_removes_hooks_when_the_model_fails(mlp):
    with pytest.raises(RuntimeError):
        dt.capture(mlp, "0", [torch.randn(4, 5)])  # wrong input width
    _all_hooks_gone(mlp)


def test_capture_bad_arguments(mlp):
    X = [torch.randn(2, 6)]
    with pytest.raises(ValueError, match="where must be 'pre' or 'post'"):
        dt.capture(mlp, "0", X, where="middle")
    with pytest.raises(ValueError, match="conv must be 'channels' or 'flatten'"):
        dt.capture(mlp, "0", X, conv="rows")
    with pytest.raises(ValueError, match="no data reached layers"):
        dt.capture(mlp, "0", [])
    with pytest.raises(TypeError, match="expected batches that are tensors"):
        dt.capture(mlp, "0", [np.zeros((2, 6))])
    with pytest.raises(ValueError, match="duplicate names"):
        dt.capture(mlp, ["0", "0"], X)
    with pytest.raises(ValueError, match="is not an elementwise activation|not an elementwise"):
        dt.capture(mlp, "5", X, where="post")


def test_capture_runs_under_no_grad_and_with_grad_enabled(mlp):
    X = torch.randn(5, 6, requires_grad=True)
    m1 = dt.capture(mlp, "0", [X])["0"]
    with torch.no_grad():
        m2 = dt.capture(mlp, "0", [X])["0"]
    np.testing.assert_array_equal(m1.gram(), m2.gram())


def test_descramble_model_matches_descramble_of_captured_moments(mlp):
    X = torch.randn(200, 6, generator=torch.Generator().manual_seed(13))
    results = dt.descramble_model(mlp, [X[:100], X[100:]], layers=["0", "3"], where="post")
    stats = dt.capture(mlp, ["0", "3"], [X], where="post")
    for name in ("0", "3"):
        ref = ds.descramble(stats[name])
        np.testing.assert_allclose(results[name].objective, ref.objective, rtol=1e-10)
        np.testing.assert_allclose(results[name].lower_bound, ref.lower_bound, rtol=1e-10)
        P = np.asarray(results[name].P)
        np.testing.assert_allclose(P @ P.T, np.eye(P.shape[0]), atol=1e-10)


# ---------------------------------------------------------------------------------------
# permute


def _perm(n, seed):
    return np.random.default_rng(seed).permutation(n)


class _MLPNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.ln, self.act1 = nn.Linear(6, 9), nn.LayerNorm(9), nn.PReLU(9)
        self.fc2, self.bn = nn.Linear(9, 7), nn.BatchNorm1d(7)
        self.fc3 = nn.Linear(7, 2)

    def forward(self, x):
        h = self.act1(self.ln(self.fc1(x)))
        h = F.dropout(F.silu(self.bn(self.fc2(h))) * 2.0, 0.1, self.training)
        return self.fc3(h)


def _randomise_norms(model):
    with torch.no_grad():
        for mod in model.modules():
            for attr in ("weight", "bias", "running_mean"):
                t = getattr(mod, attr, None)
                if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.PReLU)) and (
                    t is not None
                ):
                    t.copy_(torch.randn_like(t))
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                mod.running_var.copy_(torch.rand_like(mod.running_var) + 0.5)
    return model.eval()


def test_permute_mlp_preserves_outputs(mlp):
    X = torch.randn(30, 6, generator=torch.Generator().manual_seed(14))
    with torch.no_grad():
        before = mlp(X)
        w0 = mlp[0].weight.clone()
    p = _perm(10, 0)
    dt.permute(mlp, "0", p)
    dt.permute(mlp, "3", _perm(7, 1))
    with torch.no_grad():
        torch.testing.assert_close(mlp(X), before, rtol=0, atol=1e-6)
        torch.testing.assert_close(mlp[0].weight, w0[p])


def _assert_permuting_preserves_outputs(model, X, perms, atol):
    """``dt.permute`` of each layer in ``perms`` in turn leaves ``model(X)`` unchanged."""
    with torch.no_grad():
        before = model(X)
    for layer, perm in perms.items():
        dt.permute(model, layer, perm)
    with torch.no_grad():
        torch.testing.assert_close(model(X), before, rtol=0, atol=atol)


def test_permute_through_layernorm_prelu_batchnorm_and_functional_ops():
    torch.manual_seed(15)
    model = _randomise_norms(_MLPNorm())
    X = torch.randn(20, 6)
    _assert_permuting_preserves_outputs(model, X, {"fc1": _perm(9, 2), "fc2": _perm(7, 3)}, 1e-6)


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn1 = nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6)
        self.dw = nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.c2, self.bn2 = nn.Conv2d(6, 4, 3), nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.c1(x)))
        x = self.dw(x)
        x = self.pool(torch.relu(self.bn2(self.c2(x))))
        return self.fc(self.flat(x))


def test_permute_cnn_with_batchnorm_depthwise_and_flatten_preserves_outputs():
    torch.manual_seed(16)
    model = _randomise_norms(_CNN())
    X = torch.randn(5, 3, 10, 10)
    _assert_permuting_preserves_outputs(model, X, {"c1": _perm(6, 4), "c2": _perm(4, 5)}, 1e-5)


def test_permute_conv1d_into_torch_flatten():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c, self.fc = nn.Conv1d(2, 5, 3), nn.Linear(5 * 6, 2)

        def forward(self, x):
            return self.fc(torch.flatten(torch.tanh(self.c(x)), 1))

    torch.manual_seed(17)
    model = Net()
    X = torch.randn(4, 2, 8)
    _assert_permuting_preserves_outputs(model, X, {"c": _perm(5, 6)}, 1e-6)


def test_permute_accepts_a_permutation_matrix(mlp):
    p = _perm(10, 7)
    P = np.eye(10)[p]  # (P @ W)[i] = W[p[i]]
    w = mlp[0].weight.detach().clone()
    dt.permute(mlp, "0", P)
    torch.testing.assert_close(mlp[0].weight.detach(), w[p])


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.out = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 1)

    def forward(self, x):
        h = self.a(x)
        return self.out(self.b(torch.relu(h)) + h)


class _Reshape(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 6), nn.Linear(3, 1)

    def forward(self, x):
        return self.b(self.a(x).view(-1, 2, 3))


def test_permute_refuses_residual_connection_and_leaves_model_untouched():
    torch.manual_seed(18)
    model = _Residual()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="residual connection"):
        dt.permute(model, "a", _perm(4, 8))
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)


def test_permute_refuses_model_output(mlp):
    with pytest.raises(ValueError, match="model's output"):
        dt.permute(mlp, "5", _perm(3, 9))


def test_permute_refuses_reshape():
    with pytest.raises(ValueError, match="reshape"):
        dt.permute(_Reshape(), "a", _perm(6, 10))


def test_permute_refuses_untraceable_model():
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), _Untraceable(), nn.Linear(5, 1))
    with pytest.raises(ValueError, match="cannot trace the model with torch.fx"):
        dt.permute(model, "0", _perm(5, 11))


def test_permute_refuses_non_layers_and_bad_permutations(mlp):
    with pytest.raises(ValueError, match="supports nn.Linear and nn.Conv"):
        dt.permute(mlp, "1", _perm(10, 0))
    with pytest.raises(ValueError, match=r"permutation of range\(10\).*9 entries"):
        dt.permute(mlp, "0", np.arange(9))
    with pytest.raises(ValueError, match="not all distinct"):
        dt.permute(mlp, "0", np.r_[0, np.arange(9)])
    with pytest.raises(ValueError, match="1-D integer permutation"):
        dt.permute(mlp, "0", np.full(10, 0.5))
    with pytest.raises(ValueError, match="permutation matrix"):
        dt.permute(mlp, "0", np.ones((10, 10)))
    with pytest.raises(ValueError, match="unknown layer"):
        dt.permute(mlp, "nope", np.arange(10))


def test_permute_refuses_grouped_convolution_source():
    model = nn.Sequential(nn.Conv2d(4, 4, 1, groups=2), nn.Conv2d(4, 1, 1))
    with pytest.raises(ValueError, match="grouped convolution"):
        dt.permute(model, "0", _perm(4, 12))


# ---------------------------------------------------------------------------------------
# apply_orthogonal


def _orthogonal(n, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def test_apply_orthogonal_linear_stack_preserves_outputs():
    torch.manual_seed(19)
    model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.3), nn.Identity(), nn.Linear(8, 3)).eval()
    X = torch.randn(11, 5)
    with torch.no_grad():
        before = model(X)
        w1 = model[0].weight.double().numpy().copy()
    Q = _orthogonal(8, 0)
    dt.apply_orthogonal(model, "0", Q)
    with torch.no_grad():
        torch.testing.assert_close(model(X), before, rtol=0, atol=1e-5)
    np.testing.assert_allclose(model[0].weight.detach().double().numpy(), Q @ w1, atol=1e-6)


def test_apply_orthogonal_with_descrambler_result():
    torch.manual_seed(20)
    model = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 2)).double().eval()
    X = torch.randn(100, 4, dtype=torch.float64)
    r = dt.descramble_model(model, [X], layers="0")["0"]
    with torch.no_grad():
        before = model(X)
    dt.apply_orthogonal(model, "0", r.P)
    with torch.no_grad():
        torch.testing.assert_close(model(X), before, rtol=0, atol=1e-10)


def test_apply_orthogonal_refuses_nonlinearity_and_non_orthogonal(mlp):
    with pytest.raises(ValueError, match="does not commute with a rotation"):
        dt.apply_orthogonal(mlp, "0", _orthogonal(10, 1))
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="orthogonal matrix"):
        dt.apply_orthogonal(model, "0", np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"expected an \(4, 4\) matrix"):
        dt.apply_orthogonal(model, "0", np.eye(3))
    with pytest.raises(ValueError, match="model's output"):
        dt.apply_orthogonal(model, "1", np.eye(1))
    with pytest.raises(ValueError, match="supports nn.Linear"):
        dt.apply_orthogonal(nn.Sequential(nn.Conv1d(1, 2, 1)), "0", np.eye(2))


def test_missing_torch_gives_a_clear_import_error(monkeypatch, mlp):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "descramble\[torch\]"'):
        dt.capture(mlp, "0", [])


def test_permutation_descrambler_applied_with_permute(mlp):
    X = torch.randn(300, 6, generator=torch.Generator().manual_seed(21))
    r = dt.descramble_model(mlp, [X], layers="0", group="permutation", where="post")["0"]
    with torch.no_grad():
        before = mlp(X)
        w = mlp[0].weight.detach().double().numpy().copy()
    dt.permute(mlp, "0", r.P)
    with torch.no_grad():
        torch.testing.assert_close(mlp(X), before, rtol=0, atol=1e-6)
    np.testing.assert_allclose(mlp[0].weight.detach().double().numpy(), np.asarray(r.P) @ w)


@pytest.mark.parametrize("cap", [1, 5, 64], ids=["cap-1", "cap-5", "cap-64"])
def test_capture_buffer_boundaries_do_not_change_the_statistics(mlp, monkeypatch, cap):
    monkeypatch.setattr(_rows, "BUFFER_ROWS", cap)
    X = torch.randn(40, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(22))
    mlp = mlp.double()
    batches = _batches(X, [3, 4, 7, 2, 9, 15])
    m = dt.capture(mlp, "0", batches)["0"]
    with torch.no_grad():
        _check_stats(m, _ref_rows(torch.cat([mlp[0](b) for b in batches])))
