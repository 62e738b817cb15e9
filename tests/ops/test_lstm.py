"""lstm: TFLM's integer UNIDIRECTIONAL_SEQUENCE_LSTM. Python kernel == C kernel byte for byte on
random cases (time- and batch-major, reversed, clipped, sigmoid cell gate, random initial states,
stateless and stateful streams); single-operator .tflite models judged by TFLM itself (stateful:
TFLM keeps the variable tensors between invokes; stateless: TFLM reset before every invoke)."""
from __future__ import annotations

import numpy as np

from harness import check_cases, judge_tflite, random_inputs
from recurrent_cases import lstm_case, lstm_tflite
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng):
    return lstm_case(rng, stateful=bool(rng.integers(0, 2)))


def test_lstm_random_cases():
    rng = np.random.default_rng(3100)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_lstm_tflite_models_equal_tflm_stream():
    """TFLM runs the samples of a case one after the other without a reset: the state carries over,
    as in edgenn's stateful model (the TFLite default) in Python and host C."""
    rng = np.random.default_rng(3101)
    cases = []
    for i in range(40):
        data = lstm_tflite(rng)
        cases.append((data, random_inputs(convert_tflite_bytes(data, f"t{i}"), 4, rng)))
    assert judge_tflite(cases, "lstm") == 40


def test_lstm_stateless_equals_tflm_reset_per_invoke():
    """Converted stateless, every invoke starts from the reset state: TFLM reset before each invoke."""
    from tflite_micro import runtime

    rng = np.random.default_rng(3102)
    differs = 0
    for i in range(12):
        data = lstm_tflite(rng)
        model = convert_tflite_bytes(data, f"t{i}")
        model.stateful = False
        xs = random_inputs(model, 3, rng)
        got = Interpreter(model).invoke(*xs)[0]
        it = runtime.Interpreter.from_bytes(data, arena_size=1 << 20)
        for s in range(3):
            it.reset()
            it.set_input(xs[0][s], 0)
            it.invoke()
            assert np.array_equal(np.array(it.get_output(0)).reshape(got[s].shape), got[s]), f"model {i} sample {s}"
        stream = Interpreter(convert_tflite_bytes(data, f"s{i}")).invoke(*xs)[0]
        differs += not np.array_equal(stream[1:], got[1:])
    assert differs >= 8, "the stateful stream must differ from fresh starts"
