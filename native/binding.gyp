{
  "variables": {
    "common_cflags": ["-std=c++17", "-O3", "-fPIC", "-fno-trapping-math", "-fno-math-errno", "-fopenmp", "-fexceptions"],
    "gemm_cflags": ["-std=c++17", "-O3", "-fPIC", "-ffp-contract=fast", "-fopenmp"],
    "mac_cflags": ["-std=c++17", "-O3", "-fno-trapping-math", "-fno-math-errno"]
  },
  "targets": [
    {
      "target_name": "morelora_native",
      "sources": ["src/addon.cc"],
      "dependencies": ["gemm_portable"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node detect-blas.cjs include_dirs)"
      ],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "<!@(node detect-blas.cjs defines)"],
      "libraries": ["<!@(node detect-blas.cjs libraries)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["<@(common_cflags)", "<!@(node cpu-flags.cjs)"],
      "ldflags": ["-fopenmp"],
      "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(mac_cflags)"], "GCC_ENABLE_CPP_EXCEPTIONS": "YES"},
      "conditions": [
        ["target_arch=='x64'", {"dependencies": ["gemm_avx2", "gemm_avx512"]}],
        ["target_arch=='arm64'", {"dependencies": ["gemm_neon"]}]
      ]
    },
    {
      "target_name": "gemm_portable",
      "type": "static_library",
      "sources": ["src/gemm_portable.cc"],
      "cflags_cc": ["<@(gemm_cflags)"],
      "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(mac_cflags)"]}
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "gemm_avx2",
          "type": "static_library",
          "sources": ["src/gemm_avx2.cc"],
          "cflags_cc": ["<@(gemm_cflags)", "-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(mac_cflags)", "-mavx2", "-mfma"]}
        },
        {
          "target_name": "gemm_avx512",
          "type": "static_library",
          "sources": ["src/gemm_avx512.cc"],
          "cflags_cc": ["<@(gemm_cflags)", "-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(mac_cflags)", "-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"]}
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "gemm_neon",
          "type": "static_library",
          "sources": ["src/gemm_neon.cc"],
          "cflags_cc": ["<@(gemm_cflags)"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["<@(mac_cflags)"]}
        }
      ]
    }]
  ]
}
