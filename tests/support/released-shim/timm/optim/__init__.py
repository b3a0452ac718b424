from . import optim_factory  # noqa: F401


def create_optimizer(*args, **kwargs):
    raise NotImplementedError('timm.optim.create_optimizer is a stand-in (tests/support/released-shim): the pre-training builds AdamW itself')
