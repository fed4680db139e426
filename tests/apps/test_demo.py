"""The main job end to end at tiny settings: what it prints, the files it writes, the numbers in
metrics.json, determinism, a missing Graphviz, another device, and a diverging run."""

import json
import shutil
import sys

import numpy as np

from tinygrad_edu import get_backend
from tinygrad_edu.apps.demo import compiles
from tinygrad_edu.apps.ranking import ranking_model
from tinygrad_edu.backends import register_backend, registry

from cli_runs import TINY, run_cli

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_demo_writes_every_file_it_promises(demo_run):
    out, *_ = demo_run
    names = {"loss_curves.png", "activation_statistics.png", "metrics.json", "weights.npz",
             "report.html"}
    if shutil.which("dot"):
        names.add("graph.svg")
        assert "layers.0 (Layer 128" in (out / "graph.svg").read_text(encoding="utf-8")
    assert names <= {p.name for p in out.iterdir()}
    for png in ("loss_curves.png", "activation_statistics.png"):
        assert (out / png).read_bytes()[:8] == PNG and (out / png).stat().st_size > 20_000
    model = ranking_model().load(str(out / "weights.npz"))
    assert [p.shape for p in model.parameters()][0] == (128, 256)


def test_the_console_shows_progress_validation_and_the_results(demo_run):
    out, stdout, stderr, metrics = demo_run
    assert "ranking MLP 128→256→128→64→1, relu, init he_normal, 74,241 parameters" in stdout
    assert ("compiling kernels (first run only)..." in stdout) == compiles(get_backend())
    assert "epoch 1/2" in stderr and "loss " in stderr        # tqdm's bar, running loss
    for epoch in (0, 1, 2):
        assert f"epoch {epoch:3d}  train" in stdout
    for text in ("predicting the mean", "NDCG@10", "AUC", "dead ReLU units per layer",
                 "30%", "inference latency", "batch 1", "batch 32",
                 f"open file://{out / 'report.html'}"):
        assert text in stdout, text


def test_metrics_json_holds_every_figure_and_the_settings(demo_run):
    *_, metrics = demo_run
    assert metrics["settings"] | {"out": None} == {
        "epochs": 2, "batch_size": 64, "lr": 1e-3, "optimizer": "adam", "activation": "relu",
        "init": "auto", "seed": 3, "users": 40, "out": None, "latency_calls": 300,
        "backend": get_backend().name, "device": "cpu"}
    assert metrics["network"] == {"sizes": [128, 256, 128, 64, 1], "activation": "relu",
                                  "init": "he_normal", "parameters": 74241}
    assert metrics["data"]["train_pairs"] == 40 * 32 and metrics["data"]["test_users"] == 10
    assert [e["epoch"] for e in metrics["epochs"]] == [0, 1, 2]
    assert len(metrics["step_losses"]) == 2 * metrics["data"]["steps_per_epoch"] == 40
    test = metrics["test"]
    for who in ("model", "predict_the_mean", "ground_truth"):
        assert set(test[who]) == {"mse", "ndcg@10", "auc"}
        assert 0 <= test[who]["ndcg@10"] <= 1 and 0 <= test[who]["auc"] <= 1
    assert test["predict_the_mean"]["auc"] == 0.5
    assert test["ground_truth"]["mse"] < 0.2 and test["ground_truth"]["ndcg@10"] > 0.95
    assert test["model"]["ndcg@10"] > test["predict_the_mean"]["ndcg@10"]
    assert [layer["layer"] for layer in metrics["layers"]] == [f"layers.{i}" for i in range(4)]
    for layer in metrics["layers"][:3]:
        assert len(layer["dead_fraction"]) == 3 and 0 <= layer["final"]["dead_fraction"] <= 1
        assert layer["above_dead_threshold"] == (layer["final"]["dead_fraction"] > 0.3)
    assert metrics["layers"][3]["dead_fraction"] is None
    latency = metrics["latency_us"]
    assert set(latency["graph"]) == {"1", "32"} and min(latency["graph"].values()) > 0
    assert latency["calls"] == 300
    if latency["fused_error"] is None:
        assert set(latency["fused"]) == {"1", "32"} and min(latency["fused"].values()) > 0
    assert metrics["timing"]["train_seconds"] > 0 and metrics["command"].startswith(
        "tinygrad-edu demo --users 40")


def test_the_report_is_one_self_contained_page(demo_run):
    out, *_ = demo_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('src="data:image/png;base64,') == 2
    assert page.count('src="data:image/svg+xml;base64,') == (1 if shutil.which("dot") else 0)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    for text in ("What the network learned", "predicting the mean", "NDCG@10", "dead units",
                 "Inference latency", "The computation graph", "Settings"):
        assert text in page


def test_the_same_seed_gives_the_same_run_and_another_seed_another(demo_run, tmp_path):
    first_dir, *_, first = demo_run
    code, *_ = run_cli(["demo", *TINY, "--out", str(tmp_path / "again")])
    assert code == 0
    again = json.loads((tmp_path / "again" / "metrics.json").read_text())

    def deterministic(metrics):
        timed = {"timing", "latency_us", "command"}
        kept = {k: v for k, v in metrics.items() if k not in timed}
        kept["epochs"] = [{k: v for k, v in e.items() if k != "seconds"} for e in kept["epochs"]]
        kept["settings"] = {k: v for k, v in kept["settings"].items() if k != "out"}
        kept["graph"] = {k: v for k, v in kept["graph"].items() if k != "note"}
        return kept

    assert deterministic(again) == deterministic(first)
    with np.load(first_dir / "weights.npz") as a, np.load(tmp_path / "again" / "weights.npz") as b:
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    code, *_ = run_cli(["demo", *TINY[:-1], "4", "--epochs", "1", "--out",
                        str(tmp_path / "other")])
    other = json.loads((tmp_path / "other" / "metrics.json").read_text())
    assert other["step_losses"][0] != first["step_losses"][0]


def test_without_graphviz_the_demo_finishes_and_says_how_to_get_the_picture(tmp_path,
                                                                            monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, stdout, _ = run_cli(["demo", *TINY, "--epochs", "1", "--out", str(tmp_path / "o")])
    assert code == 0
    assert "sudo apt-get install graphviz" in stdout and "dot -Tsvg" in stdout
    assert (tmp_path / "o" / "graph.gv").read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "o" / "graph.svg").exists()
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["files"]["graph"] is None and "graph.gv" in metrics["graph"]["note"]
    assert "sudo apt-get install graphviz" in (tmp_path / "o" / "report.html").read_text()


def test_the_demo_runs_on_another_device_with_the_backend_flag(tmp_path, monkeypatch):
    for table in ("_REGISTRY", "_DEFAULTS", "_devices"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
    register_backend("fake_strict", "fake", "tinygrad_edu.backends.strict:StrictBackend")
    code, stdout, stderr = run_cli(["demo", *TINY, "--epochs", "1", "--backend", "fake_strict",
                                    "--out", str(tmp_path / "fake")])
    assert code == 0, stderr
    assert "backend strict on fake" in stdout
    metrics = json.loads((tmp_path / "fake" / "metrics.json").read_text())
    assert metrics["settings"]["device"] == "fake" and metrics["test"]["model"]["mse"] > 0


def test_a_diverging_run_stops_with_a_suggestion_and_exit_code_1(tmp_path):
    code, stdout, stderr = run_cli(["demo", *TINY, "--lr", "1e6", "--optimizer", "sgd",
                                    "--out", str(tmp_path / "nan")])
    assert code == 1
    (line,) = stderr.strip().splitlines()[-1:]
    assert line.startswith("tinygrad-edu demo: training diverged: the loss became ")
    assert "lower --lr (it is 1e+06; the default is 0.001) or use --optimizer adam" in line
    assert "loss nan" not in stdout and not (tmp_path / "nan" / "metrics.json").exists()
    assert "RuntimeWarning" not in stderr


def test_without_matplotlib_the_demo_says_how_to_install_it_before_any_work(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib now fails
    code, stdout, stderr = run_cli(["demo", *TINY, "--out", str(tmp_path / "x")])
    assert code == 1 and stdout == ""
    assert stderr.strip() == ("tinygrad-edu demo: error: matplotlib is not installed (needed "
                              "for the demo's plots): pip install matplotlib")
    assert not (tmp_path / "x").exists()


def test_without_tqdm_the_demo_runs_without_a_bar_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    code, stdout, stderr = run_cli(["demo", *TINY, "--epochs", "1", "--out", str(tmp_path / "t")])
    assert code == 0
    assert "(no progress bar: tqdm is not installed: pip install tqdm)" in stdout
    assert "epoch 1/1" not in stderr and "epoch   1  train" in stdout


def test_train_reports_against_the_baseline_and_saves_where_it_says(tmp_path):
    code, stdout, _ = run_cli(["train", "--steps", "3", "--batch", "64", "--users", "20",
                               "--save", str(tmp_path / "ranker")])
    assert code == 0
    assert "step     1  loss" in stdout and "step     3  loss" in stdout
    assert "test MSE" in stdout and "predicting the mean" in stdout and "layers.2" in stdout
    assert f"saved the weights to {tmp_path / 'ranker.npz'}" in stdout
    ranking_model().load(str(tmp_path / "ranker.npz"))


def test_a_diverging_train_run_stops_too(tmp_path):
    code, stdout, stderr = run_cli(["train", "--steps", "50", "--users", "20", "--lr", "1e6"])
    assert code == 1 and "training diverged" in stderr and "lower --lr" in stderr
    assert "test MSE" not in stdout
