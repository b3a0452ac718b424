/**
 * How long a pre-training run will take, from a short measured warm-up on the chosen backend:
 * `camd selftest` runs three real CAMD training steps of the chosen preset, image size, mask ratio
 * and batch (in a child process, as training will), and the median of the steps after the first
 * (which compiles kernels) times the steps of an epoch gives the time per epoch.
 */
import { CamdError, PRETRAIN_DEFAULTS } from 'camd-studio/trainer';
import type { z } from 'zod';
import type { Estimate, PretrainSettings } from '../common/contract.js';
import { failureLine, type CamdCommand } from './camd-command.js';

export async function estimatePretrain(
  camd: CamdCommand,
  images: number,
  s: z.infer<typeof PretrainSettings>,
): Promise<z.infer<typeof Estimate>> {
  const batch = s.batch ?? PRETRAIN_DEFAULTS.batch;
  if (images < batch)
    throw new CamdError(
      'input',
      `the dataset has ${images} readable image(s), fewer than the batch size ${batch}`,
      'batch',
    );
  const args = [
    'selftest',
    '--json',
    '--steps',
    '3',
    '--preset',
    s.preset ?? PRETRAIN_DEFAULTS.preset,
    '--batch',
    String(batch),
    '--backend',
    s.backend ?? 'auto',
    '--threads',
    String(s.threads ?? 'auto'),
  ];
  if (s.imgSize !== undefined) args.push('--img-size', String(s.imgSize));
  if (s.maskRatio !== undefined) args.push('--mask-ratio', String(s.maskRatio));
  if (s.recompute !== undefined) args.push('--recompute', s.recompute);
  const res = await camd(args, { timeoutMs: 600_000, maxBuffer: 4 << 20 });
  if (res.code !== 0) throw new CamdError('input', failureLine(res), 'backend');
  const r = JSON.parse(res.stdout) as { backend: string; steps: { ms: number }[] };
  const later = r.steps
    .slice(1)
    .map((x) => x.ms)
    .sort((a, b) => a - b);
  const stepSeconds = later[Math.floor(later.length / 2)]! / 1000;
  const stepsPerEpoch = Math.floor(images / batch);
  const totalSteps = s.steps ?? Math.max(1, Math.round((s.epochs ?? PRETRAIN_DEFAULTS.epochs) * stepsPerEpoch));
  return {
    backend: r.backend,
    batch,
    stepSeconds,
    imagesPerSecond: batch / stepSeconds,
    stepsPerEpoch,
    epochSeconds: stepSeconds * stepsPerEpoch,
    totalSteps,
    totalSeconds: stepSeconds * totalSteps,
    measuredSteps: r.steps.length,
  };
}
