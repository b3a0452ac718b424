"""A stand-in for the released models_CAMD.py's interface (see CAMD_pretrain.py beside it): CAMDViT
keeps its keyword arguments (img_size defaults to 224 as released), forward_CAMD returns four values
as released, LayerNorm is importable from it, and the released model functions exist by name."""
import functools


class LayerNorm:
    def __init__(self, dim, eps=1e-5):
        self.dim, self.eps = dim, eps


class CAMDViT:
    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=1024, depth=24, num_heads=16, decoder_embed_dim=512, decoder_depth=8,
                 decoder_num_heads=16, mlp_ratio=4., norm_layer=LayerNorm, norm_pix_loss=False, args=None):
        self.kwargs = dict(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim, depth=depth, num_heads=num_heads,
                           decoder_num_heads=decoder_num_heads, mlp_ratio=mlp_ratio, norm_eps=norm_layer(8).eps)

    def forward_CAMD(self, x1, x2, rel_pos_21, mm, update_mm, mask=None):
        return 1.0, 0.5, 0.25, {'loss_CAMD': 1.0}


def CAMD_vit_base_patch16_dec512d8b(**kwargs):
    return CAMDViT(patch_size=16, embed_dim=768, depth=12, num_heads=12, decoder_num_heads=16, mlp_ratio=4, norm_layer=functools.partial(LayerNorm, eps=1e-6), **kwargs)


def CAMD_vit_large_patch16_dec512d8b(**kwargs):
    return CAMDViT(patch_size=16, embed_dim=1024, depth=24, num_heads=16, decoder_num_heads=16, mlp_ratio=4, norm_layer=functools.partial(LayerNorm, eps=1e-6), **kwargs)


CAMD_vit_base_patch16 = CAMD_vit_base_patch16_dec512d8b
CAMD_vit_large_patch16 = CAMD_vit_large_patch16_dec512d8b
