"""What Pillow and torchvision make of real faces, for the byte-for-byte checks of
tests/integration/pil-parity.test.ts (run with Debian's python3 with PIL, numpy, torchvision):

  python3 pil_reference.py IN_DIR OUT_DIR

For every IN_DIR/*.png (real faces, written losslessly by the test):
  eval/<stem>-<S>.raw   the evaluation transform of the released build_transform(is_train=False) before
                        ToTensor: Resize(int(S / crop_pct), bicubic) then CenterCrop(S), crop_pct 224/256
                        up to 224 px and 1.0 above — for S in 112, 224, 256
and for the *-op.png faces (112 x 112):
  ops/<stem>-<name>.raw the colour ops as timm's RandAugment runs them (ImageEnhance at factor
                        1 +/- 0.9 m/10, ImageOps) and torchvision's ColorJitter / RandomGrayscale on PIL
                        images (adjust_brightness / contrast / saturation / hue, rgb_to_grayscale)
Writes OUT_DIR/ops.json, the list of (name, kind, parameter) the ops were made with."""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
import torchvision.transforms as T
import torchvision.transforms.functional as F

src, out = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, 'eval'), exist_ok=True)
os.makedirs(os.path.join(out, 'ops'), exist_ok=True)


def eval_transform(S):
    crop_pct = 224 / 256 if S <= 224 else 1.0
    return T.Compose([T.Resize(int(S / crop_pct), interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(S)])


def enhance_factor(m, sign):
    # timm's _enhance_increasing_level_to_arg: (level / 10) * .9, randomly negated, plus 1
    level = (m / 10.) * .9
    return 1.0 + (level if sign > 0 else -level)


OPS = []
for m, sign in [(3, 1), (6.3, -1), (9, 1), (9, -1), (10, 1), (10, -1)]:
    f = enhance_factor(m, sign)
    for kind in ['Brightness', 'Contrast', 'Color', 'Sharpness']:
        OPS.append(('%s-%s-%g' % (kind, '+' if sign > 0 else '-', m), kind, [m, sign], lambda im, kind=kind, f=f: getattr(ImageEnhance, kind)(im).enhance(f)))
OPS.append(('AutoContrast', 'AutoContrast', [0, 1], ImageOps.autocontrast))
OPS.append(('Equalize', 'Equalize', [0, 1], ImageOps.equalize))
OPS.append(('Invert', 'Invert', [0, 1], ImageOps.invert))
for f in [0.6, 0.93, 1.4]:
    OPS.append(('jitter-brightness-%g' % f, 'jitter-brightness', f, lambda im, f=f: F.adjust_brightness(im, f)))
    OPS.append(('jitter-contrast-%g' % f, 'jitter-contrast', f, lambda im, f=f: F.adjust_contrast(im, f)))
for f in [0.8, 1.07, 1.2]:
    OPS.append(('jitter-saturation-%g' % f, 'jitter-saturation', f, lambda im, f=f: F.adjust_saturation(im, f)))
for f in [-0.1, -0.037, 0.02, 0.0999]:
    OPS.append(('jitter-hue-%g' % f, 'jitter-hue', f, lambda im, f=f: F.adjust_hue(im, f)))
OPS.append(('grey', 'grey', 0, lambda im: F.rgb_to_grayscale(im, num_output_channels=3)))

for name in sorted(os.listdir(src)):
    if not name.endswith('.png'):
        continue
    stem = name[:-4]
    im = Image.open(os.path.join(src, name)).convert('RGB')
    for S in (112, 224, 256):
        np.asarray(eval_transform(S)(im), dtype=np.uint8).tofile(os.path.join(out, 'eval', '%s-%d.raw' % (stem, S)))
    if stem.endswith('-op'):
        for op_name, _, _, fn in OPS:
            np.asarray(fn(im).convert('RGB'), dtype=np.uint8).tofile(os.path.join(out, 'ops', '%s-%s.raw' % (stem, op_name)))

with open(os.path.join(out, 'ops.json'), 'w') as f:
    json.dump([[n, k, p] for n, k, p, _ in OPS], f)
print('ok')
