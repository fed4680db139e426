"""Module.save is atomic (a failed save leaves the previous checkpoint readable), and
Module.load checks names and declared shapes before decompressing anything, reporting every
unreadable file as one CheckpointError naming it."""

import errno
import os
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CheckpointError, ShapeError, nn


def _model(seed):
    tg.manual_seed(seed)
    return nn.MLP(4, [8], 2)


def _equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.state_dict().values(),
                                                    b.state_dict().values()))


def test_a_save_that_fails_halfway_leaves_the_previous_checkpoint_and_no_litter(
        tmp_path, monkeypatch):
    old, new = _model(0), _model(1)
    path = tmp_path / "ranker.npz"
    old.save(path)
    before = path.read_bytes()
    real_savez = np.savez

    def disk_full(file, **arrays):
        real_savez(file, **arrays)     # most of the bytes reach the file...
        raise OSError(errno.ENOSPC, "No space left on device")   # ...then the disk is full

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError) as info:
        new.save(path)
    assert info.value.errno == errno.ENOSPC
    assert any("left as it was" in note for note in info.value.__notes__)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranker.npz"]
    assert _equal(_model(2).load(path), old)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE is Linux's")
def test_a_save_stopped_by_the_file_size_limit_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "big.npz"
    nn.MLP(2, [2], 1).save(path)
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource, signal
        import tinygrad_edu as tg
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # the write fails with EFBIG instead
        model = tg.nn.MLP(256, [256], 1)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            model.save({str(path)!r})
        except OSError as exc:
            print("failed", exc.errno)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["failed", str(errno.EFBIG)], out.stderr
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["big.npz"]


def test_save_keeps_the_files_permissions_and_a_symlink(tmp_path):
    target = tmp_path / "run5.npz"
    _model(0).save(target)
    os.chmod(target, 0o600)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    _model(1).save(link)
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _equal(_model(2).load(target), _model(1))


def test_save_appends_the_suffix_and_load_finds_it(tmp_path):
    _model(0).save(tmp_path / "ckpt")
    assert (tmp_path / "ckpt.npz").exists()
    assert _equal(_model(1).load(tmp_path / "ckpt"), _model(0))


def test_a_small_file_declaring_a_huge_array_is_refused_without_allocating_it(tmp_path):
    arrays = _model(0).state_dict()
    # Compressed zeros: 32 MB of float64 in a file of a few tens of kB.
    arrays["layers.0.weight"] = np.zeros((2000, 2000))
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, **arrays)
    assert path.stat().st_size < 1_000_000
    model = _model(0)
    tracemalloc.start()
    try:
        with pytest.raises(ShapeError, match=r"'layers.0.weight' has shape \(2000, 2000\) in the "
                                             r"state but \(4, 8\) in the module"):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, peak


def test_a_member_with_a_corrupt_body_is_a_checkpoint_error_and_changes_nothing(tmp_path):
    path = tmp_path / "bad.npz"
    _model(1).save(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    body = info.header_offset + 30 + len(info.filename) + 128 + 4   # past the .npy header
    data[body:body + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    model = _model(0)
    before = model.state_dict()
    with pytest.raises(CheckpointError, match="'layers.0.weight' in .*bad.npz.*corrupt"):
        model.load(path)
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())


def test_strict_false_loads_the_matching_names_from_the_file(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, **{"layers.0.bias": np.full(8, 3.0, np.float32), "extra": np.ones(2)})
    model = _model(0)
    model.load(path, strict=False)
    np.testing.assert_array_equal(model.layers[0].bias.numpy(), np.full(8, 3.0))
