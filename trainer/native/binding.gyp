{
  "variables": { "with_blas%": "1" },
  "targets": [
    {
      "target_name": "camd_ops",
      "sources": ["src/camd_ops.c"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp", "-ffp-contract=off"],
      "ldflags": ["-fopenmp"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-ffp-contract=off"] }
    }
  ],
  "conditions": [
    ["with_blas==1", {
      "targets": [
        {
          "target_name": "camd_blas",
          "sources": ["src/camd_blas.c"],
          "libraries": ["-lopenblas", "-fopenmp"],
          "include_dirs": ["/usr/include/openblas", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"],
          "cflags": ["-O2", "-fopenmp"]
        }
      ]
    }]
  ]
}
