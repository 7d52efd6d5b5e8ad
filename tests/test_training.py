"""Contrastive trainer: learning, queue, noise in metres, checkpoints, resume, fine-tuning."""

import re

import numpy as np
import pytest
import torch
from numerics import assert_geoclip_close

from geoembed import GeoEmbedder
from geoembed.core.geo import haversine_km
from geoembed.encoders.geoclip import GeoCLIPLocationEncoder, LocationEncoderConfig
from geoembed.training import ContrastiveLocationTrainer, GPSQueue, TrainConfig, build_location_encoder, jitter_latlon

SMALL = dict(
    encoder=LocationEncoderConfig(sigmas=(1.0, 4.0), n_frequencies=32, hidden_dim=64, n_hidden_layers=2, embed_dim=32),
    feature_hidden=64,
    learning_rate=3e-3,
    batch_size=128,
    queue_size=256,
)


def synthetic_pairs(n=2000, seed=0):
    """Features that are a known smooth function of location."""
    rng = np.random.default_rng(seed)
    lat, lon = np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)
    phi, lam = np.radians(lat), np.radians(lon)
    xyz = np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    features = np.sin(3 * xyz @ rng.normal(size=(3, 16))).astype(np.float32)
    return features, np.column_stack([lat, lon])


def test_loss_falls_and_retrieval_beats_chance():
    features, latlon = synthetic_pairs()
    history = ContrastiveLocationTrainer(TrainConfig(epochs=4, **SMALL)).fit(features, latlon, progress=False)
    assert history["loss"].iloc[-1] < 0.6 * history["loss"].iloc[0]
    # chance: a random gallery point is within 750 km of a random point ~1% of the time
    rng = np.random.default_rng(1)
    chance = np.mean(haversine_km(latlon[:, 0], latlon[:, 1], *latlon[rng.permutation(len(latlon))].T) <= 750) * 100
    assert history["val_acc_750km"].iloc[-1] > 10 * max(chance, 1.0)
    assert history["lr"].iloc[-1] == pytest.approx(3e-3 * 0.87**4)


def test_queue_wraps_around():
    queue = GPSQueue(5)
    queue.push(torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    assert queue.filled == 3 and queue.pointer == 3
    queue.push(torch.tensor([[4.0, 4.0], [5.0, 5.0], [6.0, 6.0]]))
    assert queue.filled == 5 and queue.pointer == 1
    np.testing.assert_array_equal(queue.coordinates()[:, 0].numpy(), [6, 2, 3, 4, 5])
    queue.push(torch.arange(14.0).reshape(7, 2))  # more than the size: keeps the last 5
    assert sorted(queue.coordinates()[:, 0].tolist()) == [4, 6, 8, 10, 12]


@pytest.mark.parametrize("lat", [0.0, 60.0, -75.0])
def test_noise_magnitude_in_metres(lat):
    generator = torch.Generator().manual_seed(0)
    points = torch.tensor([[lat, 10.0]]).repeat(20_000, 1)
    moved = jitter_latlon(points, 150.0, generator).double().numpy()
    km = haversine_km(lat, 10.0, moved[:, 0], moved[:, 1])
    # 2-D Gaussian with std 150 m per axis: the distance is Rayleigh, mean 150 * sqrt(pi / 2) m
    assert np.mean(km) * 1000 == pytest.approx(150 * np.sqrt(np.pi / 2), rel=0.03)
    north_m = np.radians(moved[:, 0] - lat) * 6371008.8
    east_m = np.radians(moved[:, 1] - 10.0) * 6371008.8 * np.cos(np.radians(lat))
    assert np.std(north_m) == pytest.approx(150, rel=0.03) and np.std(east_m) == pytest.approx(150, rel=0.03)
    near_pole = jitter_latlon(torch.tensor([[89.99999, 0.0]]).repeat(1000, 1), 1000.0, generator)
    assert (near_pole[:, 0].abs() <= 90).all() and (near_pole[:, 1].abs() <= 180).all()


def test_checkpoint_reloads_to_identical_outputs_and_resume_continues(tmp_path):
    features, latlon = synthetic_pairs(800)
    trainer = ContrastiveLocationTrainer(TrainConfig(epochs=2, **SMALL))
    trainer.fit(features, latlon, out_dir=tmp_path / "run", progress=False)
    x = torch.tensor(latlon[:50])
    expected = trainer.location_encoder.embed(x).numpy()
    loaded = GeoCLIPLocationEncoder.from_checkpoint(tmp_path / "run" / "location_encoder.safetensors")
    np.testing.assert_array_equal(loaded.embed(x).numpy(), expected)
    checkpoint = tmp_path / "run" / "location_encoder.safetensors"
    assert_geoclip_close(expected, latlon[:50], checkpoint, what="trained encoder")
    assert_geoclip_close(
        GeoEmbedder(weights=str(checkpoint)).fit_transform(latlon[:50]),
        latlon[:50],
        checkpoint,
        what="GeoEmbedder on the checkpoint",
    )
    # resume to epoch 3 == an uninterrupted 3-epoch run
    resumed = ContrastiveLocationTrainer.resume(tmp_path / "run", epochs=3)
    assert resumed.epoch == 2 and resumed.queue.filled == 256
    resumed.fit(features, latlon, progress=False)
    straight = ContrastiveLocationTrainer(TrainConfig(epochs=3, **SMALL))
    straight.fit(features, latlon, progress=False)
    np.testing.assert_allclose(
        resumed.location_encoder.embed(x).numpy(), straight.location_encoder.embed(x).numpy(), atol=1e-5
    )


def test_wrong_checkpoints_are_rejected(tmp_path):
    features, latlon = synthetic_pairs(300)
    trainer = ContrastiveLocationTrainer(TrainConfig(epochs=1, **SMALL))
    trainer.fit(features, latlon, out_dir=tmp_path / "run", progress=False)
    other = GeoCLIPLocationEncoder(
        trainer.location_encoder.config.__class__(sigmas=(1.0,), n_frequencies=8, hidden_dim=16, embed_dim=8)
    )
    with pytest.raises(ValueError, match="does not match"):
        trainer.location_encoder.load_checked_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig.from_json('{"epochz": 3}')


def test_fine_tuning_from_geoclip_with_a_finer_branch_and_frozen_branches():
    config = TrainConfig(init="geoclip", add_sigmas=(4096.0,), freeze_branches=(0, 1))
    encoder = build_location_encoder(config)
    assert encoder.config.sigmas == (1.0, 16.0, 256.0, 4096.0)
    assert not any(p.requires_grad for p in encoder.branches[0].parameters())
    assert all(p.requires_grad for p in encoder.branches[3].parameters())
    x = torch.tensor([[48.85, 2.35], [-33.9, 151.2]])

    # the added branch starts with a zero head: outputs equal the published model's
    assert_geoclip_close(encoder.embed(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="no branch 7"):
        build_location_encoder(TrainConfig(init="geoclip", freeze_branches=(7,)))


def test_region_restriction_and_bad_data():
    features, latlon = synthetic_pairs(600)
    trainer = ContrastiveLocationTrainer(TrainConfig(epochs=1, bbox=(0, -180, 90, 180), **SMALL))
    (train_x, train_ll), (val_x, val_ll) = trainer._prepare_data(features, latlon)
    assert (train_ll[:, 0] >= 0).all() and (val_ll[:, 0] >= 0).all()
    assert len(train_x) + len(val_x) == int((latlon[:, 0] >= 0).sum())
    with pytest.raises(ValueError, match="latitude must be in"):
        trainer._prepare_data(features[:2], np.array([[95.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"need features \(n, d\)"):
        trainer._prepare_data(features[:3], latlon[:2])


def test_cli_train_and_resume(tmp_path, capsys):
    import json

    import pandas as pd

    from geoembed.cli import main

    features, latlon = synthetic_pairs(500)
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(16)]).assign(lat=latlon[:, 0], lon=latlon[:, 1])
    frame.to_parquet(tmp_path / "pairs.parquet")
    small = {k: v for k, v in SMALL.items() if k not in ("learning_rate", "batch_size", "queue_size")}
    (tmp_path / "config.json").write_text(TrainConfig(**small).to_json())
    assert (
        main(
            [
                "train",
                str(tmp_path / "pairs.parquet"),
                "--out",
                str(tmp_path / "run"),
                "--config",
                str(tmp_path / "config.json"),
                "--epochs",
                "1",
                "--lr",
                "0.003",
                "--queue-size",
                "64",
                "--sigmas",
                "1",
                "8",
                "-q",
            ]
        )
        == 0
    )
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["epochs"] == 1 and saved["encoder"]["sigmas"] == [1.0, 8.0] and saved["encoder"]["hidden_dim"] == 64
    assert (
        main(["train", str(tmp_path / "pairs.parquet"), "--resume", str(tmp_path / "run"), "--epochs", "2", "-q"]) == 0
    )
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 2
    assert "trained on 16 feature columns" in capsys.readouterr().out
    # options a resumed run cannot take are refused, not ignored; other data is named, not a torch error
    resume = ["train", str(tmp_path / "pairs.parquet"), "--resume", str(tmp_path / "run"), "--epochs", "3", "-q"]
    assert main([*resume, "--lr", "0.5", "--batch-size", "7"]) == 2
    assert "--batch-size, --lr cannot change them" in capsys.readouterr().err
    frame.drop(columns=["f15"]).to_parquet(tmp_path / "fewer.parquet")
    assert main(["train", str(tmp_path / "fewer.parquet"), *resume[2:]]) == 2
    assert "the features have 15 columns, but this run's feature head was trained on 16" in capsys.readouterr().err
    # coordinate columns named with --lat-col/--lon-col are not taken as features
    renamed = frame.rename(columns={"lat": "y_deg", "lon": "x_deg"})
    renamed.to_parquet(tmp_path / "renamed.parquet")
    assert (
        main(
            [
                "train",
                str(tmp_path / "renamed.parquet"),
                "--out",
                str(tmp_path / "run2"),
                "--config",
                str(tmp_path / "config.json"),
                "--epochs",
                "1",
                "--lat-col",
                "y_deg",
                "--lon-col",
                "x_deg",
                "--queue-size",
                "64",
                "--sigmas",
                "1",
                "8",
                "-q",
            ]
        )
        == 0
    )
    assert "trained on 16 feature columns" in capsys.readouterr().out


def test_config_json_round_trip_and_deprecated_flat_names(tmp_path):
    config = TrainConfig(epochs=3, bbox=(10, 170, 20, -170), **SMALL)
    again = TrainConfig.from_json(config.to_json())
    assert again == config and again.bbox.crosses_antimeridian
    # config.json of a 0.1 run: flat architecture fields and "seed"
    legacy = '{"sigmas": [1.0, 4.0], "n_frequencies": 32, "hidden_dim": 64, "embed_dim": 32, "seed": 5}'
    with pytest.warns(FutureWarning, match="deprecated|renamed"):
        old = TrainConfig.from_json(legacy)
    assert old.encoder == LocationEncoderConfig(sigmas=(1.0, 4.0), n_frequencies=32, hidden_dim=64, embed_dim=32)
    assert old.random_state == 5
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig.from_json('{"epochz": 3}')
    with pytest.raises(ValueError, match="JSON object"):
        TrainConfig.from_json("[]")


# -- checkpoints: atomic saves, and resume that names the broken file ------------------------------

CHECKPOINT_FILES = [
    "config.json",
    "feature_head.safetensors",
    "history.json",
    "location_encoder.safetensors",
    "training_state.pt",
]


@pytest.fixture()
def checkpoint(tmp_path):
    features, latlon = synthetic_pairs(300)
    trainer = ContrastiveLocationTrainer(TrainConfig(epochs=1, **SMALL))
    trainer.fit(features, latlon, out_dir=tmp_path / "run", progress=False)
    return trainer, tmp_path / "run"


def test_save_writes_only_the_checkpoint_files(checkpoint):
    _, run = checkpoint
    assert sorted(p.name for p in run.iterdir()) == CHECKPOINT_FILES


def test_interrupted_save_keeps_the_previous_checkpoint(checkpoint, monkeypatch):
    trainer, run = checkpoint
    before = {name: (run / name).read_bytes() for name in CHECKPOINT_FILES}
    trainer.epoch += 1  # something to change
    for target in ("torch.save", "safetensors.torch.save_file"):
        with monkeypatch.context() as m:

            def interrupted(*args, **kwargs):
                raise KeyboardInterrupt

            m.setattr(target, interrupted)
            with pytest.raises(KeyboardInterrupt):
                trainer.save(run)
        assert {name: (run / name).read_bytes() for name in CHECKPOINT_FILES} == before
        assert sorted(p.name for p in run.iterdir()) == CHECKPOINT_FILES  # no temporary files


@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_resume_names_a_missing_checkpoint_file(checkpoint, name):
    _, run = checkpoint
    (run / name).unlink()
    with pytest.raises(ValueError, match=f"{name} is missing"):
        ContrastiveLocationTrainer.resume(run)


CORRUPT_CHECKPOINTS = {
    "config.json": ["[]", "null", "{not json", '{"epochz": 1}'],
    "history.json": ["{}", "null", "[1, 2]", "{not json"],
    "feature_head.safetensors": [b"", b"garbage bytes"],
    "location_encoder.safetensors": [b"", b"garbage bytes"],
    "training_state.pt": [b"", b"garbage bytes"],
}


@pytest.mark.parametrize("name, content", [(n, c) for n, contents in CORRUPT_CHECKPOINTS.items() for c in contents])
def test_resume_names_a_corrupt_checkpoint_file(checkpoint, name, content):
    _, run = checkpoint
    if isinstance(content, bytes):
        (run / name).write_bytes(content)
    else:
        (run / name).write_text(content)
    with pytest.raises(ValueError, match=f"{name}"):
        ContrastiveLocationTrainer.resume(run)


def test_resume_rejects_truncated_and_mismatched_files(checkpoint, tmp_path):
    import shutil

    trainer, run = checkpoint
    state = run / "training_state.pt"
    state.write_bytes(state.read_bytes()[: len(state.read_bytes()) // 2])
    with pytest.raises(ValueError, match="training_state.pt is unreadable or corrupt"):
        ContrastiveLocationTrainer.resume(run)
    # a feature head saved with another feature dimension
    features, latlon = synthetic_pairs(300)
    other = ContrastiveLocationTrainer(TrainConfig(epochs=1, **SMALL))
    other.fit(features[:, :8], latlon, out_dir=tmp_path / "other", progress=False)
    trainer.save(run)
    shutil.copy(tmp_path / "other" / "training_state.pt", run / "training_state.pt")
    with pytest.raises(ValueError, match="training_state.pt"):
        ContrastiveLocationTrainer.resume(run)


def test_resume_detects_files_from_different_epochs(checkpoint, tmp_path):
    import shutil

    trainer, run = checkpoint
    shutil.copytree(run, tmp_path / "epoch1")
    features, latlon = synthetic_pairs(300)
    trainer.config.epochs = 2
    trainer.fit(features, latlon, out_dir=run, progress=False)
    assert ContrastiveLocationTrainer.resume(run).epoch == 2
    shutil.copy(tmp_path / "epoch1" / "training_state.pt", run / "training_state.pt")  # as if the save was cut short
    with pytest.raises(ValueError, match="mixes epochs"):
        ContrastiveLocationTrainer.resume(run)


def test_resume_of_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ContrastiveLocationTrainer.resume(tmp_path / "nowhere")


# -- configs are checked before any work, naming the file and the field ------------------------------

BAD_TRAIN_FIELDS = [
    ('{"epochs": "abc"}', "'epochs'"),
    ('{"epochs": null}', "'epochs'"),
    ('{"epochs": 2.5}', "'epochs'"),
    ('{"batch_size": 1}', r"'batch_size' field of TrainConfig must be an int in the range \[2, "),
    ('{"batch_size": 0}', "'batch_size'"),
    ('{"batch_size": 100000000000000000000000}', "'batch_size'"),
    ('{"learning_rate": "fast"}', "'learning_rate'"),
    ('{"learning_rate": NaN}', "'learning_rate'"),
    ('{"queue_size": -1}', "'queue_size'"),
    ('{"val_fraction": 1}', "'val_fraction'"),
    ('{"add_sigmas": "4096"}', "'add_sigmas'"),
    ('{"freeze_branches": [-1]}', "'freeze_branches'"),
    ('{"bbox": [0, 0, 100, 10]}', "'bbox'"),
    (
        '{"encoder": {"n_frequencies": 8, "hidden_dim": 8, "n_hidden_layers": 1, "embed_dim": 8}}',
        r"'encoder'.*\['sigmas'\]",
    ),
    (
        '{"encoder": {"sigmas": [1, -2], "n_frequencies": 8, "hidden_dim": 8, "n_hidden_layers": 1, "embed_dim": 8}}',
        "'encoder.sigmas'",
    ),
]


@pytest.mark.parametrize("text, field", BAD_TRAIN_FIELDS)
def test_train_config_fields_are_checked_and_named(text, field):
    with pytest.raises(ValueError, match=f"config file cfg.json: The {field}"):
        TrainConfig.from_json(text, source="cfg.json")
    with pytest.raises(ValueError, match=f"^The {field}"):  # Python users get the same check
        TrainConfig.from_json(text)


def test_train_config_checks_apply_to_python_users_and_changed_fields():
    with pytest.raises(ValueError, match="'batch_size' field of TrainConfig .* Got 1 instead"):
        TrainConfig(batch_size=1)
    with pytest.raises(ValueError, match="'encoder.hidden_dim' field of TrainConfig"):
        TrainConfig(encoder=LocationEncoderConfig(hidden_dim=0))
    config = TrainConfig(**SMALL)
    config.epochs = "3"  # changed after construction: refused when the trainer starts
    with pytest.raises(ValueError, match="'epochs' field of TrainConfig .* Got '3' instead"):
        ContrastiveLocationTrainer(config)
    with pytest.raises(ValueError, match=r"the training config is not valid JSON: .*\(line 2, column 1\)"):
        TrainConfig.from_json('{"epochs": 3,\n}')


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"batch_size": 1}', "The 'batch_size' field of TrainConfig must be an int"),
        ('{"epochs": null}', "The 'epochs' field of TrainConfig"),
        ('{"epochs": 3,', r"is not valid JSON: .* \(line 1, column 14\)"),
    ],
)
def test_cli_train_refuses_a_bad_config_file_before_work(tmp_path, capsys, monkeypatch, text, message):
    import pandas as pd

    from geoembed.cli import main

    def not_reached(*args, **kwargs):
        raise AssertionError("the data was read before the config was checked")

    data = tmp_path / "pairs.csv"
    pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "f0": [1.0, 2.0]}).to_csv(data, index=False)
    config = tmp_path / "cfg.json"
    config.write_text(text)
    monkeypatch.setattr("geoembed.cli._commands.read_table", not_reached)
    assert main(["train", str(data), "--out", str(tmp_path / "run"), "--config", str(config), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geoembed: error: config file {config}: ") and err.count("\n") == 1
    assert re.search(message, err) and not (tmp_path / "run").exists()


def test_cli_train_refuses_an_unwritable_checkpoint_folder_before_work(tmp_path, capsys, monkeypatch):
    import pandas as pd

    from geoembed.cli import main

    data = tmp_path / "pairs.csv"
    pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "f0": [1.0, 2.0]}).to_csv(data, index=False)
    monkeypatch.setattr("geoembed.cli._commands.read_table", lambda *a, **k: pytest.fail("the data was read"))
    assert main(["train", str(data), "--out", str(data / "run"), "-q"]) == 2  # its parent is a file
    err = capsys.readouterr().err
    assert f"cannot write the checkpoint folder {data / 'run'}: {data} is a file" in err


def test_region_is_the_old_name_of_bbox(tmp_path):
    with pytest.warns(FutureWarning, match="renamed bbox"):
        old = TrainConfig(epochs=1, region=(0, -180, 90, 180), **SMALL)
    assert old.bbox == TrainConfig(epochs=1, bbox=(0, -180, 90, 180), **SMALL).bbox
    # a config.json written by 0.2 still loads
    text = old.to_json().replace('"bbox"', '"region"')
    with pytest.warns(FutureWarning, match="renamed bbox"):
        assert TrainConfig.from_json(text).bbox == old.bbox
    with pytest.raises(ValueError, match="both bbox and its old name"), pytest.warns(FutureWarning):
        TrainConfig(bbox=(0, 0, 1, 1), region=(0, 0, 1, 1))


def test_cli_train_checks_the_data_before_loading_any_weights(tmp_path, capsys, monkeypatch):
    """Bad feature columns fail after a cheap read of the table, before GeoCLIP's weights (the init) load."""
    import pandas as pd

    from geoembed.cli import main

    data = tmp_path / "pairs.csv"
    pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "f0": [1.0, 2.0]}).to_csv(data, index=False)
    monkeypatch.setattr(
        "geoembed.training.trainer.ContrastiveLocationTrainer.__init__", lambda *a, **k: pytest.fail("trainer built")
    )
    assert main(["train", str(data), "--out", str(tmp_path / "run"), "--feature-cols", "nope", "-q"]) == 2
    assert "--feature-cols: no columns ['nope']" in capsys.readouterr().err


def test_resume_does_not_need_the_file_the_run_started_from(tmp_path, monkeypatch):
    """A run fine-tuned from a relative checkpoint path resumes from anywhere: its weights are in its folder."""
    import shutil

    from geoembed.models.weights import get_weights

    shutil.copy(get_weights("geoclip-lite").location_encoder_path, tmp_path / "start.safetensors")
    monkeypatch.chdir(tmp_path)
    features, latlon = synthetic_pairs(300)
    config = TrainConfig(**{**SMALL, "init": "start.safetensors", "epochs": 1})
    trainer = ContrastiveLocationTrainer(config)
    trainer.fit(features, latlon, out_dir=tmp_path / "run", progress=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    resumed = ContrastiveLocationTrainer.resume(tmp_path / "run", epochs=2)
    assert resumed.config.init == "start.safetensors"  # the run's record is kept as it was
    for saved, loaded in zip(
        trainer.location_encoder.state_dict().values(), resumed.location_encoder.state_dict().values()
    ):
        torch.testing.assert_close(saved, loaded, rtol=0, atol=0)
    resumed.fit(features, latlon, progress=False)
    assert len(resumed.history) == 2
