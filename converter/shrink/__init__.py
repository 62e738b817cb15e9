"""Making models smaller, on the float graph before calibration and on the quantized graph after.

- ``transforms.py``: what ``convert --prune/--cluster`` asks for, applied in order to the folded float graph;
- ``structured.py``: structured pruning (whole output channels: fewer MACs, weights and activations);
- ``unstructured.py``: unstructured magnitude pruning (zeroed weights: smaller with --compress);
- ``cluster.py``: k-means weight sharing (at most N values per layer: a palette);
- ``bias_correction.py``: the weighted operators of a graph and the bias correction of a weight change;
- ``refit.py``: least-squares refits of a layer's weights to the original layer's outputs;
- ``compress.py``: lossless weight encodings (Huffman, palette) chosen on the quantized graph.
"""
