# SPDX-License-Identifier: MIT
"""`microtrain learn --port PORT --model NAME --data new.npz`: learn on the board."""

import click

from ..formats.data_files import load_samples
from ..device.learn import learn_on_board
from ..device.link import connect


@click.command(help="Stream the samples of an .npz (x, y) to the board on PORT one at a time; "
               "the board learns from each (m.learn). Prints running loss and accuracy, and "
               "accuracy before and after.")
@click.option("--port", required=True, help="serial device (/dev/ttyACM0, COM3) or pyserial URL")
@click.option("--baud", default=115200, show_default=True, help="baud rate (UART boards)")
@click.option("--model", "name", required=True, help="model module on the board (model.mpy: "
              "model)")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="samples to learn from: .npz with x (n, ...) and y (n,)")
@click.option("--epochs", default=1, show_default=True, help="passes over the data")
@click.option("--eval", "eval_path", type=click.Path(dir_okay=False),
              help="held-out .npz for accuracy before/after (default: the --data samples)")
@click.option("--save", is_flag=True, help="write the learned state on the board (m.save())")
@click.option("--resume", is_flag=True, help="start from the state saved on the board")
@click.option("--shuffle/--no-shuffle", default=True, show_default=True,
              help="new sample order each epoch")
@click.option("--seed", default=0, show_default=True, help="seed of the sample order")
@click.option("--timeout", default=30.0, show_default=True, help="seconds allowed per step")
@click.option("--curve", "curve_path", type=click.Path(dir_okay=False),
              help="write the learning curve here (.csv: loss and accuracy every --curve-every "
              "steps, per epoch, held-out before/after) and its plot beside it (.png)")
@click.option("--curve-every", type=click.IntRange(min=1), default=None,
              help="learn steps per curve point [20 points per epoch]")
def command(port, baud, name, data_path, epochs, eval_path, save, resume, shuffle, seed,
            timeout, curve_path, curve_every):
    if curve_path and not curve_path.lower().endswith(".csv"):
        raise click.BadParameter(f"{curve_path!r} must end in .csv (the plot goes beside it "
                                 "as .png)", param_hint="--curve")
    data = (data_path, *load_samples(data_path))
    eval_data = (eval_path, *load_samples(eval_path)) if eval_path else None
    with connect(port, baud) as repl:
        report = learn_on_board(repl, name, data, epochs=epochs, eval_data=eval_data,
                                save=save, resume=resume,
                                shuffle_seed=seed if shuffle else None, timeout=timeout,
                                log=click.echo, curve_every=curve_every)
    if curve_path:
        csv_path, png = report.curve.write(curve_path, title=f"microtrain learn: {name}")
        click.echo(f"wrote {csv_path} and {png}")
