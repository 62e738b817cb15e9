"""The `edgenn` command line.

Errors caused by the user's input print one line on stderr and exit with status 2; no
traceback, and no partial output file is left behind.
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import click
import numpy as np

from edgenn import __version__
from edgenn.errors import DataError, EdgennError, read_file

EXIT_USER_ERROR = 2
EXIT_MISMATCH = 1  # a check failed: backends disagree (validate), the model does not fit (analyze --board)


def _fail(msg: str) -> None:
    raise EdgennError(msg)


def load_npy(path: str, what: str) -> np.ndarray:
    from edgenn.runtime_py.dataio import read_npy

    return read_npy(read_file(path, what, DataError), what, path)


def save_npy(path: str, arr: np.ndarray) -> None:
    import io

    from edgenn.format.enn import write_atomic

    buf = io.BytesIO()
    np.save(buf, arr)
    write_atomic(path, buf.getvalue())


def parse_shapes(items: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for it in items:
        if "=" not in it:
            _fail(f"--input-shape {it!r}: expected NAME=DIMxDIMx... (e.g. input=1x3x32x32)")
        name, dims = it.split("=", 1)
        try:
            shapes[name] = tuple(int(d) for d in dims.lower().replace(",", "x").split("x"))
        except ValueError:
            _fail(f"--input-shape {it!r}: dimensions must be integers")
        if any(d <= 0 for d in shapes[name]):
            _fail(f"--input-shape {it!r}: dimensions must be positive")
    return shapes


def _console(stderr: bool = False):
    """A rich console; into a file or a pipe, wide enough that tables keep their columns."""
    from rich.console import Console

    con = Console(stderr=stderr)
    return con if con.is_terminal else Console(width=200, stderr=stderr)


def quiet_option(help_text: str = "No progress display.", expose: bool = False):
    """``--quiet/-q``: turns the progress display (edgenn.progress, stderr, terminals only) off."""
    def apply(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        from edgenn import progress
        from edgenn.errors import EdgennNote

        progress.set_enabled(not value)
        warnings.simplefilter("ignore" if value else "always", EdgennNote)  # warnings still show
        return value
    return click.option("--quiet", "-q", is_flag=True, callback=apply, expose_value=expose, help=help_text)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgenn")
def cli() -> None:
    """edgenn: neural networks to bit-exact int8 C for microcontrollers."""


def _state_note(a: dict) -> str:
    """'; recurrent state 96 B of the arena (...)' for a model with state tensors, else ''."""
    if not a.get("state_bytes"):
        return ""
    kept = "kept between calls: stateful" if a["stateful"] else "reset every call"
    return f"; recurrent state {a['state_bytes']:,} B of the arena ({kept})"


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--calib", "calib", multiple=True, type=click.Path(dir_okay=False),
              help="Calibration data .npy (N samples in the model's layout); one per model input.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .enn file to write.")
@click.option("--name", help="Model name (C symbol prefix); default: the file name.")
@click.option("--board", help="Check that the model fits this board (see `edgenn boards`).")
@click.option("--input-shape", "input_shapes", multiple=True, help="Fix a dynamic input shape: NAME=1x3x32x32.")
@click.option("--calib-method", type=click.Choice(["minmax", "percentile"]), default="minmax", show_default=True,
              help="Activation ranges: the extremes seen, or clipped at --calib-percentile on each side.")
@click.option("--calib-percentile", type=float, default=99.99, show_default=True,
              help="With --calib-method percentile: the share of values kept on each side.")
@click.option("--compress", type=click.Choice(["auto", "huffman", "palette"]), is_flag=False, flag_value="auto",
              default=None, help="Store weights losslessly compressed (decoded into the arena before each layer); "
              "alone: auto, the smallest per tensor.")
@click.option("--prune", "prune", multiple=True, metavar="KIND:RATIO",
              help="structured:RATIO removes that share of the output channels of every prunable conv/Gemm "
              "(least salient first; consumers reconstructed by least squares on --calib); unstructured:RATIO "
              "zeroes that share of each layer's smallest weights (saves flash with --compress). Float ONNX only.")
@click.option("--prune-saliency", type=click.Choice(["l1", "l2", "activation"]), default="l1", show_default=True,
              help="Structured pruning: rank channels by weight norm, or by mean activation on --calib.")
@click.option("--cluster", type=click.IntRange(2, 256), metavar="N",
              help="Weight sharing: k-means each layer's weights into at most N values (N <= 16: stored as "
              "a palette + packed indices). Float ONNX only.")
@click.option("--eval-data", type=click.Path(dir_okay=False),
              help="With --prune/--cluster/--compress: data for the before/after report (default: every 5th "
              "calibration sample, held out from conversions on the rest for pruning and clustering).")
@click.option("--eval-labels", type=click.Path(dir_okay=False), help="Labels of --eval-data: report accuracy too.")
@click.option("--report-json", type=click.Path(dir_okay=False),
              help="With --prune/--cluster/--compress: write the before/after report as JSON.")
@click.option("--stateful/--stateless", "stateful", default=None,
              help="Models with recurrent layers (LSTM, GRU, RNN, SVDF): keep their state from one call to the "
              "next (streaming: feed a sequence one step or chunk per call, e.g. with --input-shape "
              "x=1x1x8; calibrate on whole sequences) or reset it at every call. Default: stateless for "
              "ONNX, stateful for TFLite (TFLM keeps variable tensors between invokes).")
@quiet_option("No progress display or summary.", expose=True)
def convert(model: str, calib: tuple[str, ...], output: str, name: str | None, board: str | None,
            input_shapes: tuple[str, ...], calib_method: str, calib_percentile: float, compress: str | None,
            prune: tuple[str, ...], prune_saliency: str, cluster: int | None, eval_data: str | None,
            eval_labels: str | None, report_json: str | None, stateful: bool | None, quiet: bool) -> None:
    """Convert a float ONNX (with calibration data) or int8 TFLite model to .enn."""
    from edgenn.converter.pipeline import ConvertOptions, convert_with_report, detect_format
    from edgenn.converter.shrink.transforms import parse_prune
    from edgenn.format import enn

    fmt = detect_format(model)
    specs = tuple(parse_prune(p) for p in prune)
    arrays = [load_npy(c, "calibration data") for c in calib] if calib else None
    if fmt == "onnx" and arrays is not None:
        from edgenn.converter.calibrate import check_calibration_files

        check_calibration_files(model, arrays, list(calib))
    if fmt == "tflite" and arrays is not None and not quiet:
        click.echo("note: the .tflite model is already quantized; --calib is ignored", err=True)
        arrays = None
    shrinking = bool(specs) or cluster is not None or compress is not None
    if (eval_data or eval_labels or report_json) and not shrinking:
        _fail("--eval-data, --eval-labels and --report-json report on --prune, --cluster or --compress: give one")
    if eval_labels and not eval_data:
        _fail("--eval-labels needs --eval-data")
    ev = [load_npy(eval_data, "evaluation data")] if eval_data else None
    ev_labels = load_npy(eval_labels, "evaluation labels") if eval_labels else None
    options = ConvertOptions(name=name, input_shapes=parse_shapes(input_shapes), progress=not quiet,
                             calib_method=calib_method, calib_percentile=calib_percentile, compress=compress,
                             prune=specs, prune_saliency=prune_saliency, cluster=cluster, stateful=stateful)
    conversion = convert_with_report(model, arrays, options)
    m = conversion.model
    report = None
    if shrinking and (not quiet or report_json):
        report = _savings_report(model, arrays, options, conversion, ev, ev_labels, eval_data)
    fit = None
    if board:
        from edgenn.fit import check_fit

        fit = check_fit(m, board)
    enn.save(m, output)
    if not quiet:
        from edgenn.analysis import analyze

        a = analyze(m)
        click.echo(f"wrote {output}: {len(m.ops)} layers, {a['macs']:,} MACs, arena {a['arena_bytes']:,} B, "
                   f"weights {a['weights_bytes']:,} B{_state_note(a)}")
        if compress:
            from edgenn.converter.shrink.compress import compression_summary

            click.echo(compression_summary(m), err=True)
        if report is not None:
            from edgenn.savings import render

            _console(stderr=True).print(render(report))
        if fit is not None:
            click.echo(_fit_line(fit))
    if report_json and report is not None:
        from edgenn.format.enn import write_atomic

        write_atomic(report_json, (json.dumps(report, indent=2) + "\n").encode())


HOLD_OUT_EVERY = 5  # without --eval-data, every 5th calibration sample is held out for the report
MIN_HOLD_OUT = 2


def _savings_report(model: str, calib: list[np.ndarray] | None, options: Any, conversion: Any,
                    data: list[np.ndarray] | None, labels: np.ndarray | None, eval_data: str | None) -> dict[str, Any]:
    """convert's before/after report: the same conversion without pruning, clustering and compression
    as the baseline; quality on --eval-data or, for pruning and clustering (whose refits and bias
    corrections fit the calibration data), on calibration samples held out from conversions of
    both models on the rest (the written model uses every sample)."""
    import dataclasses

    from edgenn.converter.pipeline import convert as do_convert
    from edgenn.converter.pipeline import convert_with_report
    from edgenn.progress import step
    from edgenn.savings import compare, quality

    lossy = bool(options.prune or options.cluster is not None)
    base_opts = dataclasses.replace(options, prune=(), cluster=None, compress=None, progress=False)
    m = conversion.model
    after = m
    fit = calib
    n = 0 if calib is None else int(np.asarray(calib[0]).shape[0])
    if eval_data is not None:
        described = f"the {int(np.asarray(data[0]).shape[0])} samples of --eval-data {eval_data}"
    elif not lossy:
        data, described = calib, f"the {n} calibration samples (the compression is lossless)"
    elif n // HOLD_OUT_EVERY >= MIN_HOLD_OUT:
        held = np.arange(n) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
        fit = [np.asarray(a)[~held] for a in calib]
        data = [np.asarray(a)[held] for a in calib]
        described = (f"{int(held.sum())} calibration samples held out (every {HOLD_OUT_EVERY}th; both models "
                     f"refitted and calibrated on the other {int((~held).sum())}, the written model on all {n})")
        with step("before/after report: converting on the rest of the calibration data"):
            after = convert_with_report(model, fit, dataclasses.replace(options, progress=False)).model
    else:
        data = calib
        described = (f"the {n} calibration samples the refit used (too few to hold some out: optimistic; "
                     "pass --eval-data)")
    with step("before/after report: converting without the transforms"):
        base = do_convert(model, fit, base_opts)
    report = compare(base, m)
    report["transforms"] = conversion.transform_report
    if data is not None:
        with step("before/after report: running both models"):
            q = quality(model, {"before": base, "after": after}, data, labels)
        q["lossless"] = not lossy
        q["data"] = described
        report["quality"] = q
    return report


def _fit_line(b: dict[str, Any]) -> str:
    """The fit report in one or two lines: the test firmware (bare-metal boards), then the libraries."""
    def part(what: str, used: int, have: int, over: int) -> str:
        if not have:
            return f"{what} {used:,} B"
        return f"{what} {used:,} of {have:,} B" + (f" ({over:,} B over)" if over else "")

    how = "measured" if b["measured"] else "estimated"
    libs = b["libraries"]
    stacks = "+".join(f"{x['stack_bytes']:,}" for x in libs)
    lib = (f"librar{'ies' if len(libs) > 1 else 'y'} alone: flash {sum(x['flash'] for x in libs):,} B, RAM "
           f"{sum(x['ram'] for x in libs):,} B (arena {sum(x['arena_bytes'] for x in libs):,} + stack {stacks} "
           "+ other static)")
    verdict = "fits" if b["fits"] else "does NOT fit"
    fw = b["firmware"]
    if fw is None:
        return f"board {b['board']} ({how}): {lib.replace(' alone', '')}: {verdict}"
    stack = f"stack {fw['stack_reserved']:,} reserved" + (f", {fw['stack_needed']:,} needed" if fw["stack_needed"] is not None
                                                        else "") + (f", {b['stack_over']:,} B over" if b["stack_over"] else "")
    return (f"board {b['board']} ({how}): test firmware {part('flash', b['flash_used'], b['flash_bytes'], b['flash_over'])}, "
            f"{part('RAM', b['ram_used'], b['ram_bytes'], b['ram_over'])} (arena {fw['arena_bytes']:,} + input/output "
            f"{fw['io_bytes']:,} + {stack}): {verdict}\n  {lib}")


def _profile_inputs(m, files: tuple[str, ...], samples: int) -> list[np.ndarray]:
    from edgenn.emulation.profile import default_inputs
    from edgenn.runtime_py import dataio

    if files:
        return dataio.to_internal(m, _load_inputs(m, files))
    if samples < 1:
        _fail("--samples must be at least 1")
    return default_inputs(m, samples)


def _print_profile(p: dict[str, Any], title: str) -> None:
    from rich.table import Table

    t = Table(title=title)
    est = "estimated_cycles" in p
    for col in ("#", "op", "name", "instructions", "share", "MACs", "instr/MAC") + (("est. cycles",) if est else ()):
        t.add_column(col, justify="left" if col in ("op", "name") else "right")
    for layer in p["layers"]:
        ipm = layer["instructions_per_mac"]
        t.add_row(str(layer["index"]), layer["op"], layer["name"][-32:], f"{layer['instructions']:,}",
                  f"{100 * layer['share']:.1f}%", f"{layer['macs']:,}", f"{ipm:.2f}" if ipm is not None else "-",
                  *((f"{layer['estimated_cycles']:,}",) if est else ()))
    con = _console()
    if p["layers"]:
        con.print(t)
    spread = "" if p["instructions_min"] == p["instructions_max"] else \
        f" (min {p['instructions_min']:,}, max {p['instructions_max']:,} over {p['samples']} samples)"
    ipm = p["instructions_per_mac"]
    con.print(f"{p['board']} ({p['core']}): {p['instructions']:,} instructions per inference{spread}, "
              f"{p['macs']:,} MACs" + (f", {ipm:.2f} instructions per MAC" if ipm is not None else "")
              + (f"; outside the layers {p['other_instructions']:,}" if "other_instructions" in p else ""))
    if est:
        con.print(_cycles_line(p))


def _cycles_line(p: dict[str, Any]) -> str:
    """The cycle estimate of a profile, labelled as one."""
    ms = p["estimated_ms"]
    return (f"estimated {p['estimated_cycles']:,} cycles per inference"
            + (f" = {ms:.2f} ms at {p['clock_hz'] / 1e6:g} MHz" if ms is not None else " (no clock: a board with one "
               "gives milliseconds)")
            + f" (an estimate from the {p['core']} TRM's instruction timings, zero wait states; see emulation/cycles.py)")


def _profile_json(p: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k != "outputs"}


def _sensitivity(model: str, kind: str, calib: tuple[str, ...], data: str | None, labels: str | None, ratios: str,
                 saliency: str, as_json: bool) -> None:
    from edgenn.sensitivity import render, sensitivity

    if not calib or not data:
        _fail("--sensitivity needs --calib (calibration data) and --data (evaluation data)")
    try:
        rs = tuple(float(r) for r in ratios.split(",") if r.strip())
    except ValueError:
        rs = ()
    if not rs:
        _fail(f"--ratios {ratios!r}: expected comma-separated numbers in (0, 1), e.g. 0.1,0.3,0.5")
    rep = sensitivity(model, [load_npy(c, "calibration data") for c in calib], [load_npy(data, "data")],
                      load_npy(labels, "labels") if labels else None, kind, rs, saliency, progress=not as_json)
    if as_json:
        emit_json(rep)
    else:
        _console().print(render(rep))


@cli.command()
@click.argument("enn_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--board", help="Also report whether the model fits this board.")
@click.option("--profile", is_flag=True,
              help="Also count instructions per inference and per layer on --board under QEMU.")
@click.option("--input", "-i", "inputs", multiple=True, type=click.Path(dir_okay=False),
              help="With --profile: input .npy (default: random int8 samples).")
@click.option("--samples", default=1, show_default=True, help="With --profile and no --input: random samples.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Draw the memory plan (operators x arena bytes) to a .png, .svg or .pdf file.")
@click.option("--sensitivity", type=click.Choice(["structured", "unstructured"]), is_flag=False,
              flag_value="structured", default=None,
              help="Instead: prune each layer of a float ONNX model (the argument) alone at --ratios and report "
              "int8 accuracy (--labels) or top-1 agreement with the float model on --data.")
@click.option("--calib", "calib", multiple=True, type=click.Path(dir_okay=False),
              help="With --sensitivity: calibration data .npy.")
@click.option("--data", "data", type=click.Path(dir_okay=False), help="With --sensitivity: evaluation data .npy.")
@click.option("--labels", type=click.Path(dir_okay=False), help="With --sensitivity: labels of --data.")
@click.option("--ratios", default="0.1,0.3,0.5,0.7", show_default=True, help="With --sensitivity: pruning ratios.")
@click.option("--prune-saliency", type=click.Choice(["l1", "l2", "activation"]), default="l1", show_default=True,
              help="With --sensitivity structured: how channels are ranked.")
@quiet_option()
def analyze(enn_file: str, as_json: bool, board: str | None, profile: bool, inputs: tuple[str, ...],
            samples: int, plot: str | None, sensitivity: str | None, calib: tuple[str, ...], data: str | None,
            labels: str | None, ratios: str, prune_saliency: str) -> None:
    """Report memory plan, weights and MACs per layer of an .enn (and fit and instructions on a board);
    with --sensitivity, the pruning sensitivity of a float ONNX model per layer."""
    from edgenn.analysis import analyze as do_analyze
    from edgenn.format import enn

    if sensitivity:
        _sensitivity(enn_file, sensitivity, calib, data, labels, ratios, prune_saliency, as_json)
        return
    if calib or data or labels:
        _fail("--calib, --data and --labels go with --sensitivity")
    if profile and not board:
        _fail("--profile needs --board (an emulated board, see `edgenn boards`)")
    m = enn.load(enn_file)
    a = do_analyze(m)
    if plot:
        from edgenn.plot import plot_plan

        a["plot"] = str(plot_plan(m, plot))
    if board:
        from edgenn.fit import fit_report

        a["board"] = fit_report(m, board)
    if profile:
        from edgenn.emulation.profile import profile as do_profile

        p = do_profile(m, _profile_inputs(m, inputs, samples), board)
        a["profile"] = _profile_json(p)
        for layer, pl in zip(a["layers"], p["layers"]):
            layer["instructions"] = pl["instructions"]
            layer["instructions_per_mac"] = pl["instructions_per_mac"]
    if as_json:
        emit_json(a)
        _exit_unless_fits(a)
        return
    from rich.table import Table

    t = Table(title=f"{m.name} ({a['source']})", show_lines=False)
    cols = ["#", "op", "name", "input", "output", "MACs", "weights B", "out @ offset"]
    if profile:
        cols += ["instructions", "instr/MAC"]
    for col in cols:
        t.add_column(col, justify="right" if col in ("#", "MACs", "weights B", "instructions", "instr/MAC") else "left")
    for layer in a["layers"]:
        row = [str(layer["index"]), layer["op"], layer["name"][-32:],
               " ".join("x".join(map(str, s)) for s in layer["input_shapes"]),
               " ".join("x".join(map(str, s)) for s in layer["output_shapes"]),
               f"{layer['macs']:,}", f"{layer['weight_bytes'] + layer['param_bytes']:,}",
               " ".join(str(o["offset"]) for o in layer["outputs"])]
        if profile:
            ipm = layer.get("instructions_per_mac")
            row += [f"{layer.get('instructions', 0):,}", f"{ipm:.2f}" if ipm is not None else "-"]
        t.add_row(*row)
    con = _console()
    con.print(t)
    packed = "" if a["weights_bytes"] == a["weights_bytes_decoded"] else \
        f" (compressed from {a['weights_bytes_decoded']:,} B, decoded into the arena layer by layer)"
    con.print(f"arena {a['arena_bytes']:,} B (layer-wise lower bound {a['arena_lower_bound_bytes']:,} B, "
              f"{a['planner']}), weights {a['weights_bytes']:,} B{packed} + parameters {a['params_bytes']:,} B, "
              f"{a['macs']:,} MACs{_state_note(a)}")
    if board:
        con.print(_fit_line(a["board"]))
    else:
        con.print("(the whole RAM also counts static data and the stack, which depend on the target: add --board)")
    if profile:
        p = a["profile"]
        ipm = p["instructions_per_mac"]
        con.print(f"{p['board']} ({p['core']}): {p['instructions']:,} instructions per inference"
                  + (f", {ipm:.2f} per MAC" if ipm is not None else "") + f" ({p['samples']} sample(s))")
        if "estimated_cycles" in p:
            con.print(_cycles_line(p))
    _exit_unless_fits(a)


def _exit_unless_fits(a: dict[str, Any]) -> None:
    """analyze --board is a check too: exit status 1 when the model does not fit the board."""
    if "board" in a and not a["board"]["fits"]:
        click.echo(f"edgenn: the model does not fit {a['board']['board']}", err=True)
        sys.exit(EXIT_MISMATCH)


@cli.command()
@click.argument("enn_files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--board", default="host", show_default=True, help="Target board (see `edgenn boards`).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Directory to write.")
@click.option("--name", help="Override the C symbol prefix (one model only).")
@click.option("--shared-arena", is_flag=True,
              help="Several models: one arena of the largest size for all (they must never run at the same time).")
@click.option("--force", is_flag=True, help="Write the project even if its test firmware does not fit the board.")
@click.option("--optimize", type=click.Choice(["speed", "size"]), default="speed", show_default=True,
              help="The projects' optimization level: the board's fastest (-O2; -O3 on 64-bit Pis; on DSP "
                   "microcontrollers also filters pre-extended to int16 in flash) or -Os.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="Linux boards and the host: run large layers (convolutions) on this many threads, by rows.")
@quiet_option()
def generate(enn_files: tuple[str, ...], board: str, output: str, name: str | None, shared_arena: bool,
             force: bool, optimize: str, threads: int) -> None:
    """Generate the C library of each model (lib/<name>/) and a test application for a board."""
    from edgenn.boards import get_board, optimized_for, with_threads
    from edgenn.codegen.generate import load_models, render_project

    b = with_threads(optimized_for(get_board(board), optimize), threads)
    if shared_arena and len(enn_files) < 2:
        _fail("--shared-arena shares one arena between several models: give two or more .enn files")
    models = load_models(list(enn_files), name)
    warning = None
    if b.kind == "baremetal":
        from edgenn.fit import explain, fit_report

        r = fit_report(models, b, shared_arena=shared_arena)
        if not r["fits"]:
            if not force:
                _fail(explain(r) + "; nothing written (--force writes it anyway)")
            warning = "edgenn: warning: " + explain(r) + "; written anyway (--force)"
    import hashlib

    cmd = "edgenn " + " ".join(sys.argv[1:])
    d = render_project(models, Path(output), b, command=cmd, shared_arena=shared_arena,
                       sha256s=[hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in enn_files])
    if warning:
        click.echo(warning, err=True)
    how = f"make -C {d}"
    if b.kind == "baremetal":
        how += " firmware.elf" + (f"; in QEMU: make -C {d} run" if b.emulated else "")
    elif b.kind in ("linux", "host"):
        how += " runner shared"
    libs = ", ".join(f"{d}/lib/{m.name}/" for m in models)
    click.echo(f"wrote {d}/ for {b.name}: the drop-in librar{'ies' if len(models) > 1 else 'y'} {libs}; "
               f"build with `{how}`")


def _load_inputs(model, files: tuple[str, ...]) -> list[np.ndarray]:
    from edgenn.runtime_py.dataio import check_dtype

    if len(files) != len(model.inputs):
        _fail(f"the model has {len(model.inputs)} input(s); give one --input per input")
    arrays = [load_npy(f, "input") for f in files]
    for f, a, d in zip(files, arrays, model.inputs):
        check_dtype(a, f"input {f}", model.tensors[d.tensor].dtype)
    return arrays


@cli.command()
@click.argument("enn_file", type=click.Path(dir_okay=False))
@click.option("--input", "-i", "inputs", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Input .npy (N samples); int8 = raw, float = quantized with the input parameters.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Output .npy (several outputs: NAME_<k>.npy for k > 0); required unless --profile.")
@click.option("--backend", type=click.Choice(["python", "host", "qemu"]),
              help="python (default), host, or qemu (the default when --board is given).")
@click.option("--board", help="Board for --backend qemu (default mps2-an386); see `edgenn boards`.")
@click.option("--profile", is_flag=True, help="Count instructions per inference and per layer (--backend qemu).")
@click.option("--json", "as_json", is_flag=True, help="With --profile: the counts as one JSON object on stdout.")
@quiet_option()
def run(enn_file: str, inputs: tuple[str, ...], output: str | None, backend: str | None, board: str | None,
        profile: bool, as_json: bool) -> None:
    """Run a model on N inputs with one backend."""
    from edgenn.emulation import backends as be
    from edgenn.format import enn
    from edgenn.runtime_py import dataio

    if backend is None:
        backend = "qemu" if board or profile else "python"
    if profile and backend != "qemu":
        _fail("--profile counts instructions under QEMU: use --backend qemu with --board")
    if as_json and not profile:
        _fail("--json goes with --profile")
    if output is None and not profile:
        _fail("missing option -o/--output")
    if board and backend != "qemu":
        from edgenn.boards import get_board

        get_board(board)  # an unknown board is an error even when it would not be used
        _fail(f"--board {board} needs --backend qemu (backend {backend} ignores it)")
    m = enn.load(enn_file)
    data = _load_inputs(m, inputs)
    xs = dataio.to_internal(m, data)
    if profile:
        from edgenn.emulation.profile import profile as do_profile

        p = do_profile(m, xs, board or "mps2-an386")
        outs = p["outputs"]
        if as_json:
            emit_json(_profile_json(p))
        else:
            _print_profile(p, f"{m.name} on {p['board']}: instructions per layer")
    else:
        outs = be.run(m, xs, backend, board)
    if output is None:
        return
    as_float = any(np.asarray(d).dtype.kind == "f" for d in data)
    ys = dataio.from_internal(m, outs, as_float, raw_unquantized=True)  # indices stay integers
    for k, y in enumerate(ys):
        path = output if k == 0 else str(Path(output).with_name(f"{Path(output).stem}_{k}.npy"))
        save_npy(path, y)


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("enn_file", type=click.Path(dir_okay=False))
@click.option("--data", "data", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Test inputs .npy (one per model input).")
@click.option("--labels", type=click.Path(dir_okay=False), help="Integer class labels .npy for accuracy.")
@click.option("--backend", "backend", default=None,
              help="Comma-separated: python,host,qemu (default python; python,qemu with --board).")
@click.option("--board", help="Board for the qemu backend (default mps2-an386).")
@click.option("--layers", is_flag=True,
              help="Compare layer by layer (with the source model and between backends) and name the first "
                   "layer that differs.")
@click.option("--json", "as_json", is_flag=True)
@quiet_option("No progress display or report.", expose=True)
def validate(model: str, enn_file: str, data: tuple[str, ...], labels: str | None, backend: str,
             board: str | None, layers: bool, as_json: bool, quiet: bool) -> None:
    """Check backends byte for byte against the Python reference, and quality against the source model."""
    from edgenn.format import enn
    from edgenn.validate import validate as do_validate

    if backend is None:
        backend = "python,qemu" if board else "python"
    names = [b.strip() for b in backend.split(",") if b.strip()]
    bad = [b for b in names if b not in ("python", "host", "qemu")]
    if bad or not names:
        _fail(f"--backend: unknown backend {', '.join(bad) or '(none)'}; choose from python, host, qemu")
    m = enn.load(enn_file)
    arrays = _load_inputs(m, data)
    lab = load_npy(labels, "labels") if labels else None
    rep = do_validate(model, m, arrays, lab, names, board, progress=not quiet and not as_json)
    if layers:
        from edgenn.layers import compare_layers

        rep["layers"] = compare_layers(model, m, arrays, [b for b in names if b != "python"], board)
    if as_json:
        emit_json(rep)
    elif not quiet:
        several = len(rep["outputs"]) > 1
        ref_name = "TFLM (int8)" if rep["reference"] == "tflm" else "float model (onnxruntime)"
        acc_of = f" of output '{rep['outputs'][0]}'" if several else ""
        acc_name = "TFLM accuracy" if rep["reference"] == "tflm" else "float accuracy"
        click.echo(f"{rep['samples']} samples, reference: {ref_name}"
                   + (f", {acc_name}{acc_of} {rep['reference_accuracy']:.4f}" if "reference_accuracy" in rep else ""))
        for name, b in rep["backends"].items():
            top = "" if several else f"top-1 agreement {b['top1_agreement']:.4f}, "
            line = f"  {name:7s} mismatched bytes {b['mismatched_bytes']}, {top}cosine {b['cosine']:.5f}"
            if "tflm_mismatched_bytes" in b:
                line += f", vs TFLM {b['tflm_mismatched_bytes']} bytes differ"
            if several:
                line += " (all outputs)"
            if "accuracy" in b:
                line += f", accuracy{acc_of} {b['accuracy']:.4f}"
            click.echo(line)
            for o in b["outputs"] if several else []:
                line = (f"    output '{o['name']}': mismatched bytes {o['mismatched_bytes']}, top-1 agreement "
                        f"{o['top1_agreement']:.4f}, cosine {o['cosine']:.5f}")
                if "tflm_mismatched_bytes" in o:
                    line += f", vs TFLM {o['tflm_mismatched_bytes']} bytes differ"
                click.echo(line)
        if layers:
            _print_layers(rep["layers"])
        click.echo("all backends agree byte for byte" if rep["bit_exact"] else "MISMATCH: backends disagree")
    if not rep["bit_exact"]:
        sys.exit(EXIT_MISMATCH)


def _print_layers(lr: dict[str, Any]) -> None:
    from rich.table import Table

    tflm = lr["reference"] == "tflm"
    backends = list(lr["first_backend_mismatch"])
    t = Table(title=f"layer by layer ({lr['samples']} samples; reference {lr['reference']})")
    cols = ["#", "op", "tensor"] + (["bytes != TFLM"] if tflm else ["cosine vs float", "max err LSB"])
    cols += [f"{b} bytes != python" for b in backends]
    for c in cols:
        t.add_column(c, justify="left" if c in ("op", "tensor") else "right")
    for row in lr["layers"]:
        cells = [str(row["index"]), row["op"], row["tensor"].split(";")[0][-36:]]
        if not row.get("compared"):
            cells += ["-"] if tflm else ["-", "-"]
        elif tflm:
            cells += [str(row["mismatched_bytes"])]
        else:
            cells += [f"{row['cosine']:.5f}", f"{row['max_err_lsb']:.1f}"]
        cells += [str(row.get(f"{b}_mismatched_bytes", "-")) for b in backends]
        t.add_row(*cells)
    con = _console()
    con.print(t)
    if tflm:
        f = lr["first_mismatch"]
        con.print("every layer matches TFLM byte for byte" if f is None else
                  f"first layer that differs from TFLM: {f} ({lr['layers'][f]['op']} {lr['layers'][f]['name']!r})")
    for b, f in lr["first_backend_mismatch"].items():
        con.print(f"{b}: every layer matches the Python reference" if f is None else
                  f"{b}: first layer that differs from the Python reference: {f} "
                  f"({lr['layers'][f]['op']} {lr['layers'][f]['name']!r})")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def boards(as_json: bool) -> None:
    """List the known boards."""
    from edgenn.boards import all_boards

    rows = [b.summary() for b in all_boards().values()]
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    def size(v: int) -> str:
        if not v:
            return "-"
        return f"{v // (1 << 30)} GB" if v >= 1 << 30 and v % (1 << 30) == 0 else \
            f"{v // (1 << 20)} MB" if v >= 1 << 20 and v % (1 << 20) == 0 else f"{v // 1024} KB" if v % 1024 == 0 \
            else f"{v:,} B"

    t = Table()
    for col in ("name", "core", "kind", "flash", "RAM", "emulated by", "description"):
        t.add_column(col, no_wrap=col != "description", justify="right" if col in ("flash", "RAM") else "left")
    for r in rows:
        emu = "-"
        if r["emulated"]:
            emu = r["emulator"] + (f" -M {r['machine']}" if r["machine"] else "") + \
                (f" -cpu {r['emulator_cpu']}" if r["emulator_cpu"] else "")
        t.add_row(r["name"], r["core"], r["kind"], size(r["flash_bytes"]), size(r["ram_bytes"]), emu,
                  r["description"])
    _console().print(t)


@cli.command()
@click.argument("enn_file", type=click.Path(dir_okay=False))
@click.option("--board", required=True, help="Target board (see `edgenn boards`), e.g. rpi4.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .tar.gz to write.")
@click.option("--name", help="Override the C symbol prefix (and the package's name).")
@click.option("--host", "host", help="Also copy the package to this ssh destination (user@host[:dir]) with scp.")
@click.option("--no-build", is_flag=True, help="Sources only: no prebuilt binaries.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="Linux boards: run large layers (convolutions) on this many threads, by rows.")
@quiet_option()
def deploy(enn_file: str, board: str, output: str, name: str | None, host: str | None, no_build: bool,
           threads: int) -> None:
    """Pack a ready-to-use project for a board: sources, prebuilt binaries and a README."""
    from edgenn.boards import get_board, with_threads
    from edgenn.deploy import deploy as do_deploy

    cmd = "edgenn " + " ".join(sys.argv[1:])
    b = with_threads(get_board(board), threads)
    r = do_deploy(enn_file, b, output, name=name, host=host, build=not no_build, command=cmd)
    click.echo(f"wrote {r['archive']} ({r['bytes']:,} B) for {r['board']}: {', '.join(r['prebuilt']) or 'sources only'}")
    if r.get("copied_to"):
        click.echo(f"copied to {r['copied_to']}")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """edgenn's own warnings as one line each on stderr; others as Python prints them."""
    from edgenn.errors import EdgennNote, EdgennWarning

    if issubclass(category, EdgennWarning):
        kind = "note" if issubclass(category, EdgennNote) else "warning"
        click.echo(f"edgenn: {kind}: {message}", err=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> None:
    from edgenn.errors import EdgennWarning

    warnings.showwarning = _show_warning
    warnings.simplefilter("always", EdgennWarning)
    try:
        cli.main(args=argv, prog_name="edgenn", standalone_mode=False)
    except EdgennError as e:
        click.echo(f"edgenn: error: {e}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except click.exceptions.Abort:
        click.echo("edgenn: aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("edgenn: interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # a bug in edgenn, not the user's fault: still no raw traceback by default
        if os.environ.get("EDGENN_DEBUG"):
            raise
        click.echo(f"edgenn: internal error: {type(e).__name__}: {e} (set EDGENN_DEBUG=1 for a traceback; "
                   "please report it)", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
