"""A stand-in for the parts of timm 0.6.12 that the released CAMD pre-training imports (see README.md)."""
__version__ = '0.6.12'
from . import data, models, optim  # noqa: E402,F401
