"""The .enn file format: the FlatBuffers schema (schema/), the reader and writer (enn.py), the
weight codecs (weight_codecs.py) and the list of operators a file can hold (operators.py).

The converter writes .enn files; runtime_py and codegen read them. This package depends on
neither of them.
"""
