/**
 * timm `param_groups_weight_decay`: no decay for parameters with ndim ≤ 1 or names ending in
 * `.bias`; everything else is decayed, including cls_token and mask_token (§4). Apart from the
 * optimiser (no TensorFlow.js) so that the released-layout mapping can use it too.
 */
export function decays(name: string, shape: readonly number[]): boolean {
  return !(shape.length <= 1 || name.endsWith('.bias'));
}
