# SPDX-License-Identifier: MIT
"""`microtrain import`: a float model (.npz or .onnx, + calibration data), a paper model or an
int8 .tflite -> int8 graph."""

import click

from ..importers.dispatch import describe, import_model
from ..formats.int8_graph import save_graph
from ..quantize.ptq import format_report


@click.command(help="Turn MODEL into an int8 graph file (.mtg): a float model (.npz, quantized "
               "with --calib), a float ONNX model as torch.onnx.export writes it (.onnx, "
               "quantized with --calib given in NHWC; supported ops: Conv, "
               "BatchNormalization, Gemm, MatMul(+Add), Relu, Clip(0, 6), Add, "
               "GlobalAveragePool, ReduceMean over H and W, Flatten, Reshape to (batch, n); any "
               "other op is refused by name and node index), a paper model (.pkl, with a new "
               "head of --classes), or a full-integer int8 TFLite model (.tflite, imported as "
               "it is with TFLite's numerics; supported ops: CONV_2D, DEPTHWISE_CONV_2D, "
               "FULLY_CONNECTED, ADD, AVERAGE_POOL_2D over the whole map, MEAN over H and W, "
               "RESHAPE, PAD, QUANTIZE/DEQUANTIZE and SOFTMAX at the ends; any other op is "
               "refused by name and index). The last fc is named 'head' (--new-head N puts a "
               "fresh N-class one in its place); a policy chooses which layers train.")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", type=click.Path(dir_okay=False),
              help="calibration samples: .npz with x (n, h, w, c) [and y]; NHWC also for .onnx")
@click.option("--eval", "eval_path", type=click.Path(dir_okay=False),
              help="labelled samples for the float vs int8 report: .npz with x and y")
@click.option("--classes", default=10, show_default=True, help="classes of a paper model's "
              "new head")
@click.option("--new-head", "new_head", type=click.IntRange(min=2), default=None,
              metavar="N", help="replace the model's last fc (its classifier) with a fresh "
              "N-class head on the same features, to fine-tune the imported body on your own "
              "classes (seeded small random weights, zero bias); the report, if any, is of the "
              "model before")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="the int8 graph file to write (.mtg)")
def command(model, calib, eval_path, classes, new_head, output):
    graph, report = import_model(model, calib, eval_path, classes,
                                 log=lambda msg: click.echo(f"  {msg}"), new_head=new_head)
    save_graph(graph, output)
    click.echo(describe(graph))
    click.echo(format_report(report))
    click.echo(f"wrote {output}")
