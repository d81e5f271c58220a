"""Readers of the official file lists of each dataset; each returns ``list[VideoRecord]``."""

from .hmdb51 import read_hmdb51
from .kinetics import read_kinetics_csv
from .ssv2 import read_ssv2
from .ucf101 import read_ucf101, ucf101_group

__all__ = ["read_kinetics_csv", "read_ucf101", "read_hmdb51", "read_ssv2", "ucf101_group"]
