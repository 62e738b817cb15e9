"""fully_connected: Python kernel == C kernel, byte for byte, on random cases."""
import numpy as np

from harness import Case, T, check_cases


def random_case(rng: np.random.Generator) -> Case:
    batches = int(rng.choice([1, 1, 2, 3]))
    depth = int(rng.integers(1, 300))
    units = int(rng.integers(1, 40))
    per_channel = bool(rng.integers(0, 2))
    w = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
    ws = rng.uniform(0.001, 0.05, size=units if per_channel else 1).astype(np.float32)
    xs = float(rng.uniform(0.005, 0.1))
    # Output scale from small (lots of saturation) to large (values near the zero point).
    ys = float(xs * ws.mean() * np.sqrt(depth) * rng.choice([0.05, 0.5, 2, 20]) * 40)
    has_bias = bool(rng.integers(0, 4))
    bias = T((units,), xs * ws, 0, rng.integers(-20000, 20000, size=units).astype(np.int32), "int32") if has_bias else None
    act = [(None, None), (0.0, None), (0.0, 6.0), (-1.0, 1.0)][int(rng.integers(0, 4))]
    shape_in = (batches, depth)
    return Case(
        "fully_connected",
        [T(shape_in, xs, int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))),
         T((units, depth), ws, 0, w, axis=0), bias],
        [T((batches, units), ys, int(rng.choice([-128, 127, int(rng.integers(-128, 128))])))],
        {"act": act})


def test_fully_connected_random_cases():
    rng = np.random.default_rng(1234)
    cases = [random_case(rng) for _ in range(220)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 220
    # The cases must exercise saturation at both ends, or the test proves little.
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
