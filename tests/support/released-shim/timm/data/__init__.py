from . import constants  # noqa: F401


def create_transform(*args, **kwargs):
    raise NotImplementedError('timm.data.create_transform is a stand-in (tests/support/released-shim): fine-tuning only')
