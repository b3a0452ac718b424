/**
 * A head's axes drawn over its photo, as the head-pose literature draws them (Hopenet's and
 * 6DRepNet's draw_axis): from the face's centre, the head's x axis (red, towards the image's right
 * for a frontal face), y axis (green, downwards) and z axis (blue, out of the face, towards the
 * viewer's side the nose points to), each `size` pixels long, from yaw, pitch and roll in degrees in
 * 300W-LP's convention (positive yaw: the nose to the image's left; positive pitch: the face raised;
 * positive roll: the top of the head to the image's right).
 */
export interface Axes {
  x: [number, number];
  y: [number, number];
  z: [number, number];
}

export function poseAxes(
  pose: { yaw: number; pitch: number; roll: number },
  centre: [number, number],
  size: number,
): Axes {
  const p = (pose.pitch * Math.PI) / 180;
  const y = (-pose.yaw * Math.PI) / 180;
  const r = (pose.roll * Math.PI) / 180;
  const [cx, cy] = centre;
  return {
    x: [
      cx + size * Math.cos(y) * Math.cos(r),
      cy + size * (Math.cos(p) * Math.sin(r) + Math.cos(r) * Math.sin(p) * Math.sin(y)),
    ],
    y: [
      cx - size * Math.cos(y) * Math.sin(r),
      cy + size * (Math.cos(p) * Math.cos(r) - Math.sin(p) * Math.sin(y) * Math.sin(r)),
    ],
    z: [cx + size * Math.sin(y), cy - size * Math.cos(y) * Math.sin(p)],
  };
}
