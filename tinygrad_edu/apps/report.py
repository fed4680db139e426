"""The demo's ``report.html``: one self-contained page with every figure of a run.

The images are embedded as ``data:`` URIs and the style sheet is inline, so the page needs no
network access and no other file: open it with ``file://`` in any browser, mail it, archive it.
Every number comes from the run's ``metrics.json`` contents; every string is HTML-escaped.
"""

import base64
import html
import os

from .plots import DEAD_THRESHOLD

__all__ = ["render_report", "write_report"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml"}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1150px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; font-size: 1.25em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
th { background: #f4f6f8; } td:first-child, th:first-child { text-align: left; }
.best { font-weight: bold; background: #eaf5ea; }
.bad { color: #a11; font-weight: bold; } .ok { color: #276227; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; border: 1px solid #eee; }
.scroll { overflow-x: auto; border: 1px solid #eee; }
.scroll img { max-width: none; border: 0; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: 0.5em 1em; }
code { background: #f4f4f4; padding: 0.1em 0.3em; }
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _number(value, digits=4):
    if value is None:
        return "-"
    if isinstance(value, float) and value != value:
        return "n/a"
    return f"{value:.{digits}g}" if isinstance(value, float) else _e(value)


def _table(header, rows, classes=None):
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            cls = (classes or {}).get((r, c))
            cells.append(f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _image(out_dir, name, alt, scroll=False):
    path = os.path.join(out_dir, name)
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    tag = f'<img src="data:{_MIME[os.path.splitext(name)[1]]};base64,{data}" alt="{_e(alt)}">'
    return f'<div class="scroll">{tag}</div>' if scroll else tag


def _results(metrics):
    test = metrics["test"]
    columns = [("predict_the_mean", "predicting the mean"), ("model", "the network"),
               ("ground_truth", "ground truth (ceiling)")]
    rows, classes = [], {}
    for r, (key, label, higher) in enumerate((("mse", "MSE (lower is better)", False),
                                              ("ndcg@10", "NDCG@10", True),
                                              ("auc", "AUC", True))):
        rows.append([_e(label)] + [_number(test[c][key]) for c, _ in columns])
        model, mean = test["model"][key], test["predict_the_mean"][key]
        if (model > mean) == higher:
            classes[(r, 2)] = "best"
    return _table(["on the test users"] + [label for _, label in columns], rows, classes)


def _epochs(metrics):
    rows = [[str(e["epoch"]), _number(e["train_loss"]), _number(e["validation"]["mse"]),
             _number(e["validation"]["ndcg@10"]), _number(e["validation"]["auc"]),
             _number(e["seconds"], 3)] for e in metrics["epochs"]]
    return _table(["epoch", "training loss", "validation loss", "NDCG@10", "AUC", "seconds"],
                  rows)


def _layers(metrics):
    rows, classes = [], {}
    for r, layer in enumerate(metrics["layers"]):
        final = layer["final"]
        dead = final["dead_fraction"]
        if dead is None:
            verdict = "-"
        elif dead > DEAD_THRESHOLD:
            verdict, classes[(r, 5)] = f"above {DEAD_THRESHOLD:.0%}", "bad"
        else:
            verdict, classes[(r, 5)] = "ok", "ok"
        rows.append([_e(layer["layer"]), _e(layer["activation"] or "identity"),
                     str(layer["units"]), _number(final["mean"], 3), _number(final["std"], 3),
                     verdict if dead is None else f"{dead:.0%} ({verdict})"])
    return _table(["layer", "activation", "units", "mean", "std", "dead units"], rows, classes)


def _latency(metrics):
    latency = metrics["latency_us"]
    rows = []
    for batch, graph in latency["graph"].items():
        fused = latency["fused"].get(batch)
        speedup = f"{graph / fused:.1f}x" if fused else "-"
        rows.append([_e(batch), f"{graph:.1f}", "-" if fused is None else f"{fused:.1f}",
                     speedup])
    note = "" if latency["fused"] else \
        f'<p class="note">fused path not timed: {_e(latency.get("fused_error", ""))}</p>'
    return _table(["batch", "graph path (µs)", "fused path (µs)", "fused speed-up"], rows) + note


def render_report(metrics, out_dir):
    """The report page for ``metrics`` as a string, embedding the images named in
    ``metrics["files"]`` from ``out_dir``."""
    files, settings, data = metrics["files"], metrics["settings"], metrics["data"]
    net = metrics["network"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>tinygrad_edu demo: the ranking MLP</title>", f"<style>{_STYLE}</style>",
        "</head><body>",
        "<h1>The ranking MLP, trained from scratch</h1>",
        f'<p class="lead">{_e(" → ".join(map(str, net["sizes"])))} ({_e(net["activation"])}, '
        f'{_e(net["init"])} init, {net["parameters"]:,} parameters), trained on '
        f'{data["train_pairs"]:,} (user, item) pairs of {data["train_users"]:,} users; '
        f'scored on {data["test_users"]:,} users it never saw, {data["candidates_per_user"]} '
        f'candidate items each. Backend {_e(settings["backend"])} on device '
        f'{_e(settings["device"])}.</p>',
        f'<p><code>{_e(metrics["command"])}</code></p>',
        "<h2>What the network learned</h2>",
        "<p>The data come from a known nonlinear rule plus noise, so two yardsticks bound the "
        "result: predicting the mean score for everything (the floor) and the noise-free rule "
        "itself (the ceiling). An item is relevant when its observed score is in the top "
        "quarter; NDCG@10 and AUC are per user, averaged over the test users.</p>",
        _results(metrics),
        f'<figure>{_image(out_dir, files["loss_curves"], "loss curves")}<figcaption>Loss per '
        "step and per epoch, and the validation users' ranking metrics after every epoch "
        "(epoch 0: before training).</figcaption></figure>",
        _epochs(metrics),
        "<h2>Inside the layers</h2>",
        f"<p>Activation statistics of every layer on the validation users after each epoch. A "
        f"ReLU unit is dead when it outputs 0 for every example: it passes no gradient and "
        f"stops learning. The chapter's rule: more than {DEAD_THRESHOLD:.0%} dead units in a "
        "layer calls for a lower learning rate, He initialization or leaky ReLU.</p>",
        f'<figure>{_image(out_dir, files["activation_statistics"], "activation statistics")}'
        "</figure>",
        _layers(metrics),
    ]
    if metrics["warnings"]:
        parts.append("<ul>" + "".join(f'<li class="bad">{_e(w)}</li>'
                                       for w in metrics["warnings"]) + "</ul>")
    parts += ["<h2>Inference latency</h2>",
              "<p>Median of many calls, scores back on the host, compile time excluded. The "
              "graph path runs every layer as an op of the engine; the fused path "
              "(<code>model.compile()</code>) runs the whole network in one compiled call.</p>",
              _latency(metrics),
              "<h2>The computation graph</h2>"]
    if files.get("graph"):
        parts.append(f'<figure>{_image(out_dir, files["graph"], "computation graph", True)}'
                     "<figcaption>One training step of the trained network on "
                     f'{metrics["graph"]["examples"]} validation examples: values and '
                     "gradients of every tensor, one box per layer.</figcaption>"
                     "</figure>")
    else:
        parts.append(f'<p class="note">{_e(metrics["graph"]["note"])}</p>')
    rows = [[_e(k), _e(v)] for k, v in settings.items()]
    rows += [[_e(f"data: {k}"), _number(v)] for k, v in data.items()]
    parts += ["<h2>Settings</h2>", _table(["setting", "value"], rows),
              "<h2>Files</h2><ul>" + "".join(f"<li><code>{_e(v)}</code> ({_e(k)})</li>"
                                             for k, v in files.items() if v) + "</ul>",
              f'<p class="lead">tinygrad_edu {_e(metrics["tinygrad_edu"])}</p>',
              "</body></html>"]
    return "\n".join(parts)


def write_report(metrics, out_dir, name="report.html"):
    """Write ``render_report`` to ``out_dir/name``; returns the path."""
    path = os.path.join(out_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_report(metrics, out_dir))
    return path
