"""repbench.torch: seeds, epoch order, flips/rotations, per-protein means, checkpoints, the epoch loop, precision.

Every numeric test pins the precision it compares (``precision=fp32``): the automatic choice is bf16 on CPUs
with native bf16 (AMX, AVX-512 BF16). The bf16 path has its own tests (marked ``bf16``), with tolerances
argued from bfloat16's 8 significant bits.
"""

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from repbench.embedders import Embedding  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402
from repbench.torch import (
    CheckpointDir,
    EpochResult,
    RunConfig,
    augment_dihedral,
    choose_runtime,  # noqa: E402
    derive_seed,
    epoch_order,
    protein_means,
    resume_runtime,
    run_training_epoch,
    train,
)
from repbench.torch.runtime import cpu_kind  # noqa: E402
from repbench.torch.seeding import generator, rng_state, set_rng_state  # noqa: E402


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, 1, "order") == derive_seed(0, 1, "order")
    assert len({derive_seed(0, e, "order") for e in range(50)}) == 50
    assert derive_seed(0, 1, "order") != derive_seed(0, 1, "augment")


def test_epoch_order_is_a_function_of_seed_and_epoch():
    ids = np.arange(100, 200)
    first = epoch_order(ids, 3, 1)
    assert sorted(first) == list(ids)  # a permutation of the ids given
    assert np.array_equal(first, epoch_order(ids, 3, 1))
    assert not np.array_equal(first, epoch_order(ids, 3, 2))
    assert not np.array_equal(first, epoch_order(ids, 4, 1))
    subset = epoch_order(ids, 3, 1, limit=10)
    assert np.array_equal(subset, first[:10])


def test_augmentation_uses_all_eight_symmetries_and_moves_pixels_only():
    crop = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    crops = crop.repeat(400, 1, 1, 1)
    out = augment_dihedral(crops, generator(0, 1, "augment"))
    distinct = {tuple(c.flatten().tolist()) for c in out}
    assert len(distinct) == 8  # 4 rotations x (flipped or not) of an asymmetric crop
    for c in out[:20]:  # every output is the same pixels, rearranged within each channel
        assert torch.equal(c.reshape(2, -1).sort().values, crop[0].reshape(2, -1).sort().values)
    again = augment_dihedral(crops, generator(0, 1, "augment"))
    assert torch.equal(out, again)


def test_protein_means_average_each_proteins_cells():
    proteins = np.array(["B", "A", "B", "C", "B"])
    vectors = np.array([[1, 0], [5, 5], [3, 0], [7, 1], [5, 3]], np.float32)
    names, means = protein_means(proteins, vectors)
    assert names == ["B", "A", "C"]
    np.testing.assert_allclose(means, [[3, 1], [5, 5], [7, 1]])  # not the sum [9, 3], not the first cell [1, 0]


def test_protein_means_equal_a_plain_loop_on_many_cells_per_protein(rng):
    proteins = rng.choice(np.array(["P1", "P2", "P3", "P4"]), size=200)
    vectors = rng.normal(size=(200, 7)).astype(np.float32)
    names, means = protein_means(proteins, vectors)
    for name, mean in zip(names, means):
        cells = [vectors[i].astype(np.float64) for i in range(200) if proteins[i] == name]
        assert len(cells) > 1
        np.testing.assert_allclose(mean, sum(cells) / len(cells), rtol=1e-6, atol=1e-7)


def test_rng_state_round_trip_through_weights_only_load(tmp_path):
    torch.manual_seed(5)
    np.random.seed(5)
    state = rng_state()
    expected = (torch.rand(3), np.random.rand(3))
    torch.save(state, tmp_path / "rng.pt")
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert torch.equal(torch.rand(3), expected[0])
    np.testing.assert_array_equal(np.random.rand(3), expected[1])


def test_runtime_choice_and_bad_device():
    runtime = choose_runtime("cpu")
    assert runtime.device.type == "cpu" and runtime.threads >= 1
    assert runtime.precision_chosen_by == "auto" and runtime.precision in ("fp32", "bf16")
    fp32 = choose_runtime("cpu", {"precision": "fp32"})
    assert fp32.autocast_dtype is None and fp32.precision == "fp32" and fp32.precision_chosen_by == "option"
    bf16 = choose_runtime("cpu", {"precision": "bf16"})
    assert bf16.autocast_dtype == torch.bfloat16 and bf16.precision == "bf16"
    with pytest.raises(UsageError):
        choose_runtime("tpu")
    with pytest.raises(UsageError):
        choose_runtime("cpu", {"precision": "fp8"})
    if not torch.cuda.is_available():
        with pytest.raises(RepbenchError) as error:
            choose_runtime("cuda")
        assert error.value.code == "cuda-unavailable"


def test_runtime_record_names_precision_who_chose_it_and_the_cpu_kind():
    described = choose_runtime("cpu", {"precision": "fp32"}).describe()
    assert described == {
        "device": "cpu",
        "precision": "fp32",
        "precision_chosen_by": "option",
        "cpu": cpu_kind(),
        "channels_last": True,
        "threads": described["threads"],
    }
    flags = (
        set(" ".join(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split())
        if __import__("os").path.exists("/proc/cpuinfo")
        else set()
    )
    expected = (
        "AMX"
        if "amx_bf16" in flags
        else "AVX-512 BF16"
        if "avx512_bf16" in flags
        else {"AVX512": "AVX-512"}.get(torch.backends.cpu.get_cpu_capability(), torch.backends.cpu.get_cpu_capability())
    )
    assert cpu_kind() == expected
    auto = choose_runtime("cpu")  # the automatic choice: bf16 exactly where the CPU computes it natively
    assert auto.precision == ("bf16" if {"amx_bf16", "avx512_bf16"} & flags else "fp32")


def _toy_problem():
    """A linear model on two separable blobs: small enough to test the loop itself."""
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(32, 4, generator=g) + 2, torch.randn(32, 4, generator=g) - 2])
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    return x, y


def _runtime(precision="fp32", chosen_by=None):
    runtime = choose_runtime("cpu", {"channels_last": "false", "precision": precision})
    return runtime if chosen_by is None else replace(runtime, precision_chosen_by=chosen_by)


def _run_toy(tmp_path, epochs, on_epoch=None, name="toy", runtime=None):
    x, y = _toy_problem()
    torch.manual_seed(1)
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    checkpoints = CheckpointDir(tmp_path / name)
    runtime = resume_runtime(runtime or _runtime(), checkpoints)  # as the plugins do
    config = RunConfig(name=name, epochs=epochs, lr=0.05, seed=0)

    def train_epoch(epoch):
        order = torch.randperm(64, generator=generator(0, epoch, "order"))
        batches = [(x[order[i : i + 16]], y[order[i : i + 16]]) for i in range(0, 64, 16)]
        return run_training_epoch(
            model, optimizer, batches, lambda m, b: torch.nn.functional.cross_entropy(m(b[0]).float(), b[1]), runtime
        )

    def evaluate(epoch):
        with runtime.autocast():
            out = model(x).float()
        loss = float(torch.nn.functional.cross_entropy(out, y))
        return EpochResult({"val_loss": loss}, Embedding(["w"], out[:3].numpy().copy()), loss)

    outcome = train(
        model, optimizer, runtime, config, checkpoints, train_epoch=train_epoch, evaluate=evaluate, on_epoch=on_epoch
    )
    outcome.runtime = runtime
    return outcome


def test_loop_loss_falls_and_keeps_the_best_epoch(tmp_path):
    outcome = _run_toy(tmp_path, epochs=4)
    losses = [h["val_loss"] for h in outcome.history]
    assert losses[-1] < losses[0]
    assert outcome.best_epoch == 1 + int(np.argmin(losses))
    assert CheckpointDir(tmp_path / "toy").epochs() == [4]  # only the newest checkpoint is kept


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.bf16)])
def test_loop_resume_is_exact(tmp_path, precision):
    """Bit for bit in either precision: bf16 autocast is as deterministic as fp32 on one machine (same
    kernels, same order); what must not change on resume is the precision itself."""
    runtime = _runtime(precision)
    straight_reports = []
    straight = _run_toy(tmp_path / "a", epochs=4, runtime=runtime, on_epoch=straight_reports.append)

    def stop_after_two(report):
        if report.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run_toy(tmp_path / "b", epochs=4, runtime=runtime, on_epoch=stop_after_two)
    seen = []
    resumed = _run_toy(tmp_path / "b", epochs=4, runtime=runtime, on_epoch=seen.append)
    # epoch 2 is handed over again from its checkpoint: its record may not have been written before the stop
    assert [r.epoch for r in seen] == [2, 3, 4] and resumed.resumed_from == 2
    for report, expected in zip(seen, straight_reports[1:], strict=True):
        assert report.logs == expected.logs
        np.testing.assert_array_equal(report.embedding.vectors, expected.embedding.vectors)
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in straight.history]
    np.testing.assert_array_equal(resumed.embedding.vectors, straight.embedding.vectors)
    if precision == "bf16":  # the bf16 path really ran: its outputs are not the fp32 ones
        fp32 = _run_toy(tmp_path / "c", epochs=4)
        assert fp32.history[0]["val_loss"] != straight.history[0]["val_loss"]


def test_a_finished_run_hands_its_last_epoch_over_again_and_trains_nothing(tmp_path):
    first = []
    _run_toy(tmp_path, epochs=2, on_epoch=first.append)
    again = []
    outcome = _run_toy(tmp_path, epochs=2, on_epoch=again.append)
    assert [r.epoch for r in again] == [2] and outcome.resumed_from == 2
    assert again[0].logs == first[1].logs
    np.testing.assert_array_equal(again[0].embedding.vectors, first[1].embedding.vectors)


def test_a_resumed_run_keeps_the_precision_its_checkpoints_were_made_in(tmp_path):
    def stop_after_one(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run_toy(tmp_path, epochs=2, runtime=_runtime("fp32"), on_epoch=stop_after_one)
    # the job moved to a machine whose automatic choice is bf16: the run continues in fp32, and says so
    with pytest.warns(RuntimeWarning, match="resuming in fp32"):
        outcome = _run_toy(tmp_path, epochs=2, runtime=_runtime("bf16", chosen_by="auto"))
    assert outcome.runtime.precision == "fp32" and outcome.runtime.precision_chosen_by == "checkpoint"
    assert outcome.runtime.describe()["precision_chosen_by"] == "checkpoint"
    straight = _run_toy(tmp_path / "straight", epochs=2)
    np.testing.assert_array_equal(outcome.embedding.vectors, straight.embedding.vectors)
    # asked for explicitly, another precision is refused rather than mixed into the run
    with pytest.raises(RepbenchError) as error:
        _run_toy(tmp_path, epochs=2, runtime=_runtime("bf16"))
    assert error.value.code == "checkpoint-mismatch"
    assert "made in fp32" in str(error.value) and "precision=fp32" in str(error.value)
    # the same precision chosen automatically: nothing to adopt, no warning
    assert (
        resume_runtime(_runtime("fp32", chosen_by="auto"), CheckpointDir(tmp_path / "toy")).precision_chosen_by
        == "auto"
    )


@pytest.mark.bf16
def test_bf16_linear_layer_is_within_the_rounding_bound_of_fp32():
    """bfloat16 keeps 8 significant bits: rounding to it has unit roundoff u = 2**-8 (relative error <= u).
    Under CPU autocast a linear layer rounds x, W and b to bf16, multiplies and accumulates in float32, and
    rounds the output to bf16. So, with S_j = sum_i |W_ji x_i| + |b_j| (>= |y_j|):
    inputs and weights:  |W'x' - Wx| <= (2u + u^2) sum_i |W_ji x_i|,  bias: u |b_j|
    float32 accumulation of K = 64 products: <= K 2**-24 S_j (~0.0001 u S_j x 64: small)
    output rounding:     <= u |y'_j| <= u (1 + 3u) S_j
    total: |y_bf16 - y_fp32| <= (3u + 4u^2 + K 2**-24) S_j. Asserted per element; and bf16 must really
    have been used (the outputs differ from fp32, the output is bfloat16)."""
    g = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(64, 32)
    x = torch.randn(16, 64, generator=g) * 3
    runtime = choose_runtime("cpu", {"precision": "bf16"})
    with torch.no_grad():
        exact = layer(x)
        with runtime.autocast():
            rounded = layer(x)
        u = 2.0**-8
        scale = x.abs() @ layer.weight.abs().T + layer.bias.abs()
    assert rounded.dtype == torch.bfloat16
    error = (rounded.float() - exact).abs()
    assert (error <= (3 * u + 4 * u * u + 64 * 2.0**-24) * scale).all()
    assert error.max() > 0  # bf16 did run


def test_loop_refuses_checkpoints_of_other_settings(tmp_path):
    _run_toy(tmp_path, epochs=1)
    with pytest.raises(RepbenchError) as error:
        _run_toy(tmp_path, epochs=3)  # same folder, other epoch count
    assert error.value.code == "checkpoint-mismatch"


def test_unreadable_checkpoint_is_a_clear_error(tmp_path):
    folder = CheckpointDir(tmp_path)
    tmp_path.joinpath("epoch-001.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RepbenchError) as error:
        folder.load_latest()
    assert error.value.code == "checkpoint-unreadable"


def test_recalibrate_batch_norm_sets_the_average_batch_statistics():
    from repbench.torch import recalibrate_batch_norm

    norm = torch.nn.Sequential(torch.nn.BatchNorm1d(3, momentum=0.1))
    norm[0].running_mean.fill_(-7.0)  # stale statistics, as after fast training
    g = torch.Generator().manual_seed(0)
    batches = [torch.randn(64, 3, generator=g) * 2 + 5 for _ in range(4)]
    recalibrate_batch_norm(norm, batches, choose_runtime("cpu", {"precision": "fp32"}))
    expected_mean = torch.stack([b.mean(0) for b in batches]).mean(0)
    expected_var = torch.stack([b.var(0) for b in batches]).mean(0)
    torch.testing.assert_close(norm[0].running_mean, expected_mean)
    torch.testing.assert_close(norm[0].running_var, expected_var)
    assert norm[0].momentum == 0.1 and not norm.training


def test_the_run_summary_line_names_the_precision_who_chose_it_and_the_cpu_kind():
    from repbench.run import compute_summary

    line = compute_summary(choose_runtime("cpu", {"precision": "bf16"}).describe())
    assert line.startswith(f"precision bf16 (from --option precision) on cpu, CPU kind {cpu_kind()}, ")
    assert "chosen automatically" in compute_summary(choose_runtime("cpu").describe())
    assert compute_summary({"lr": 0.1}) is None  # embedders without a torch runtime print nothing
