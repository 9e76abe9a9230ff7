"""repbench.torch: seeds, epoch order, flips/rotations, per-protein means, checkpoints, the epoch loop."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from repbench.embedders import Embedding  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402
from repbench.torch import (CheckpointDir, EpochResult, RunConfig, augment_dihedral, choose_runtime,  # noqa: E402
                            derive_seed, epoch_order, protein_means, run_training_epoch, train)
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
    np.testing.assert_allclose(means, [[3, 1], [5, 5], [7, 1]])


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
    assert choose_runtime("cpu", {"precision": "fp32"}).autocast_dtype is None
    assert choose_runtime("cpu", {"precision": "bf16"}).autocast_dtype == torch.bfloat16
    with pytest.raises(UsageError):
        choose_runtime("tpu")
    with pytest.raises(UsageError):
        choose_runtime("cpu", {"precision": "fp8"})
    if not torch.cuda.is_available():
        with pytest.raises(RepbenchError) as error:
            choose_runtime("cuda")
        assert error.value.code == "cuda-unavailable"


def _toy_problem():
    """A linear model on two separable blobs: small enough to test the loop itself."""
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(32, 4, generator=g) + 2, torch.randn(32, 4, generator=g) - 2])
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    return x, y


def _run_toy(tmp_path, epochs, on_epoch=None, name="toy"):
    x, y = _toy_problem()
    torch.manual_seed(1)
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    runtime = choose_runtime("cpu", {"channels_last": "false"})
    config = RunConfig(name=name, epochs=epochs, lr=0.05, seed=0)

    def train_epoch(epoch):
        order = torch.randperm(64, generator=generator(0, epoch, "order"))
        batches = [(x[order[i:i + 16]], y[order[i:i + 16]]) for i in range(0, 64, 16)]
        return run_training_epoch(model, optimizer, batches,
                                  lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1]), runtime)

    def evaluate(epoch):
        loss = float(torch.nn.functional.cross_entropy(model(x), y))
        return EpochResult({"val_loss": loss}, Embedding(["w"], model.weight.detach().numpy()[:1].copy()), loss)

    return train(model, optimizer, runtime, config, CheckpointDir(tmp_path / name), train_epoch=train_epoch,
                 evaluate=evaluate, on_epoch=on_epoch)


def test_loop_loss_falls_and_keeps_the_best_epoch(tmp_path):
    outcome = _run_toy(tmp_path, epochs=4)
    losses = [h["val_loss"] for h in outcome.history]
    assert losses[-1] < losses[0]
    assert outcome.best_epoch == 1 + int(np.argmin(losses))
    assert CheckpointDir(tmp_path / "toy").epochs() == [4]  # only the newest checkpoint is kept


def test_loop_resume_is_exact(tmp_path):
    straight = _run_toy(tmp_path / "a", epochs=4)

    def stop_after_two(report):
        if report.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run_toy(tmp_path / "b", epochs=4, on_epoch=stop_after_two)
    seen = []
    resumed = _run_toy(tmp_path / "b", epochs=4, on_epoch=lambda r: seen.append(r.epoch))
    assert seen == [3, 4] and resumed.resumed_from == 2
    assert [h["val_loss"] for h in resumed.history] == [h["val_loss"] for h in straight.history]
    np.testing.assert_array_equal(resumed.embedding.vectors, straight.embedding.vectors)


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
    recalibrate_batch_norm(norm, batches, choose_runtime("cpu"))
    expected_mean = torch.stack([b.mean(0) for b in batches]).mean(0)
    expected_var = torch.stack([b.var(0) for b in batches]).mean(0)
    torch.testing.assert_close(norm[0].running_mean, expected_mean)
    torch.testing.assert_close(norm[0].running_var, expected_var)
    assert norm[0].momentum == 0.1 and not norm.training
