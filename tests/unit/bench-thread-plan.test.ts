// The pure parts of the fair PyTorch comparison (npm run bench -- --compare-torch): which thread
// settings each side tries, which one is kept, how the CPU and PyTorch's BLAS are named, the
// released flags as an argument vector, and the OpenBLAS settings set aside for both sides. No benchmark runs here.
import { describe, expect, it } from 'vitest';
import { fastest, ourSettings, referenceSettings, sweepPoint } from '../../trainer/src/bench/thread-plan.js';
import { cpuModelOf, describeTorchBlas } from '../../trainer/src/bench/machine-info.js';
import { releasedArgv } from '../../trainer/src/interop/released-args.js';
import { setAsideKernelChoice } from '../../trainer/src/bench/blas-env.js';

const pairs = (s: { threads: number; blas: number | null }[]) => s.map((x) => `${x.threads}×${x.blas}`);

describe('thread settings tried', () => {
  it('PyTorch with OpenBLAS apart: every (T, B) with T·B within the cores, each costing T·B cores', () => {
    expect(pairs(referenceSettings(2, true))).toEqual(['1×1', '1×2', '2×1']);
    const four = referenceSettings(4, true);
    expect(pairs(four)).toEqual(['1×1', '1×2', '1×3', '1×4', '2×1', '2×2', '3×1', '4×1']);
    expect(four.every((s) => s.cores === s.threads * s.blas! && s.cores <= 4)).toBe(true);
    // 2 torch threads × 2 OpenBLAS threads on 2 cores (the unfair setting) is never tried
    expect(pairs(referenceSettings(2, true))).not.toContain('2×2');
  });

  it('PyTorch whose BLAS follows torch (MKL): every T, no BLAS count', () => {
    expect(pairs(referenceSettings(3, false))).toEqual(['1×null', '2×null', '3×null']);
  });

  it('ours: OpenBLAS 1..cores beside the fixed wasm threads, which run one after the other', () => {
    expect(ourSettings(2, 1, true)).toEqual([
      { threads: 1, blas: 1, cores: 1 },
      { threads: 1, blas: 2, cores: 2 },
    ]);
    expect(ourSettings(2, 2, true).map((s) => s.cores)).toEqual([2, 2]);
    expect(ourSettings(4, 2, false)).toEqual([{ threads: 2, blas: null, cores: 2 }]);
    expect(() => ourSettings(0, 1, true)).toThrow(/positive integer/);
    expect(() => referenceSettings(1.5, true)).toThrow(/positive integer/);
  });
});

describe('the fastest setting', () => {
  const at = (threads: number, blas: number, times: number[]) =>
    sweepPoint({ threads, blas, cores: threads * blas }, `torch ${threads} × OpenBLAS ${blas}`, times);

  it('takes the lowest median within the core budget, the fewer cores on a tie', () => {
    const pts = [
      at(1, 1, [0.54, 0.6, 0.55]),
      at(1, 2, [0.44, 0.42, 0.43]),
      at(2, 1, [0.43, 0.43, 0.5]),
      at(2, 2, [0.2]),
    ];
    expect(pts[1]!.step_s).toBe(0.43);
    // 2×2 is fastest but needs 4 cores: not within 2
    expect(fastest(pts, 2)!.label).toBe('torch 1 × OpenBLAS 2');
    expect(fastest(pts, 4)!.label).toBe('torch 2 × OpenBLAS 2');
    expect(fastest(pts, 1)!.label).toBe('torch 1 × OpenBLAS 1');
    const tie = [at(2, 1, [0.5]), at(1, 1, [0.5])];
    expect(fastest(tie, 2)!.cores).toBe(1);
    expect(fastest([at(2, 2, [0.1])], 2)).toBeNull();
    expect(() => at(1, 1, [])).toThrow(/at least one/);
  });
});

describe('machine and BLAS description', () => {
  it('names the CPU from /proc/cpuinfo, else the fallback', () => {
    const x86 =
      'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n';
    expect(cpuModelOf(x86, 'os')).toBe('AMD EPYC 7B13');
    expect(cpuModelOf('processor\t: 0\nHardware\t: BCM2835\n', 'os')).toBe('BCM2835');
    expect(cpuModelOf('processor\t: 0\nCPU implementer\t: 0x41\n', 'Neoverse-N1')).toBe('Neoverse-N1');
    expect(cpuModelOf(null, 'unknown')).toBe('unknown');
  });

  it("reads PyTorch's BLAS: Debian's generic build on OpenBLAS, a pip MKL build, others", () => {
    const debian = describeTorchBlas({
      config: '  - Build settings: BLAS_INFO=generic, BUILD_TYPE=RelWithDebInfo, LAPACK_INFO=generic,',
      blas_libs: [
        '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
        '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
      ],
      openblas: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
    });
    expect(debian).toMatchObject({ name: 'OpenBLAS', blas_info: 'generic', separate_threads: true });
    const mkl = describeTorchBlas({
      config:
        '  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605\n  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release,',
      blas_libs: [],
      openblas: null,
    });
    expect(mkl).toEqual({ name: 'MKL', blas_info: 'mkl', libraries: [], separate_threads: false });
    // OpenBLAS linked in statically, its thread call not reachable: named, but no knob of its own
    expect(describeTorchBlas({ config: 'BLAS_INFO=open, X=1', blas_libs: [], openblas: null })).toMatchObject({
      name: 'OpenBLAS',
      separate_threads: false,
    });
    expect(
      describeTorchBlas({ config: 'BLAS_INFO=generic,', blas_libs: ['/usr/lib/libblis.so.4'], openblas: null }).name,
    ).toBe('BLIS');
    expect(describeTorchBlas({ config: '', blas_libs: [], openblas: null }).name).toBe('unknown');
  });
});

describe('released flags as argv', () => {
  it('switches bare, lists spread, false and null left out', () => {
    expect(
      releasedArgv({
        model: 'CAMD_vit_tiny_patch16',
        input_size: 112,
        with_blockwise_mask: true,
        dis_lay: [2, 5],
        x: false,
        y: null,
      }),
    ).toEqual([
      '--model',
      'CAMD_vit_tiny_patch16',
      '--input_size',
      '112',
      '--with_blockwise_mask',
      '--dis_lay',
      '2',
      '5',
    ]);
  });
});

describe("OpenBLAS's kernel choice, alike for both sides", () => {
  it("a shell's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set aside (and named), the rest kept; --keep-openblas-env keeps them", () => {
    const env = { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512', OPENBLAS_NUM_THREADS: '2', PATH: '/bin' };
    expect(setAsideKernelChoice(env, false)).toEqual(['OPENBLAS_CORETYPE=Haswell', 'OPENBLAS_L2_SIZE=512']);
    expect(env).toEqual({ OPENBLAS_NUM_THREADS: '2', PATH: '/bin' });
    expect(setAsideKernelChoice(env, false)).toEqual([]);
    const kept = { OPENBLAS_CORETYPE: 'Haswell' };
    expect(setAsideKernelChoice(kept, true)).toEqual([]);
    expect(kept).toEqual({ OPENBLAS_CORETYPE: 'Haswell' });
  });
});
