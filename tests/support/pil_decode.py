"""Pillow's side of tests/integration/decode-colour.test.ts (run with Debian's python3 with PIL):

  python3 pil_decode.py make FACE OUT_DIR ADOBE_RGB_PHOTO CMYK_PROFILE
      from a real face photo, the files as Pillow writes them:
        cmyk.jpg          Image.convert('CMYK') saved as JPEG (what a CMYK export gives)
        cmyk-profile.jpg  the same with the CMYK ICC profile CMYK_PROFILE embedded
        adobe-rgb.jpg     the RGB face with the Adobe RGB (1998) profile of ADOBE_RGB_PHOTO embedded
  python3 pil_decode.py decode OUT_DIR FILE...
      OUT_DIR/<file name>.rgb: the bytes of Image.open(FILE).convert('RGB'), as the reference's
      loader reads an image; one JSON line per file: name, mode, width, height, profile (its name)
"""
import io
import json
import os
import sys

from PIL import Image, ImageCms


def profile_name(data):
    if not data:
        return None
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(data))).strip()


def make(face, out, adobe_photo, cmyk_profile):
    rgb = Image.open(face).convert('RGB')
    cmyk = rgb.convert('CMYK')
    cmyk.save(os.path.join(out, 'cmyk.jpg'), quality=95)
    with open(cmyk_profile, 'rb') as f:
        cmyk.save(os.path.join(out, 'cmyk-profile.jpg'), quality=95, icc_profile=f.read())
    adobe = Image.open(adobe_photo).info['icc_profile']
    if profile_name(adobe) != 'Adobe RGB (1998)':
        raise SystemExit(f'{adobe_photo} does not carry Adobe RGB (1998): {profile_name(adobe)}')
    rgb.save(os.path.join(out, 'adobe-rgb.jpg'), quality=95, icc_profile=adobe)


def decode(out, files):
    for file in files:
        im = Image.open(file)
        name = os.path.basename(file)
        with open(os.path.join(out, name + '.rgb'), 'wb') as f:
            f.write(im.convert('RGB').tobytes())
        info = {'name': name, 'mode': im.mode, 'width': im.width, 'height': im.height}
        print(json.dumps({**info, 'profile': profile_name(im.info.get('icc_profile'))}))


if sys.argv[1] == 'make':
    make(*sys.argv[2:6])
elif sys.argv[1] == 'decode':
    decode(sys.argv[2], sys.argv[3:])
else:
    raise SystemExit(f'unknown command {sys.argv[1]}')
