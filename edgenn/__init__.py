"""edgenn: neural networks to bit-exact int8 C for microcontrollers and ARM boards."""
__version__ = "0.1.0"
