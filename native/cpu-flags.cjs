// Prints the CPU flags of the addon's kernels other than the GEMM for binding.gyp: tuned to the
// building machine, since npm builds the addon where it runs. MORELORA_PORTABLE=1 builds for any
// CPU of the architecture instead (an image built on one machine and run on others); the GEMM
// picks its kernels at run time either way (docs/performance.md).
console.log(process.env.MORELORA_PORTABLE === "1" || process.platform === "darwin" ? "" : "-march=native");
