"""Readers of the official file lists of each dataset; each returns ``list[VideoRecord]``."""

from .kinetics import read_kinetics_csv

__all__ = ["read_kinetics_csv"]
