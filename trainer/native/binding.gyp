{
  "targets": [
    {
      "target_name": "camd_blas",
      "sources": ["src/camd_blas.c"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2"]
    }
  ]
}
