"""The cycle estimate: the QEMU plugin's instruction classes and the cores' timing tables.

- the plugin's classifier names the timing class of real disassembly lines (QEMU's own format);
- on an emulated Cortex-M4 and M3 the classes of each inference and of each layer add up exactly
  to the instruction counts, taken branches are a part of the control-flow instructions, and the
  M4's DSP kernels show about one SMLAD (a 32-bit multiply-accumulate) per two MACs;
- the estimate applies the TRM's timings to the classes, is at least one cycle per instruction,
  and gives milliseconds at the board's clock; cores without a table get none.
"""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from boards_common import digits_model, require_board
from edgenn.boards import get_board
from edgenn.emulation import cycles
from edgenn.emulation.profile import PLUGIN_SRC, default_inputs, plugin_header, profile

_CLASSIFY_MAIN = r"""
#include "%(src)s"
int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        int regs, control, c;
        line[strcspn(line, "\n")] = '\0';
        c = classify(line, &regs, &control);
        printf("%%s %%d %%d\n", class_names[c], regs, control);
    }
    return 0;
}
"""

#: Disassembly as QEMU 7.2 prints it for Thumb-2 code -> (class, registers moved, may transfer control).
CASES = {
    "smlad r0, r1, r2, r3": ("mla", 0, 0),
    "smlabb r4, r5, r6, r4": ("mla", 0, 0),
    "mla r0, r1, r2, r3": ("mla", 0, 0),
    "mls r0, r1, r2, r3": ("mla", 0, 0),
    "mul r0, r1, r2": ("mul", 0, 0),
    "muls r0, r1": ("mul", 0, 0),
    "smull r0, r1, r2, r3": ("mull", 0, 0),
    "smmlar r0, r1, r2, r3": ("mull", 0, 0),
    "smlal r0, r1, r2, r3": ("mlal", 0, 0),
    "smlalbb r0, r1, r2, r3": ("mlal", 0, 0),
    "sdiv r0, r1, r2": ("div", 0, 0),
    "sxtab16 r0, r1, r2": ("alu", 0, 0),
    "ssat r0, #8, r1": ("alu", 0, 0),
    "it eq": ("alu", 0, 0),
    "ldr r3, [r2, #4]": ("ldst", 0, 0),
    "ldr.w r3, [r2], #4": ("ldst", 0, 0),
    "strb.w r0, [r1, #1]": ("ldst", 0, 0),
    "ldrsb r0, [r1, r2]": ("ldst", 0, 0),
    "ldr pc, [sp], #4": ("ldst", 0, 1),
    "ldrd r2, r3, [r0]": ("multi", 2, 0),
    "strd r2, r3, [r0, #8]": ("multi", 2, 0),
    "push {r4, r5, r6, lr}": ("multi", 4, 0),
    "push.w {r4, r5, r6, r7, r8, sb, lr}": ("multi", 7, 0),
    "pop {r4, r5, r6, pc}": ("multi", 4, 1),
    "ldmia r0!, {r1-r4}": ("multi", 4, 0),
    "vpush {d8-d15}": ("multi", 8, 0),
    "b 0x100": ("branch", 0, 1),
    "b.w 0x100": ("branch", 0, 1),
    "bne.n 0x100": ("branch", 0, 1),
    "ble.w 0x20": ("branch", 0, 1),
    "bls 0x40": ("branch", 0, 1),
    "bl 0x4000": ("branch", 0, 1),
    "bx lr": ("branch", 0, 1),
    "bxeq lr": ("branch", 0, 1),
    "cbz r0, 0x10": ("branch", 0, 1),
    "mov pc, lr": ("alu", 0, 1),
    "le lr, #-20": ("loop", 0, 1),
    "dls lr, r2": ("loop", 0, 0),
    "vldr s0, [r1]": ("vldst", 0, 0),
    "vmov.32 r0, d0[0]": ("vec", 0, 0),
}


def test_classifier_names_the_timing_class_of_each_instruction(tmp_path):
    src = tmp_path / "classify.c"
    src.write_text(_CLASSIFY_MAIN % {"src": PLUGIN_SRC})
    exe = tmp_path / "classify"
    # The plugin's QEMU API functions are never called here: left unresolved at link time.
    subprocess.run(["gcc", "-O1", "-Wall", "-Werror", f"-I{plugin_header().parent}", "-no-pie",
                    "-Wl,--unresolved-symbols=ignore-all", "-o", str(exe), str(src)], check=True)
    lines = list(CASES)
    out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    got = {line: (c, int(r), int(k)) for line, (c, r, k) in zip(lines, (o.split() for o in out.stdout.splitlines()))}
    wrong = {line: (got[line], want) for line, want in CASES.items() if got[line] != want}
    assert not wrong, f"(got, expected): {wrong}"


@pytest.fixture(scope="module")
def digits():
    return digits_model()


def _instructions(c: dict[str, float]) -> float:
    return sum(v for k, v in c.items() if k in cycles.CLASSES)


@pytest.mark.parametrize("board", ["stm32l4r5zi", "mps2-an385"])
def test_classes_add_up_to_the_instruction_counts(digits, board):
    require_board(get_board(board))
    p = profile(digits, default_inputs(digits, 2), board)
    mix = p["instruction_classes"]
    assert set(mix) == set(cycles.CLASSES + cycles.EXTRA)
    # Means over the samples (the reports round the instruction counts of data-dependent kernels).
    assert _instructions(mix) == pytest.approx(p["instructions"], abs=0.5)
    for layer in p["layers"]:
        c = layer["instruction_classes"]
        assert _instructions(c) == pytest.approx(layer["instructions"], abs=0.5), layer["name"]
    control = mix["branch"] + mix["loop"] + mix["multi"] + mix["alu"] + mix["ldst"] + mix["ldst_next"]
    assert 0 < mix["taken"] <= control
    assert mix["regs"] >= mix["multi"] > 0  # every load/store multiple moves at least one register
    est = p["estimated_cycles"]
    assert est == round(cycles.estimate(mix, p["core"]))
    assert est >= p["instructions"]
    if board == "stm32l4r5zi":
        assert p["clock_hz"] == 120_000_000
        assert p["estimated_ms"] == pytest.approx(cycles.estimate(mix, p["core"]) / 120e3)
        # The DSP kernels: about one SMLAD per two MACs in the convolutions and the fully connected
        # layer; a conv2d window not in whole eights (the first 3x3 convolution's 9 values) is
        # zero-padded to them for the filter-pair asm, whose SMLADs count the padding too.
        for layer, op in zip(p["layers"], digits.ops):
            if layer["op"] in ("conv2d", "fully_connected"):
                ratio = layer["instruction_classes"]["mla"] / layer["macs"]
                n = int(np.prod(digits.tensors[op.inputs[1]].shape[1:]))
                padding = ((n + 7) // 8 * 8) / n if layer["op"] == "conv2d" else 1.0
                assert 0.45 <= ratio <= 0.8 * padding, (layer["name"], ratio, padding)
    else:
        assert p["estimated_ms"] is None  # an FPGA image: no product clock


def test_estimate_applies_the_core_timings():
    counts = {"alu": 10, "mla": 4, "mull": 2, "mlal": 2, "ldst": 3, "ldst_next": 5, "multi": 2, "regs": 6,
              "branch": 4, "taken": 3}
    m4 = 10 + 4 + 2 + 2 + 3 * 2 + 5 + 2 + 6 + 4 + 3 * cycles.REFILL
    m3 = 10 + 4 * 2 + 2 * 4 + 2 * 5.5 + 3 * 2 + 5 + 2 + 6 + 4 + 3 * cycles.REFILL
    assert cycles.estimate(counts, "cortex-m4") == m4
    assert cycles.estimate(counts, "cortex-m3") == m3
    assert cycles.estimate(counts, "cortex-m55") is None and not cycles.has_estimate("cortex-m7")
    with pytest.raises(ValueError, match="loop"):
        cycles.estimate({"loop": 1}, "cortex-m4")
    assert cycles.milliseconds(120_000, 120_000_000) == pytest.approx(1.0)
    assert cycles.milliseconds(120_000, 0) is None
