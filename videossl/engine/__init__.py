"""The one trainer and the evaluation tasks.

Import the pieces from their modules (``videossl.engine.loop``,
``.run``, ``.evaluators``, ``.weights``, ``.launch``); this package imports nothing eagerly so leaf
modules (schedules, optimizers) load without the data stack.
"""
