// GCC's -fsanitize-coverage=trace-cmp also reports float and double comparisons
// (__sanitizer_cov_trace_cmpf/cmpd), which libFuzzer's engine does not take: they are
// accepted here and ignored, as clang never emits them.
extern "C" {
void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}
}
