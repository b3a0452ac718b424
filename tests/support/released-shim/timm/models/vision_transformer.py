"""Only the base class the released models_vit.py subclasses for fine-tuning; pre-training never builds it."""
from torch import nn


class VisionTransformer(nn.Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('timm.models.vision_transformer.VisionTransformer is a stand-in (tests/support/released-shim): pre-training only')
