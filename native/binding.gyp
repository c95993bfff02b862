{
  "targets": [
    {
      "target_name": "morelora_native",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node detect-blas.cjs include_dirs)"
      ],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "<!@(node detect-blas.cjs defines)"],
      "libraries": ["<!@(node detect-blas.cjs libraries)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-trapping-math", "-fno-math-errno", "-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"]
    }
  ]
}
