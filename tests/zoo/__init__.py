"""The model zoo of the tests: real architectures as compact fixtures (see synth.py, data.py)."""
