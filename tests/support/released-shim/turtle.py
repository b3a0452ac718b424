"""Stand-in for the standard library's turtle (it needs tkinter, which Debian's python3 lacks):
the released models_CAMD.py and CAMD_pretrain_engine.py import `update` from it and never call it."""


def update(*args, **kwargs):
    raise RuntimeError('turtle.update is a stand-in (tests/support/released-shim)')
