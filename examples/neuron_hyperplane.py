"""A two-input neuron and its hyperplane: z = w·x + b is zero on a line that splits the plane.

On one side z > 0 and the ReLU neuron passes z on; on the other z < 0 and it outputs 0. The
weight vector w is the line's normal: z grows fastest along it, by |w| per unit step.

    python examples/neuron_hyperplane.py                  # prints what the neuron does
    python examples/neuron_hyperplane.py --out plane.png  # and draws its input plane
"""

import argparse

import numpy as np

from tinygrad_edu import Tensor, nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", help="also draw the input plane to this .png/.svg file")
args = parser.parse_args()

neuron = nn.Neuron(2, activation="relu").double()
neuron.w.copy_([0.6, -0.4])
neuron.b.copy_(0.1)
w, b = neuron.w.numpy(), neuron.b.item()


def signed(value):
    return f"{'-' if value < 0 else '+'} {abs(value):g}"


print(f"z = {w[0]:g}·x1 {signed(w[1])}·x2 {signed(b)};  the boundary z = 0 is the line "
      f"x2 = {-w[0] / w[1]:g}·x1 {signed(-b / w[1])}")

points = Tensor(np.array([[2.0, -1.0], [0.0, 0.0], [-1.0, 1.0], [1.0, 1.75]]))
z = neuron.pre_activation(points).numpy()
y = neuron(points).numpy()
for (x1, x2), zi, yi in zip(points.numpy(), z, y):
    zi = round(float(zi), 12) + 0.0     # -1e-16 from rounding is 0: the point is on the line
    side = "on the line" if abs(zi) < 1e-12 else ("positive side" if zi > 0 else "negative side")
    print(f"x = ({x1:5.2f}, {x2:5.2f})  z = {zi:6.3f}  relu(z) = {yi:5.3f}  {side}")

# One step along the normal w raises z by |w|: the distance from the line is z / |w|.
start = np.array([2.0, -1.0])
step = start + w / np.linalg.norm(w)
rise = neuron.pre_activation(Tensor(step)).item() - neuron.pre_activation(Tensor(start)).item()
print(f"a unit step along w raises z by {rise:.4f} = |w| = {np.linalg.norm(w):.4f}; "
      f"(2, -1) lies {z[0] / np.linalg.norm(w):.3f} from the line")

if args.out:
    from tinygrad_edu.apps.chapter_plots import plot_neuron

    print(f"wrote {plot_neuron(args.out, w=tuple(w), b=b)}")
