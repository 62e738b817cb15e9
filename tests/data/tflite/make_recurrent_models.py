"""Build the recurrent .tflite fixtures of this folder with the real TensorFlow Lite converter.

Keras 3 (TensorFlow 2.21's default) lowers an LSTM layer to a WHILE loop; the converter fuses the
Keras 2 LSTM layer into UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's LSTM kernel. So this script uses the
tf-keras package (Keras 2) and must run in its own process (TF_USE_LEGACY_KERAS is read when
TensorFlow is imported):

    /tmp/tfvenv/bin/pip install tensorflow tf-keras==2.21.0 numpy
    /tmp/tfvenv/bin/python tests/data/tflite/make_recurrent_models.py

Each model uses fixed seeds, is trained for a few epochs on synthetic sequences with a learnable
signal, and is converted to full int8 (representative dataset, TFLITE_BUILTINS_INT8, int8 input and
output). README.md lists what each file contains.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

layers = keras.layers
HERE = Path(__file__).resolve().parent


def sequences(rng: np.random.Generator, n: int, steps: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sine sequences whose class is the frequency band (3 classes)."""
    y = rng.integers(0, 3, n)
    t = np.arange(steps, dtype=np.float32)
    freq = (0.2 + 0.35 * y)[:, None, None] * (1 + 0.1 * rng.normal(size=(n, 1, features)))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, features))
    x = np.sin(freq * t[None, :, None] + phase) + 0.3 * rng.normal(size=(n, steps, features))
    return x.astype(np.float32), y


def convert(model, rep: np.ndarray) -> bytes:
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]

    def gen():
        for i in range(len(rep)):
            yield [rep[i:i + 1]]
    c.representative_dataset = gen
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    return c.convert()


def make_lstm(s: int = 21) -> bytes:
    """Two stacked Keras LSTM layers (not unrolled), the last step's output, a Dense softmax."""
    keras.utils.set_random_seed(s)
    x, y = sequences(np.random.default_rng(s), 512, 10, 6)
    inp = keras.Input((10, 6), batch_size=1, name="sequence")
    t = layers.LSTM(12, return_sequences=True)(inp)
    t = layers.LSTM(8)(t)
    out = layers.Dense(3, activation="softmax")(t)
    m = keras.Model(inp, out)
    m.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    m.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    return convert(m, x[:100])


MODELS = {"lstm_int8.tflite": make_lstm}


def main(names: list[str]) -> None:
    print(f"TensorFlow {tf.__version__}, tf-keras {keras.__version__}, numpy {np.__version__}")
    for name in names or MODELS:
        data = MODELS[name]()
        (HERE / name).write_bytes(data)
        ops = [d["op_name"] for d in tf.lite.Interpreter(model_content=data)._get_ops_details()]
        print(f"{name}: {len(data)} bytes: {' '.join(ops)}")


if __name__ == "__main__":
    main(sys.argv[1:])
