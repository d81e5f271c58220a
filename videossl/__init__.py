"""videossl: self-supervised video representation learning in the PySlowFast tradition."""

__version__ = "0.1.0"
