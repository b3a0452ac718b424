/**
 * `camd info`: every rung of the backend ladder, whether it loaded, why not, and versions.
 * JSON form: an object keyed by backend name ("tensorflow", "webgpu", "wasm", "cpu").
 */
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, probeAll, type BackendName, type RungReport } from '../backends/ladder.js';
import type { CudaDiagnosis } from '../backends/cuda-diagnose.js';
import type { WebGpuDiagnosis } from '../backends/webgpu-diagnose.js';

export interface BackendInfo {
  loaded: boolean;
  /** The backend `--backend auto` picks on this machine. */
  selectedByAuto: boolean;
  /** Why it is not available (null when loaded and fully usable). */
  reason: string | null;
  /** tfjs-core version the backend runs under. */
  tfjsVersion: string;
  /** One entry per npm package that provides this backend (tensorflow: tfjs-node-gpu, then tfjs-node). */
  packages: Omit<RungReport, 'backend'>[];
}

export type InfoJson = Record<BackendName, BackendInfo>;

export async function collectInfo(): Promise<InfoJson> {
  const { reports, auto } = await probeAll();
  const out = {} as InfoJson;
  for (const name of BACKEND_NAMES) {
    const rs = reports.filter((r) => r.backend === name);
    const loaded = rs.some((r) => r.loaded);
    out[name] = {
      loaded,
      selectedByAuto: auto === name,
      reason: loaded
        ? (rs.find((r) => r.loaded)?.reason ?? null)
        : rs.map((r) => `${r.package}: ${r.reason}`).join('; '),
      tfjsVersion: tf.version_core,
      packages: rs.map(({ backend: _b, ...rest }) => rest),
    };
  }
  return out;
}

export function formatInfo(info: InfoJson): string {
  const lines: string[] = [];
  lines.push(
    `CAMD backend ladder (TensorFlow.js ${tf.version_core}, Node ${process.versions.node}, ${process.platform}-${process.arch})`,
  );
  lines.push('');
  let rung = 1;
  for (const name of BACKEND_NAMES) {
    const b = info[name];
    for (const p of b.packages) {
      const mark = p.loaded ? 'loaded' : 'not available';
      const pick = b.selectedByAuto && p.loaded ? '   <- auto' : '';
      lines.push(`${rung}. ${name.padEnd(10)} ${p.package}${p.version ? `@${p.version}` : ''}: ${mark}${pick}`);
      if (p.reason) lines.push(`   why: ${p.reason}`);
      const details = Object.entries(p.details).filter(([k]) => k !== 'cuda' && k !== 'webgpu');
      if (p.loaded && details.length)
        lines.push(`   ${details.map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('; ')}`);
      const cuda = p.details['cuda'] as CudaDiagnosis | undefined;
      if (cuda && !cuda.usable) {
        const found = Object.entries(cuda.found).filter(([, v]) => v !== null);
        lines.push('   CUDA check:');
        lines.push(...cuda.problems.map((s) => `     problem: ${s}`));
        lines.push(...cuda.fixes.map((s) => `     fix: ${s}`));
        lines.push(...cuda.warnings.map((s) => `     note: ${s}`));
        if (found.length) lines.push(`     found: ${found.map(([k, v]) => `${k} = ${v}`).join('; ')}`);
      }
      const wg = p.details['webgpu'] as WebGpuDiagnosis | undefined;
      if (wg) {
        lines.push('   WebGPU check:');
        lines.push(...wg.problems.map((s) => `     problem: ${s}`));
        lines.push(...wg.fixes.map((s) => `     fix: ${s}`));
      }
      rung++;
    }
  }
  const auto = BACKEND_NAMES.find((n) => info[n].selectedByAuto);
  lines.push('');
  lines.push(auto ? `--backend auto uses: ${auto}` : 'no backend could be loaded');
  return lines.join('\n');
}
