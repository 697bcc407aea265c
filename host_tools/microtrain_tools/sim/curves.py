# SPDX-License-Identifier: MIT
"""Learning curves: loss and accuracy as learning goes, written as a CSV and a PNG beside it.

Rows come in three kinds: "steps" (the mean loss and the running accuracy of the last window of
learn steps: the prediction made just before each step, as a deployed device would have
answered), "epoch" (the same over a whole epoch) and "held_out" (accuracy on held-out samples,
measured before learning and after epochs, no loss). `step` counts learn steps from the start.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MicrotrainError

COLUMNS = ("kind", "epoch", "step", "loss", "accuracy")
KINDS = ("steps", "epoch", "held_out")


@dataclass
class CurveRow:
    kind: str
    epoch: int
    step: int
    loss: float | None
    accuracy: float


@dataclass
class LearningCurve:
    rows: list = field(default_factory=list)

    def add(self, kind: str, epoch: int, step: int, loss, accuracy: float) -> None:
        if kind not in KINDS:
            raise ValueError(f"curve row kind must be one of {KINDS}, got {kind!r}")
        self.rows.append(CurveRow(kind, int(epoch), int(step),
                                  None if loss is None else float(loss), float(accuracy)))

    def of(self, kind: str) -> list:
        return [r for r in self.rows if r.kind == kind]

    def write(self, csv_path, title: str = "") -> tuple[Path, Path]:
        """The CSV at csv_path and its plot beside it (same name, .png)."""
        csv_path = Path(csv_path)
        if csv_path.suffix.lower() != ".csv":
            raise MicrotrainError(f"curve file {csv_path} must end in .csv (the plot is "
                                  "written beside it as .png)")
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        with open(csv_path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            for r in self.rows:
                out.writerow([r.kind, r.epoch, r.step, "" if r.loss is None else f"{r.loss:.6g}",
                              f"{r.accuracy:.6g}"])
        png = csv_path.with_suffix(".png")
        self.plot(png, title)
        return csv_path, png

    def plot(self, png_path, title: str = "") -> Path:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt

        fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
        for kind, style, label in (("steps", "-", "last {n} steps"), ("epoch", "o", "epoch")):
            rows = self.of(kind)
            if not rows:
                continue
            n = rows[1].step - rows[0].step if len(rows) > 1 else rows[0].step
            text = label.format(n=n)
            ax_loss.plot([r.step for r in rows], [r.loss for r in rows], style,
                         label=f"mean loss, {text}")
            ax_acc.plot([r.step for r in rows], [100 * r.accuracy for r in rows], style,
                        label=f"running accuracy, {text}")
        held = self.of("held_out")
        if held:
            ax_acc.plot([r.step for r in held], [100 * r.accuracy for r in held], "s--",
                        color="black", label="held-out accuracy")
        ax_loss.set_ylabel("loss")
        ax_acc.set_ylabel("accuracy (%)")
        ax_acc.set_xlabel("learn steps")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        if title:
            ax_loss.set_title(title)
        fig.tight_layout()
        fig.savefig(png_path, dpi=100)
        plt.close(fig)
        return Path(png_path)


def read_curve(csv_path) -> LearningCurve:
    """A curve CSV written by LearningCurve.write, read back."""
    curve = LearningCurve()
    with open(csv_path, newline="") as f:
        rows = csv.DictReader(f)
        if tuple(rows.fieldnames or ()) != COLUMNS:
            raise MicrotrainError(f"{csv_path}: columns {rows.fieldnames}, a curve has "
                                  f"{list(COLUMNS)}")
        for r in rows:
            curve.add(r["kind"], int(r["epoch"]), int(r["step"]),
                      float(r["loss"]) if r["loss"] else None, float(r["accuracy"]))
    return curve


class WindowMeans:
    """Running sums over learn steps, emitting a "steps" row every `every` steps and an "epoch"
    row at each epoch's end (the host side of `microtrain learn` and the unix-port session)."""

    def __init__(self, curve: LearningCurve, every: int):
        self.curve, self.every = curve, max(1, int(every))
        self.step = 0
        self._window = [0.0, 0]  # loss sum, correct
        self._epoch = [0.0, 0, 0]  # loss sum, correct, steps

    def add(self, epoch: int, loss: float, correct: bool) -> None:
        self.step += 1
        self._window[0] += loss
        self._window[1] += bool(correct)
        self._epoch[0] += loss
        self._epoch[1] += bool(correct)
        self._epoch[2] += 1
        if self.step % self.every == 0:
            self.curve.add("steps", epoch, self.step, self._window[0] / self.every,
                           self._window[1] / self.every)
            self._window = [0.0, 0]

    def end_epoch(self, epoch: int) -> tuple[float, float]:
        """(mean loss, running accuracy) of the epoch just ended; adds its row."""
        total, correct, n = self._epoch
        self._epoch = [0.0, 0, 0]
        if n == 0:
            raise MicrotrainError(f"epoch {epoch} had no learn steps")
        self.curve.add("epoch", epoch, self.step, total / n, correct / n)
        return total / n, correct / n
