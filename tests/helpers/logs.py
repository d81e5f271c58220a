"""Capturing videossl's log messages in a test."""

import logging


class Records(logging.Handler):
    """Collects the messages (WARNING and up) of the ``videossl`` logger, which stops propagating to the
    root logger (and so to pytest's caplog) once ``setup_logging`` ran in the test process."""

    def __init__(self, level: int = logging.WARNING):
        super().__init__(level)
        self.text = ""

    def emit(self, record):
        self.text += record.getMessage() + "\n"

    def __enter__(self):
        logging.getLogger("videossl").addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("videossl").removeHandler(self)
